// The orphan sweep (dataserver/orphan_sweeper.h, migration/README.md "Orphan sweep"),
// real processes. The crash window "the config server flipped bucket b away from X,
// X died before adding b's GC registry entry" is recreated exactly: X's data
// directory is copied while X is stopped, b is moved away (X reclaims it as usual),
// X is stopped again and its directory put back, so X restarts holding b's keys, no
// GC entry for b, and a remembered table in which it still holds b. Checked offline
// with ldbtool (no --buckets: the table the data server remembered): the keys are
// gone from X's disk, X's own buckets are intact, a node restarted in the middle of a
// migration does not sweep, and a destination whose attempt was abandoned drops the
// partial bucket once the migration is over.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/bucket_hash.h"
#include "tessera/client.h"
#include "tests/cluster/local_cluster.h"

namespace tessera::testing {
namespace {

namespace cl = tessera::client;
namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr uint32_t kBuckets = 64;

// ldbtool is built next to the dataserver binary (CMAKE_RUNTIME_OUTPUT_DIRECTORY).
std::string LdbtoolPath() {
  return (fs::path(TESSERA_DATASERVER_BIN).parent_path() / "ldbtool").string();
}

struct ToolResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs ldbtool; `scratch` is a directory for its stderr.
ToolResult Ldbtool(const std::string& args, const std::string& scratch) {
  ToolResult r;
  const std::string err_path = scratch + "/ldbtool.err";
  FILE* f = popen((LdbtoolPath() + " " + args + " 2>" + err_path).c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) r.out.append(buf, n);
  const int status = pclose(f);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

size_t CountLines(const std::string& text) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
  return n;
}

class OrphanSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(LdbtoolPath()))
        << LdbtoolPath() << " is missing: build the ldbtool target";
  }

  void StartCluster(std::vector<std::string> flags) {
    ClusterSpec spec;
    spec.bucket_count = kBuckets;
    flags.push_back("--cleanup_pause_ms=0");
    spec.data_server_flags = flags;
    Status s = cluster_.Start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(cluster_.OpenClient(60, &client_).ok());
  }

  std::string DataDir(int i) const { return cluster_.dir() + "/ds" + std::to_string(i); }
  ToolResult Ldbtool(const std::string& args) const {
    return testing::Ldbtool(args, cluster_.dir());
  }

  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(client_->Put(key, value).ok()) << key;
    expect_[key] = value;
  }
  void CheckEveryKey() {
    for (const auto& [k, v] : expect_) {
      cl::Value got;
      ASSERT_TRUE(client_->Get(k, &got).ok()) << k;
      ASSERT_EQ(got.data, v) << k;
    }
  }
  // Keys written so far whose bucket `node` masters in `table`.
  size_t KeysMasteredBy(const proto::Table& table, const std::string& node) const {
    size_t n = 0;
    for (const auto& [k, v] : expect_) {
      const uint32_t b = BucketOf(k, table.bucket_count());
      n += table.servers(table.owners(b)).address() == node ? 1 : 0;
    }
    return n;
  }
  // The bucket mastered by data server i with the most keys written so far.
  uint32_t FullestBucketOf(int i) {
    proto::Table t;
    EXPECT_TRUE(cluster_.GetTable(&t).ok());
    std::map<uint32_t, int> keys;
    for (const auto& [k, v] : expect_) ++keys[BucketOf(k, kBuckets)];
    uint32_t best = 0;
    int most = -1;
    for (const auto& [b, n] : keys) {
      if (t.servers(t.owners(b)).address() == cluster_.data_server(i) && n > most) {
        best = b;
        most = n;
      }
    }
    EXPECT_GT(most, 0);
    return best;
  }

  // Graceful stop (SIGTERM: the data server syncs and closes its DB), then waits
  // until the config server has marked it DOWN: a restart is then seen only
  // through the new process's heartbeats (not the stopped one's last), and the
  // node cannot go DOWN later, in the middle of what the test does next.
  void Stop(int i) {
    cluster_.KillDataServer(i, SIGTERM);
    ASSERT_TRUE(LocalCluster::WaitFor([&] { return NodeState(i) == proto::SERVER_DOWN; },
                                      seconds(30)))
        << cluster_.Logs();
  }
  // Data server i's state for the config server (UNKNOWN when it cannot say); with
  // `current`, whether i reported the current table version.
  proto::ServerState NodeState(int i, bool* current = nullptr) {
    proto::NodeInfo n;
    uint64_t version = 0;
    if (!cluster_.FindNode(cluster_.data_server(i), &n, &version)) {
      return proto::SERVER_STATE_UNKNOWN;
    }
    if (current != nullptr) *current = n.table_version() == version;
    return n.state();
  }
  // Waits until data server i is UP and serves the config server's current table.
  void WaitServing(int i) {
    ASSERT_TRUE(LocalCluster::WaitFor(
        [&] {
          bool current = false;
          return NodeState(i, &current) == proto::SERVER_UP && current;
        },
        seconds(20)))
        << cluster_.Logs();
  }
  // Waits until data server i serves the config server's current table, sets
  // *table to it (what i will remember) and stops i.
  void StopServing(int i, proto::Table* table) {
    ASSERT_NO_FATAL_FAILURE(WaitServing(i));
    ASSERT_TRUE(cluster_.GetTable(table).ok());
    Stop(i);
  }
  // (Re)starts data server i and waits until it serves the config server's table.
  void StartAndWait(int i) {
    ASSERT_TRUE(cluster_.RestartDataServer(i).ok());
    ASSERT_NO_FATAL_FAILURE(WaitServing(i));
  }

  void CopyDir(const std::string& from, const std::string& to) {
    std::error_code ec;
    fs::remove_all(to, ec);
    fs::copy(from, to, fs::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << ec.message();
  }

  // Leaves data server x holding bucket b's keys without a GC entry while the
  // cluster gives b to data server y (the crash window; see the file comment).
  void MakeOrphan(int x, int y, uint32_t b) {
    const std::string snapshot = cluster_.dir() + "/snapshot";
    Stop(x);
    CopyDir(DataDir(x), snapshot);
    StartAndWait(x);
    ASSERT_TRUE(cluster_.MoveBucket(b, cluster_.data_server(y)).ok());
    ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(30))) << cluster_.Logs();
    Stop(x);
    CopyDir(snapshot, DataDir(x));
    // b's keys are live on x's disk again.
    const ToolResult dump = Ldbtool("dump --db " + DataDir(x) + " --bucket " + std::to_string(b));
    ASSERT_EQ(dump.code, 0) << dump.out;
    ASSERT_GT(CountLines(dump.out), 0u);
  }

  // The cleanup RPC's status of one data server.
  proto::CleanupResponse CleanupStatus(const std::string& node) {
    proto::Request req;
    req.mutable_cleanup()->set_status(true);
    proto::Response resp;
    if (!cluster_.Call(node, &req, &resp).ok() || resp.code() != proto::OK) return {};
    return resp.cleanup();
  }
  // "" when `node`'s cleanup has not seen the bucket, else its state.
  std::string CleanupState(const std::string& node, uint32_t bucket) {
    const proto::CleanupResponse status = CleanupStatus(node);
    for (const proto::CleanupBucket& cb : status.buckets()) {
      if (cb.bucket() == bucket) return cb.state();
    }
    return "";
  }
  bool WaitCleanupDone(const std::string& node, uint32_t bucket) {
    return LocalCluster::WaitFor([&] { return CleanupState(node, bucket) == "done"; }, seconds(20));
  }
  // Whether data server i's log has a line containing `text`.
  bool LogHas(int i, const std::string& text) const {
    std::ifstream in(cluster_.dir() + "/logs/ds" + std::to_string(i) + ".out");
    for (std::string line; std::getline(in, line);) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  // Stopped data server i's disk: check-buckets with the remembered table passes and
  // names `version`, nothing of `gone` is left (reclaimed or not), and it holds
  // exactly the keys of the buckets it masters in `table`.
  void CheckDisk(int i, const proto::Table& table, uint32_t gone) {
    const std::string db = "--db " + DataDir(i);
    const ToolResult check = Ldbtool("check-buckets " + db);
    EXPECT_EQ(check.code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("by node " + cluster_.data_server(i) + " in table version " +
                             std::to_string(table.version())),
              std::string::npos)
        << check.out;
    EXPECT_NE(check.out.find(" 0 in buckets not held"), std::string::npos) << check.out;
    const ToolResult all = Ldbtool("dump --all " + db + " --bucket " + std::to_string(gone));
    EXPECT_EQ(all.code, 0) << all.err;
    EXPECT_EQ(all.out, "") << "bucket " << gone << " is still on disk";
    EXPECT_EQ(all.err, "0 keys (0 expired, 0 reclaimed)\n");
    const ToolResult dump = Ldbtool("dump " + db);
    EXPECT_EQ(dump.code, 0);
    EXPECT_EQ(CountLines(dump.out), KeysMasteredBy(table, cluster_.data_server(i)));
  }

  LocalCluster cluster_;
  std::unique_ptr<cl::Client> client_;
  std::map<std::string, std::string> expect_;
};

