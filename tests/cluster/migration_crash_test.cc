// Bucket migration under crashes (issue 5), real processes: kill -9 a source data
// server or the config server in the middle of a join and restart it (the migration
// completes, 0 acknowledged writes lost); a bucket moved A -> B -> A keeps the writes
// made after its return through A's cleanup (triggered with the cleanup RPC); after a
// join and a cleanup run (`tessera cleanup`) the old owners' db bytes fell by at least
// 95 % of the moved buckets' share.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/bucket_hash.h"
#include "tessera/client.h"
#include "tests/cluster/acked_writers.h"
#include "tests/cluster/local_cluster.h"

namespace tessera::testing {
namespace {

namespace cl = tessera::client;
using std::chrono::seconds;

class MigrationCrashTest : public ::testing::Test {
 protected:
  void StartCluster(const std::vector<std::string>& flags) {
    ClusterSpec spec;
    spec.bucket_count = 64;
    spec.data_server_flags = flags;
    Status s = cluster_.Start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(cluster_.OpenClient(60, &client_).ok());
  }

  // Waits until the running migration has some buckets done but not all.
  bool WaitMidMigration(std::chrono::seconds timeout) {
    return LocalCluster::WaitFor(
        [&] {
          proto::MigrationStatusResponse st;
          return cluster_.MigrationStatus(&st).ok() && st.migrating() && st.buckets_done() > 0 &&
                 st.buckets_done() < st.buckets_total();
        },
        timeout);
  }

  // A data server outside cluster.conf, heard by the config server.
  std::string StartExtraNode() {
    std::string node;
    Status s = cluster_.StartExtraDataServerAndWait(&node);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return node;
  }

  // ~4 MB over 3 nodes; the join moves about a quarter of it at 128 KiB/s per
  // source, so the migration takes a few seconds.
  void Preload() {
    const std::string value(1000, 'p');
    for (int i = 0; i < kPreload; ++i) {
      ASSERT_TRUE(client_->Put("pre-" + std::to_string(i), value + std::to_string(i)).ok());
    }
  }
  void CheckPreload() {
    for (int i = 0; i < kPreload; ++i) {
      cl::Value v;
      ASSERT_TRUE(client_->Get("pre-" + std::to_string(i), &v).ok()) << i;
      ASSERT_EQ(v.data, std::string(1000, 'p') + std::to_string(i));
    }
  }

  static constexpr int kPreload = 4000;
  // Every scan batch is ingested into tables (the ~62 KB batches here are under the
  // default minimum): kill -9 and A -> B -> A run against that path too.
  const std::vector<std::string> kThrottled = {"--migrate_bytes_per_sec=131072",
                                               "--cleanup_pause_ms=0",
                                               "--migrate_ingest_min_bytes=0"};
  LocalCluster cluster_;
  std::unique_ptr<cl::Client> client_;
};

TEST_F(MigrationCrashTest, SourceKilledMidMigrationLosesNoAcknowledgedWrite) {
  StartCluster(kThrottled);
  Preload();
  AckedWriters writers(client_.get(), /*threads=*/3, /*keys_per_thread=*/200);
  const std::string node = StartExtraNode();
  ASSERT_TRUE(cluster_.Admin(node, "").ok());
  // Mid-migration, the source of a bucket in flight.
  int victim = -1;
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        proto::MigrationStatusResponse st;
        proto::Table t;
        if (!cluster_.MigrationStatus(&st).ok() || !st.migrating() || st.buckets_done() == 0 ||
            st.buckets_done() >= st.buckets_total() || st.in_flight_size() == 0 ||
            !cluster_.GetTable(&t).ok()) {
          return false;
        }
        const uint32_t b = st.in_flight(0).bucket();
        if (b >= t.bucket_count()) return false;
        const std::string source = t.servers(t.owners(b)).address();
        for (int i = 0; i < 3; ++i) {
          if (cluster_.data_server(i) == source) victim = i;
        }
        return victim >= 0;
      },
      seconds(20)))
      << cluster_.Logs();
  cluster_.KillDataServer(victim, 9);
  ASSERT_TRUE(cluster_.RestartDataServer(victim).ok()) << cluster_.Logs();
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(40))) << cluster_.Logs();
  writers.Stop();
  EXPECT_GT(writers.acked(), 100u);
  std::string error;
  EXPECT_EQ(writers.Check(client_.get(), &error), 0) << error;
  CheckPreload();
}