TEST_F(OrphanSweepTest, CrashBetweenFlipAndReclaimLeavesNoKeysBehind) {
  StartCluster({});
  for (int i = 0; i < 640; ++i) Put("k-" + std::to_string(i), "value-" + std::to_string(i));
  const int x = 0, y = 1;
  const uint32_t b = FullestBucketOf(x);
  ASSERT_NO_FATAL_FAILURE(MakeOrphan(x, y, b));

  // x's first table gives b to y: there is no old table to compare it with, so only
  // the sweep can find b.
  ASSERT_NO_FATAL_FAILURE(StartAndWait(x));
  ASSERT_TRUE(WaitCleanupDone(cluster_.data_server(x), b)) << cluster_.Logs();
  const std::string swept =
      "orphan sweep: bucket " + std::to_string(b) + " is held by " + cluster_.data_server(y);
  // Logged once the cleanup is queued: possibly after it is done.
  EXPECT_TRUE(LocalCluster::WaitFor([&] { return LogHas(x, swept); }, seconds(20)));
  CheckEveryKey();
  proto::Table table;
  ASSERT_NO_FATAL_FAILURE(StopServing(x, &table));
  CheckDisk(x, table, b);
}

TEST_F(OrphanSweepTest, NoSweepDuringAMigrationAndTheAbandonedDestinationIsSweptAfter) {
  // Migration throttled to 4 KiB/s in 4 KiB batches: the 400 KB bucket below would
  // take about 100 s to move, far longer than the checks made while it moves (the
  // test cancels the move instead of waiting for it).
  StartCluster({"--migrate_bytes_per_sec=4096", "--migrate_batch_bytes=4096"});
  for (int i = 0; i < 640; ++i) Put("k-" + std::to_string(i), "value-" + std::to_string(i));
  const int x = 0, y = 1, z = 2;
  const uint32_t b = FullestBucketOf(x);
  const uint32_t c = FullestBucketOf(z);
  const std::string big(2000, 'c');
  for (int i = 0, n = 0; n < 200; ++i) {
    const std::string k = "big-" + std::to_string(i);
    if (BucketOf(k, kBuckets) != c) continue;
    Put(k, big + k);
    ++n;
  }
  ASSERT_NO_FATAL_FAILURE(MakeOrphan(x, y, b));

  // c starts moving z -> y; x restarts while it moves.
  ASSERT_TRUE(cluster_.MoveBucket(c, cluster_.data_server(y)).ok());
  // x was marked DOWN by Stop (in MakeOrphan) and comes back while c moves: x takes
  // no part in c's move, so this must not cancel it (it once raced with the restart).
  ASSERT_NO_FATAL_FAILURE(StartAndWait(x));
  // y has taken c's first batch (it logs it before applying it; y never held c, so
  // there is nothing to reclaim and no cleanup entry).
  const std::string receiving = "receiving bucket " + std::to_string(c) + " from";
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return LogHas(y, receiving); }, seconds(20)))
      << cluster_.Logs();
  EXPECT_EQ(CleanupState(cluster_.data_server(y), c), "");
  proto::Table moving;
  ASSERT_TRUE(cluster_.GetTable(&moving).ok());
  ASSERT_GT(moving.destination_owners_size(), 0) << "the migration ended too early";
  // x serves that table (heartbeats report it after x installed it, and the sweep
  // decision is made when a table is installed): b was not swept.
  EXPECT_EQ(CleanupState(cluster_.data_server(x), b), "");
  Stop(x);
  const ToolResult dump = Ldbtool("dump --db " + DataDir(x) + " --bucket " + std::to_string(b));
  EXPECT_GT(CountLines(dump.out), 0u) << "bucket " << b << " was swept during the migration";
  ASSERT_NO_FATAL_FAILURE(StartAndWait(x));
  proto::Table still;
  ASSERT_TRUE(cluster_.GetTable(&still).ok());
  ASSERT_GT(still.destination_owners_size(), 0) << "the migration ended too early";
  EXPECT_EQ(CleanupState(cluster_.data_server(x), b), "");

  // Cancel: c planned back to z ends the migration with y holding part of c.
  ASSERT_TRUE(cluster_.MoveBucket(c, cluster_.data_server(z)).ok());
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(30))) << cluster_.Logs();
  ASSERT_TRUE(WaitCleanupDone(cluster_.data_server(x), b)) << cluster_.Logs();
  const std::string swept_c =
      "orphan sweep: bucket " + std::to_string(c) + " is held by " + cluster_.data_server(z);
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return LogHas(y, swept_c); }, seconds(20)))
      << cluster_.Logs();
  ASSERT_TRUE(WaitCleanupDone(cluster_.data_server(y), c)) << cluster_.Logs();
  CheckEveryKey();
  proto::Table table;
  ASSERT_NO_FATAL_FAILURE(StopServing(x, &table));
  ASSERT_EQ(table.servers(table.owners(c)).address(), cluster_.data_server(z));
  CheckDisk(x, table, b);
  // x going DOWN made another table version: the one y remembers.
  ASSERT_NO_FATAL_FAILURE(StopServing(y, &table));
  CheckDisk(y, table, c);
}

}  // namespace
}  // namespace tessera::testing