TEST_F(MigrationCrashTest, ConfigServerKilledMidMigrationLosesNoAcknowledgedWrite) {
  StartCluster(kThrottled);
  Preload();
  AckedWriters writers(client_.get(), /*threads=*/3, /*keys_per_thread=*/200);
  const std::string node = StartExtraNode();
  ASSERT_TRUE(cluster_.Admin(node, "").ok());
  ASSERT_TRUE(WaitMidMigration(seconds(20))) << cluster_.Logs();
  cluster_.KillConfigServer(9);
  ASSERT_TRUE(cluster_.RestartConfigServer().ok()) << cluster_.Logs();
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(40))) << cluster_.Logs();
  writers.Stop();
  EXPECT_GT(writers.acked(), 100u);
  std::string error;
  EXPECT_EQ(writers.Check(client_.get(), &error), 0) << error;
  CheckPreload();
  proto::Table t;
  ASSERT_TRUE(cluster_.GetTable(&t).ok());
  int on_new = 0;
  for (uint32_t b = 0; b < t.bucket_count(); ++b) {
    on_new += t.servers(t.owners(b)).address() == node ? 1 : 0;
  }
  EXPECT_GE(on_new, 15);
}

TEST_F(MigrationCrashTest, BucketMovedAwayAndBackKeepsNewWritesThroughCleanup) {
  // The way out is ingested into tables; on the way back A's memtable still holds the
  // bucket's reclaimed keys, so IngestSorted refuses and A takes the write path (both
  // seen in the data servers' logs).
  StartCluster({"--cleanup_pause_ms=0", "--migrate_ingest_min_bytes=0"});
  proto::Table t;
  ASSERT_TRUE(cluster_.GetTable(&t).ok());
  const std::string a = cluster_.data_server(0);
  const std::string b = cluster_.data_server(1);
  uint32_t bucket = t.bucket_count();
  for (uint32_t i = 0; i < t.bucket_count(); ++i) {
    if (t.servers(t.owners(i)).address() == a) {
      bucket = i;
      break;
    }
  }
  ASSERT_LT(bucket, t.bucket_count());
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 300; ++i) {
    std::string k = "ab-" + std::to_string(i);
    if (BucketOf(k, t.bucket_count()) == bucket) keys.push_back(k);
  }
  for (const std::string& k : keys) ASSERT_TRUE(client_->Put(k, "before-" + k).ok());

  auto master_is = [&](const std::string& addr) {
    proto::Table now;
    return cluster_.GetTable(&now).ok() && now.destination_owners_size() == 0 &&
           now.servers(now.owners(bucket)).address() == addr;
  };
  ASSERT_TRUE(cluster_.MoveBucket(bucket, b).ok());
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return master_is(b); }, seconds(20))) << cluster_.Logs();
  for (size_t i = 0; i < keys.size(); i += 2) {
    ASSERT_TRUE(client_->Put(keys[i], "atb-" + keys[i]).ok());
  }
  ASSERT_TRUE(cluster_.MoveBucket(bucket, a).ok());
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return master_is(a); }, seconds(20))) << cluster_.Logs();
  // Writes after the return: every third key rewritten, and new keys.
  std::map<std::string, std::string> expect;
  for (size_t i = 0; i < keys.size(); ++i) {
    expect[keys[i]] = (i % 2 == 0 ? "atb-" : "before-") + keys[i];
    if (i % 3 == 0) {
      ASSERT_TRUE(client_->Put(keys[i], "back-" + keys[i]).ok());
      expect[keys[i]] = "back-" + keys[i];
    }
  }
  for (int i = 0; i < 100; ++i) {
    std::string k = "ab-new-" + std::to_string(i);
    ASSERT_TRUE(client_->Put(k, "new-" + k).ok());
    expect[k] = "new-" + k;
  }

  // Cleanup of the bucket on A now, then everything still reads back.
  proto::Request req;
  req.mutable_cleanup()->mutable_run()->add_buckets(bucket);
  proto::Response resp;
  ASSERT_TRUE(cluster_.Call(a, &req, &resp).ok());
  ASSERT_EQ(resp.code(), proto::OK) << resp.message();
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        proto::Request st;
        st.mutable_cleanup()->set_status(true);
        proto::Response r;
        if (!cluster_.Call(a, &st, &r).ok() || r.code() != proto::OK) return false;
        if (r.cleanup().pending() != 0) return false;
        for (const proto::CleanupBucket& cb : r.cleanup().buckets()) {
          if (cb.bucket() == bucket) return cb.state() == "done";
        }
        return false;
      },
      seconds(20)));
  for (const auto& [k, v] : expect) {
    cl::Value got;
    ASSERT_TRUE(client_->Get(k, &got).ok()) << k;
    EXPECT_EQ(got.data, v) << k;
  }
}

#ifdef TESSERA_CLI_BIN
// Join with cleanup paused (tessera cleanup pause), then resume + `cleanup run
// --wait`: every old owner's db bytes (table files) fell by >= 95 % of the share of
// its keys that moved (incompressible values, no writes after the load, so nothing
// is flushed meanwhile and the share of the files is the share of the keys).
TEST_F(MigrationCrashTest, JoinThenCleanupFreesTheMovedShare) {
  StartCluster({"--cleanup_pause_ms=0", "--write_buffer_bytes=4194304"});
  const std::string cs = "--config_servers=" + cluster_.config_server();
  proto::Table before;
  ASSERT_TRUE(cluster_.GetTable(&before).ok());
  // ~8 MB per node.
  constexpr int kKeys = 12000;
  std::mt19937 rng(11);
  std::string value(2000, ' ');
  for (int i = 0; i < kKeys; ++i) {
    for (char& c : value) c = static_cast<char>(rng());
    ASSERT_TRUE(client_->Put("big-" + std::to_string(i), value).ok()) << i;
  }
  auto cleanup_status = [&](const std::string& node, proto::CleanupResponse* out) {
    proto::Request req;
    req.mutable_cleanup()->set_status(true);
    proto::Response resp;
    Status s = cluster_.Call(node, &req, &resp);
    if (s.ok() && resp.code() != proto::OK) s = Status::Internal(resp.message());
    if (s.ok()) *out = resp.cleanup();
    return s;
  };
  // A cleanup run of a bucket each node holds compacts it in place and first flushes
  // the memtable (it holds keys of the bucket), so that db bytes count every key.
  std::vector<uint64_t> db_before(3);
  for (int i = 0; i < 3; ++i) {
    const std::string ds = cluster_.data_server(i);
    uint32_t held = 0;
    while (before.servers(before.owners(held)).address() != ds) ++held;
    proto::Request req;
    req.mutable_cleanup()->mutable_run()->add_buckets(held);
    proto::Response resp;
    ASSERT_TRUE(cluster_.Call(ds, &req, &resp).ok());
    ASSERT_EQ(resp.code(), proto::OK) << resp.message();
    proto::CleanupResponse c;
    ASSERT_TRUE(LocalCluster::WaitFor(
        [&] { return cleanup_status(ds, &c).ok() && c.pending() == 0; }, seconds(10)));
    db_before[i] = c.db_bytes();
  }
  CliResult r = RunCli(cs + " cleanup pause");
  ASSERT_EQ(r.exit_code, 0) << r.out;

  const std::string node = StartExtraNode();
  ASSERT_TRUE(cluster_.Admin(node, "").ok());
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(40))) << cluster_.Logs();
  proto::Table after;
  ASSERT_TRUE(cluster_.GetTable(&after).ok());
  std::vector<int> total(3), moved(3);
  for (int i = 0; i < kKeys; ++i) {
    const uint32_t b = BucketOf("big-" + std::to_string(i), before.bucket_count());
    const std::string old_master = before.servers(before.owners(b)).address();
    for (int n = 0; n < 3; ++n) {
      if (old_master != cluster_.data_server(n)) continue;
      ++total[n];
      if (after.servers(after.owners(b)).address() != old_master) ++moved[n];
    }
  }
  // Every old owner waits with its reclaimed buckets queued.
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        for (int n = 0; n < 3; ++n) {
          proto::CleanupResponse c;
          if (!cleanup_status(cluster_.data_server(n), &c).ok() || !c.paused() ||
              (moved[n] > 0 && c.pending() == 0)) {
            return false;
          }
        }
        return true;
      },
      seconds(10)));
  r = RunCli(cs + " cleanup status");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (int n = 0; n < 3; ++n) EXPECT_NE(r.out.find(cluster_.data_server(n)), std::string::npos);
  EXPECT_NE(r.out.find("queued"), std::string::npos) << r.out;
  r = RunCli(cs + " cleanup run --wait");
  EXPECT_EQ(r.exit_code, 3) << r.out;  // paused: a run cannot finish
  EXPECT_NE(r.out.find("paused"), std::string::npos) << r.out;
  r = RunCli(cs + " cleanup resume");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = RunCli(cs + " --json cleanup run --wait");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"db_bytes_after\""), std::string::npos) << r.out;
  r = RunCli(cs + " cleanup run --wait --node=" + cluster_.data_server(0));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("DB_AFTER"), std::string::npos) << r.out;

  for (int n = 0; n < 3; ++n) {
    proto::CleanupResponse c;
    ASSERT_TRUE(cleanup_status(cluster_.data_server(n), &c).ok());
    EXPECT_EQ(c.pending(), 0u);
    ASSERT_GT(total[n], 0);
    const double share = static_cast<double>(moved[n]) / total[n];
    const double fell = static_cast<double>(db_before[n]) - static_cast<double>(c.db_bytes());
    EXPECT_GT(share, 0.1) << n;
    EXPECT_GT(c.bytes_freed(), 0u) << n;
    EXPECT_GE(fell, 0.95 * share * static_cast<double>(db_before[n]))
        << "node " << n << ": db " << db_before[n] << " -> " << c.db_bytes() << ", share "
        << share;
    std::fprintf(stderr, "node %d: db %llu -> %llu bytes, moved share %.3f, fell %.3f\n", n,
                 static_cast<unsigned long long>(db_before[n]),
                 static_cast<unsigned long long>(c.db_bytes()), share,
                 fell / static_cast<double>(db_before[n]));
  }
  for (int i = 0; i < kKeys; i += 97) {
    cl::Value v;
    EXPECT_TRUE(client_->Get("big-" + std::to_string(i), &v).ok()) << i;
  }

  // Usage and errors.
  EXPECT_EQ(RunCli(cs + " cleanup").exit_code, 2);
  EXPECT_EQ(RunCli(cs + " cleanup frob").exit_code, 2);
  EXPECT_EQ(RunCli(cs + " cleanup run --bucket=x").exit_code, 2);
  EXPECT_EQ(RunCli(cs + " cleanup status --wait").exit_code, 2);
  EXPECT_EQ(RunCli(cs + " --timeout_ms=500 cleanup status --node=127.0.0.1:1").exit_code, 3);
}
#endif  // TESSERA_CLI_BIN

}  // namespace
}  // namespace tessera::testing
