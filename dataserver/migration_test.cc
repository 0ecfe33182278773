// Bucket migration between two in-process data servers (A -> B) driven by a fake
// config server that publishes hand-made tables and answers bucket_done like the real
// one (accepted only for the current version, flips the bucket, bumps the version):
// data streams identically (values, versions, expire times), expired keys are not
// sent, writes during the migration are caught up (0 lost), fenced writes are
// UNAVAILABLE, stale batches are refused, batches are idempotent, `first` reclaims an
// earlier attempt, cleanup hides the bucket at once and frees its bytes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/bucket_hash.h"
#include "common/io_thread.h"
#include "common/rpc_channel.h"
#include "common/rpc_server.h"
#include "dataserver/data_server.h"
#include "dataserver/request_handler.h"
#include "dataserver/storage_manager.h"
#include "dataserver/table_file.h"
#include "ldb/env.h"
#include "migration/cleanup_scheduler.h"
#include "migration/migration_manager.h"

namespace tessera::ds {
namespace {

constexpr uint32_t kBuckets = 8;
constexpr uint32_t kMoving = 3;
constexpr uint64_t kStart = 1'700'000'000;

class FakeClockEnv final : public ldb::EnvWrapper {
 public:
  explicit FakeClockEnv(ldb::Env* base) : ldb::EnvWrapper(base) {}
  uint64_t NowSeconds() override { return now_.load(); }
  void Advance(uint64_t s) { now_.fetch_add(s); }
  uint32_t now() const { return static_cast<uint32_t>(now_.load()); }

 private:
  std::atomic<uint64_t> now_{kStart};
};

// Serves a settable table by heartbeat and flips buckets on bucket_done.
class FakeConfigServer : public RpcService {
 public:
  void Handle(std::unique_ptr<ServerCall> call) override {
    const proto::Request& req = call->request();
    proto::Response resp;
    std::lock_guard<std::mutex> l(mu_);
    resp.set_table_version(table_.version());
    if (req.has_heartbeat()) {
      resp.mutable_heartbeat();
      if (table_.version() > req.heartbeat().table_version()) {
        *resp.mutable_heartbeat()->mutable_table() = table_;
      }
      call->Reply(&resp);
      return;
    }
    if (req.has_bucket_done()) {
      ++reports_;
      const proto::BucketDoneRequest& bd = req.bucket_done();
      std::shared_ptr<const BucketTable> t;
      if (!BucketTable::FromProto(table_, &t).ok()) std::abort();
      *resp.mutable_bucket_done()->mutable_table() = table_;
      if (req.table_version() != table_.version()) {
        resp.set_code(proto::STALE_TABLE);
        call->Reply(&resp);
        return;
      }
      const uint32_t b = bd.bucket();
      if (!t->migrating() || b >= t->bucket_count() || !t->BucketMoving(b) ||
          t->MasterAddress(b) != bd.source() || bd.migration_id() != t->migration_id()) {
        resp.set_code(proto::WRONG_OWNER);
        call->Reply(&resp);
        return;
      }
      table_.set_owners(b, table_.destination_owners(b));
      table_.set_version(table_.version() + 1);
      std::shared_ptr<const BucketTable> next;
      if (!BucketTable::FromProto(table_, &next).ok()) std::abort();
      if (next->MovingBucketCount() == 0) {
        table_.clear_destination_owners();
      }
      ++flips_;
      resp.set_table_version(table_.version());
      *resp.mutable_bucket_done()->mutable_table() = table_;
      call->Reply(&resp);
      return;
    }
    call->ReplyError(Status::InvalidArgument("unexpected request"), table_.version());
  }

  // owners: every bucket to server 0 (A); servers A, B.
  void Publish(const std::string& a, const std::string& b, bool plan, bool paused) {
    std::lock_guard<std::mutex> l(mu_);
    const uint64_t v = table_.version() + 1;
    table_.Clear();
    table_.set_version(v);
    table_.set_bucket_count(kBuckets);
    table_.set_copy_count(1);
    for (const std::string& addr : {a, b}) {
      proto::TableServer* s = table_.add_servers();
      s->set_address(addr);
      s->set_state(proto::SERVER_UP);
    }
    for (uint32_t i = 0; i < kBuckets; ++i) table_.add_owners(0);
    if (plan) {
      for (uint32_t i = 0; i < kBuckets; ++i) table_.add_destination_owners(i == kMoving ? 1 : 0);
      table_.set_migration_id(7);
      table_.set_migration_paused(paused);
    }
  }
  uint64_t version() {
    std::lock_guard<std::mutex> l(mu_);
    return table_.version();
  }
  int flips() {
    std::lock_guard<std::mutex> l(mu_);
    return flips_;
  }

 private:
  std::mutex mu_;
  proto::Table table_;
  int flips_ = 0;
  int reports_ = 0;
};

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::vector<std::string> KeysOfBucket(uint32_t bucket, int n, const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
    std::string k = prefix + std::to_string(i);
    if (BucketOf(k, kBuckets) == bucket) out.push_back(k);
  }
  return out;
}

class MigrationTest : public ::testing::Test {
 protected:
  MigrationTest() : env_(ldb::Env::Default()) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("migration_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    cs_server_ = std::make_unique<RpcServer>(RpcServerOptions{}, &cs_);
    ASSERT_TRUE(cs_server_->Start().ok());
  }
  void TearDown() override {
    for (auto& [n, ch] : channels_) ch.reset();
    if (a_) a_->Stop();
    if (b_) b_->Stop();
    a_.reset();
    b_.reset();
    cs_server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<DataServer> StartServer(const std::string& name,
                                          const std::function<void(DataServerOptions*)>& tune) {
    DataServerOptions o;
    o.listen = "127.0.0.1:0";
    o.config_servers = {HostPort{"127.0.0.1", cs_server_->port()}};
    o.data_dir = (dir_ / name).string();
    o.heartbeat_interval_ms = 20;
    o.write_buffer_bytes = 256 << 10;
    o.env = &env_;
    o.cleanup_pause_ms = 0;
    o.migrate_batch_entries = 64;
    o.migrate_retry_backoff_ms = 20;
    // Every scan batch goes into tables (IngestSorted), however small; one test
    // below keeps the write path.
    o.migrate_ingest_min_bytes = 0;
    if (tune) tune(&o);
    auto ds = std::make_unique<DataServer>(o);
    Status s = ds->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    channels_[ds.get()] =
        std::make_unique<RpcChannel>(io_.io(), HostPort{"127.0.0.1", ds->port()});
    return ds;
  }

  // Starts A and B and gives both the table where A holds everything.
  void StartBoth(const std::function<void(DataServerOptions*)>& tune = {}) {
    a_ = StartServer("a", tune);
    b_ = StartServer("b", tune);
    cs_.Publish(a_->address(), b_->address(), false, false);
    WaitSame();
  }
  void WaitSame() {
    const uint64_t v = cs_.version();
    ASSERT_TRUE(WaitFor([&] { return a_->table_version() >= v && b_->table_version() >= v; },
                        std::chrono::seconds(10)));
  }
  // Publishes the plan (bucket kMoving: A -> B) and, unless paused, waits for the flip.
  void Migrate(bool paused = false) {
    cs_.Publish(a_->address(), b_->address(), true, paused);
    if (paused) {
      WaitSame();
      return;
    }
    ASSERT_TRUE(WaitFor([&] { return cs_.flips() == 1; }, std::chrono::seconds(20)));
    WaitSame();
  }

  proto::Response Call(DataServer* ds, proto::Request req) {
    proto::Response resp;
    Status s = channels_[ds]->CallSync(&req, 5000, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  proto::Response Put(DataServer* ds, const std::string& key, const std::string& value,
                      uint32_t expire_at = 0, uint32_t area = 1) {
    proto::Request req;
    req.mutable_put()->set_area(area);
    req.mutable_put()->set_key(key);
    req.mutable_put()->set_value(value);
    req.mutable_put()->mutable_expiry()->set_expire_at(expire_at);
    return Call(ds, std::move(req));
  }
  proto::Response Get(DataServer* ds, const std::string& key, uint32_t area = 1) {
    proto::Request req;
    req.mutable_get()->set_area(area);
    req.mutable_get()->set_key(key);
    return Call(ds, std::move(req));
  }
  proto::Response Batch(DataServer* ds, uint64_t table_version, uint64_t migration_id,
                        bool first, const std::map<std::string, std::string>& kv,
                        uint32_t bucket = kMoving) {
    proto::Request req;
    req.set_table_version(table_version);
    proto::MigrateBatchRequest* mb = req.mutable_migrate_batch();
    mb->set_migration_id(migration_id);
    mb->set_bucket(bucket);
    mb->set_first(first);
    mb->set_source(a_->address());
    for (const auto& [k, v] : kv) {
      proto::MigratedEntry* e = mb->add_entries();
      e->set_area(1);
      e->set_key(k);
      e->set_value(v);
      e->set_version(5);
      e->set_created(kStart - 100);
      e->set_modified(kStart - 10);
    }
    return Call(ds, std::move(req));
  }
  std::string StoredValue(DataServer* ds, const std::string& key, uint32_t bucket = kMoving) {
    GetResult r;
    Status s = ds->storage()->Get(1, key, bucket, &r);
    return s.ok() ? r.value : std::string(CodeName(s.code()));
  }

  std::filesystem::path dir_;
  FakeClockEnv env_;
  FakeConfigServer cs_;
  std::unique_ptr<RpcServer> cs_server_;
  IoThread io_{1};
  std::unique_ptr<DataServer> a_, b_;
  std::map<DataServer*, std::unique_ptr<RpcChannel>> channels_;
};

TEST_F(MigrationTest, BucketStreamsIdenticallyAndCleanupFreesIt) {
  StartBoth();
  const std::vector<std::string> keys = KeysOfBucket(kMoving, 600, "k");
  const std::vector<std::string> others = KeysOfBucket(kMoving + 1, 20, "o");
  const std::vector<std::string> expiring = KeysOfBucket(kMoving, 5, "ttl");
  const std::string big(4000, 'v');
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint32_t expire = i % 3 == 0 ? env_.now() + 100000 : 0;
    for (size_t j = 0; j <= i % 3; ++j) {  // versions 1..3
      ASSERT_EQ(Put(a_.get(), keys[i], big + std::to_string(i * 10 + j), expire).code(),
                proto::OK);
    }
  }
  for (const std::string& k : others) ASSERT_EQ(Put(a_.get(), k, "other").code(), proto::OK);
  for (const std::string& k : expiring) {
    ASSERT_EQ(Put(a_.get(), k, "soon", env_.now() + 10).code(), proto::OK);
  }
  env_.Advance(20);  // the expiring keys are expired now
  std::vector<proto::GetResponse> before;
  for (const std::string& k : keys) {
    proto::Response r = Get(a_.get(), k);
    ASSERT_EQ(r.code(), proto::OK);
    before.push_back(r.get());
  }
  const uint64_t disk_before = a_->storage()->ApproximateDiskBytes();

  Migrate();

  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(Get(a_.get(), keys[i]).code(), proto::WRONG_OWNER);
    proto::Response r = Get(b_.get(), keys[i]);
    ASSERT_EQ(r.code(), proto::OK) << keys[i];
    EXPECT_EQ(r.get().value(), before[i].value());
    EXPECT_EQ(r.get().version(), before[i].version());
    EXPECT_EQ(r.get().expire_at(), before[i].expire_at());
  }
  for (const std::string& k : others) EXPECT_EQ(Get(a_.get(), k).get().value(), "other");
  for (const std::string& k : expiring) {
    EXPECT_EQ(StoredValue(b_.get(), k), "NotFound");
  }
  // The source books the bucket as sent, and hides its copy, once it has installed the
  // flipped table (it stops serving the bucket first, then reclaims: never a window
  // in which it masters the bucket but its data is hidden).
  ASSERT_TRUE(WaitFor([&] { return a_->Stats().migration().buckets_sent() == 1; },
                      std::chrono::seconds(10)));
  proto::ServerStats st = a_->Stats();
  EXPECT_EQ(st.migration().keys_sent(), keys.size());  // expired keys were not sent
  EXPECT_EQ(b_->Stats().migration().buckets_received(), 1u);
  EXPECT_GE(b_->storage()->IngestedBatches(), keys.size() / 64);  // straight into tables
  // Both remember the flipped table (during a migration the table file is written
  // by the heartbeat rather than at every install).
  for (const char* name : {"a", "b"}) {
    const std::string data_dir = (dir_ / name).string();
    ASSERT_TRUE(WaitFor(
        [&] {
          TableFile::Contents c;
          return TableFile::Read(ldb::Env::Default(), data_dir, &c).ok() &&
                 c.table->version() >= cs_.version();
        },
        std::chrono::seconds(10)))
        << name;
  }
  // B never held the bucket: its first batch found nothing to reclaim (no GC entry,
  // no cleanup), and its counters count each migrated key once (scan batches carry
  // fresh_keys, so B counted without reading).
  EXPECT_TRUE(b_->storage()->PendingReclaims().empty());
  EXPECT_TRUE(b_->cleanup()->buckets().empty());  // never queued, so never retired either
  uint64_t want_bytes = 0;
  for (size_t i = 0; i < keys.size(); ++i) want_bytes += keys[i].size() + before[i].value().size();
  bool found_area = false;
  const proto::ServerStats b_stats = b_->Stats();
  for (const proto::AreaStats& as : b_stats.areas()) {
    if (as.area() != 1) continue;
    found_area = true;
    EXPECT_EQ(as.keys(), keys.size());
    EXPECT_EQ(as.bytes(), want_bytes);
  }
  EXPECT_TRUE(found_area);

  // Cleanup: hidden at A once the flip is installed, then compacted away.
  ASSERT_TRUE(WaitFor([&] { return StoredValue(a_.get(), keys[0]) == "NotFound"; },
                      std::chrono::seconds(10)));
  ASSERT_TRUE(a_->cleanup()->WaitIdle(20000));
  EXPECT_GT(a_->Stats().migration().cleanup_bytes_freed(), 0u);
  const uint64_t disk_after = a_->storage()->ApproximateDiskBytes();
  EXPECT_LT(disk_after, disk_before);
  for (const std::string& k : others) EXPECT_EQ(Get(a_.get(), k).get().value(), "other");
}

TEST_F(MigrationTest, WritesDuringMigrationAreCaughtUp) {
  StartBoth([](DataServerOptions* o) {
    o->migrate_batch_entries = 16;
    o->migrate_bytes_per_sec = 2 << 20;  // the scan takes a while
  });
  const std::vector<std::string> preload = KeysOfBucket(kMoving, 3000, "p");
  for (const std::string& k : preload) ASSERT_EQ(Put(a_.get(), k, std::string(200, 'x')).code(), proto::OK);
  const std::vector<std::string> hot = KeysOfBucket(kMoving, 50, "hot");

  std::map<std::string, std::string> acked;
  std::atomic<bool> stop{false};
  std::atomic<int> unavailable{0}, writes{0};
  std::thread writer([&] {
    // A dedicated channel: Call() is not used from two threads on one fixture map.
    IoThread io(1);
    RpcChannel a(io.io(), HostPort{"127.0.0.1", a_->port()});
    RpcChannel b(io.io(), HostPort{"127.0.0.1", b_->port()});
    RpcChannel* target = &a;
    for (int i = 0; !stop.load(); ++i) {
      const std::string& k = hot[i % hot.size()];
      const std::string v = "v" + std::to_string(i);
      proto::Request req;
      req.mutable_put()->set_area(1);
      req.mutable_put()->set_key(k);
      req.mutable_put()->set_value(v);
      proto::Response resp;
      if (!target->CallSync(&req, 5000, &resp).ok()) continue;
      if (resp.code() == proto::OK) {
        acked[k] = v;
        writes.fetch_add(1);
      } else if (resp.code() == proto::UNAVAILABLE) {
        unavailable.fetch_add(1);
      } else if (resp.code() == proto::WRONG_OWNER) {
        target = &b;  // the client follows the flip
      }
    }
  });
  ASSERT_TRUE(WaitFor([&] { return writes.load() > 100; }, std::chrono::seconds(10)));
  Migrate();
  const int after_flip = writes.load();
  ASSERT_TRUE(WaitFor([&] { return writes.load() > after_flip + 100; }, std::chrono::seconds(10)));
  stop.store(true);
  writer.join();
  int lost = 0;
  for (const auto& [k, v] : acked) {
    proto::Response r = Get(b_.get(), k);
    if (r.code() != proto::OK || r.get().value() != v) ++lost;
  }
  EXPECT_EQ(lost, 0) << "of " << acked.size() << " keys, " << writes.load() << " writes";
  for (size_t i = 0; i < preload.size(); i += 97) {
    EXPECT_EQ(Get(b_.get(), preload[i]).code(), proto::OK);
  }
}

// A write to a fenced bucket is held (--hold_fenced_ms, 200 by default), then refused
// when the fence outlasts the hold.
TEST_F(MigrationTest, FencedWritesAreUnavailable) {
  StartBoth();
  const std::string k = KeysOfBucket(kMoving, 1, "f")[0];
  const std::string other = KeysOfBucket(kMoving + 1, 1, "f")[0];
  a_->storage()->Fence(kMoving);
  proto::Response r = Put(a_.get(), k, "x");
  EXPECT_EQ(r.code(), proto::UNAVAILABLE);
  EXPECT_EQ(r.message(), "bucket 3 is migrating");
  EXPECT_EQ(Put(a_.get(), other, "x").code(), proto::OK);  // other buckets unaffected
  a_->storage()->Unfence(kMoving);
  EXPECT_EQ(Put(a_.get(), k, "x").code(), proto::OK);
}

TEST_F(MigrationTest, StaleOrMisdirectedBatchesAreRefused) {
  StartBoth();
  const uint64_t v1 = cs_.version();
  Migrate(/*paused=*/true);  // planned, but A starts nothing
  const uint64_t v2 = cs_.version();
  const std::string k = KeysOfBucket(kMoving, 1, "s")[0];
  // Older version and another migration: STALE_TABLE, nothing applied.
  EXPECT_EQ(Batch(b_.get(), v1, 6, true, {{k, "old"}}).code(), proto::STALE_TABLE);
  // Newer version than B's under another migration: STALE_TABLE (B fetches).
  EXPECT_EQ(Batch(b_.get(), v2 + 5, 8, true, {{k, "new"}}).code(), proto::STALE_TABLE);
  // Current version, a bucket that does not move: WRONG_OWNER.
  const std::string k2 = KeysOfBucket(kMoving + 1, 1, "s")[0];
  EXPECT_EQ(Batch(b_.get(), v2, 7, true, {{k2, "x"}}, kMoving + 1).code(), proto::WRONG_OWNER);
  // A key of another bucket in the batch: INVALID_ARGUMENT.
  EXPECT_EQ(Batch(b_.get(), v2, 7, true, {{k2, "x"}}).code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(StoredValue(b_.get(), k), "NotFound");
  EXPECT_EQ(StoredValue(b_.get(), k2, kMoving + 1), "NotFound");
  // An older version that still plans the bucket to B is accepted.
  EXPECT_EQ(Batch(b_.get(), v2 - 1, 7, true, {{k, "ok"}}).code(), proto::OK);
  EXPECT_EQ(StoredValue(b_.get(), k), "ok");
  // So is a newer version of the same plan (other buckets flipped meanwhile): the
  // source must not abandon the bucket just because B has not heard of those flips.
  EXPECT_EQ(Batch(b_.get(), v2 + 5, 7, false, {{k, "newer"}}).code(), proto::OK);
  EXPECT_EQ(StoredValue(b_.get(), k), "newer");
}

TEST_F(MigrationTest, BatchesAreIdempotentAndFirstReclaimsEarlierAttempts) {
  StartBoth();
  Migrate(/*paused=*/true);
  const uint64_t v = cs_.version();
  const std::vector<std::string> k = KeysOfBucket(kMoving, 2, "i");
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Batch(b_.get(), v, 7, true, {{k[0], "a"}, {k[1], "b"}}).code(), proto::OK);
    GetResult r;
    ASSERT_TRUE(b_->storage()->Get(1, k[0], kMoving, &r).ok());
    EXPECT_EQ(r.value, "a");
    EXPECT_EQ(r.version, 5u);  // the source's version, not a new one
    uint64_t keys = 0, bytes = 0;
    for (const AreaStat& s : b_->storage()->AreaStats()) {
      if (s.area == 1) keys = s.keys, bytes = s.bytes;
    }
    EXPECT_EQ(keys, 2u);
    EXPECT_EQ(bytes, k[0].size() + 1 + k[1].size() + 1);
  }
  // A non-first batch on top keeps what is there.
  ASSERT_EQ(Batch(b_.get(), v, 7, false, {{k[0], "a2"}}).code(), proto::OK);
  EXPECT_EQ(StoredValue(b_.get(), k[1]), "b");
  // A new attempt: k[1] was deleted at the source meanwhile, so it is not sent.
  ASSERT_EQ(Batch(b_.get(), v, 7, true, {{k[0], "a3"}}).code(), proto::OK);
  EXPECT_EQ(StoredValue(b_.get(), k[0]), "a3");
  EXPECT_EQ(StoredValue(b_.get(), k[1]), "NotFound");
  uint64_t keys = 0;
  for (const AreaStat& s : b_->storage()->AreaStats()) {
    if (s.area == 1) keys = s.keys;
  }
  EXPECT_EQ(keys, 1u);
}

TEST_F(MigrationTest, RestartedDestinationIsRefilledByTheSource) {
  StartBoth([](DataServerOptions* o) {
    o->migrate_rpc_timeout_ms = 500;
    o->migrate_ingest_min_bytes = SIZE_MAX;  // scan batches through the write path
  });
  const std::vector<std::string> keys = KeysOfBucket(kMoving, 200, "r");
  for (const std::string& k : keys) ASSERT_EQ(Put(a_.get(), k, "v" + k).code(), proto::OK);
  // B is down while the plan is published: A's attempts fail and are redone.
  const std::string b_addr = b_->address();
  channels_[b_.get()].reset();
  b_->Stop();
  cs_.Publish(a_->address(), b_addr, true, false);
  ASSERT_TRUE(WaitFor(
      [&] {
        proto::ServerStats st = a_->Stats();
        return st.migration().in_flight_size() == 1 && st.migration().in_flight(0).attempt() >= 2;
      },
      std::chrono::seconds(20)));
  // B comes back on the same address.
  b_ = StartServer("b", [&](DataServerOptions* o) {
    o->listen = b_addr;
    o->migrate_ingest_min_bytes = SIZE_MAX;
  });
  ASSERT_TRUE(WaitFor([&] { return cs_.flips() == 1; }, std::chrono::seconds(20)));
  WaitSame();
  for (const std::string& k : keys) {
    proto::Response r = Get(b_.get(), k);
    ASSERT_EQ(r.code(), proto::OK);
    EXPECT_EQ(r.get().value(), "v" + k);
  }
  EXPECT_EQ(b_->storage()->IngestedBatches(), 0u);
}

// The cleanup RPC: status while the time window holds the reclaimed bucket back,
// pause (a run does not override it), resume + run (now, ignoring the window), per-
// bucket states and bytes, a run over a bucket still held (compacts, drops nothing),
// bad requests.
TEST_F(MigrationTest, CleanupRpcStatusRunPauseResume) {
  // A window that is closed now (two hours ahead; checked below).
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  const int from = (tm.tm_hour + 2) % 24;
  char window[8];
  std::snprintf(window, sizeof(window), "%02d-%02d", from, (from + 1) % 24);
  StartBoth([&](DataServerOptions* o) { o->cleanup_window = window; });
  const std::vector<std::string> keys = KeysOfBucket(kMoving, 400, "k");
  const std::vector<std::string> held = KeysOfBucket(1, 50, "h");
  std::mt19937 rng(7);  // incompressible values: the bytes show on disk
  for (const std::string& k : keys) {
    std::string v(3000, ' ');
    for (char& c : v) c = static_cast<char>(rng());
    ASSERT_EQ(Put(a_.get(), k, v).code(), proto::OK);
  }
  for (const std::string& k : held) ASSERT_EQ(Put(a_.get(), k, "held").code(), proto::OK);
  auto cleanup = [&](const std::function<void(proto::CleanupRequest*)>& fill) {
    proto::Request req;
    fill(req.mutable_cleanup());
    return Call(a_.get(), std::move(req));
  };
  auto status = [&] {
    return cleanup([](proto::CleanupRequest* c) { c->set_status(true); });
  };
  const uint64_t db_before = status().cleanup().db_bytes();
  EXPECT_GT(db_before, 400u * 3000 / 4);  // most of it flushed (256 KiB memtable)

  Migrate();
  ASSERT_TRUE(WaitFor([&] { return status().cleanup().pending() == 1; },
                      std::chrono::seconds(10)));
  proto::Response r = status();
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_FALSE(r.cleanup().paused());
  ASSERT_EQ(r.cleanup().buckets_size(), 1);
  EXPECT_EQ(r.cleanup().buckets(0).bucket(), kMoving);
  EXPECT_EQ(r.cleanup().buckets(0).state(), "queued");
  EXPECT_FALSE(a_->cleanup()->WaitIdle(200));  // the window holds it back

  r = cleanup([](proto::CleanupRequest* c) { c->set_pause(true); });
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_TRUE(r.cleanup().paused());
  r = cleanup([](proto::CleanupRequest* c) { c->mutable_run(); });  // every pending one
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_EQ(r.cleanup().pending(), 1u);
  EXPECT_FALSE(a_->cleanup()->WaitIdle(200));  // paused: a run waits for resume
  r = cleanup([](proto::CleanupRequest* c) { c->set_resume(true); });
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_FALSE(r.cleanup().paused());
  ASSERT_TRUE(WaitFor([&] { return status().cleanup().pending() == 0; },
                      std::chrono::seconds(20)));
  r = status();
  ASSERT_EQ(r.cleanup().buckets_size(), 1);
  EXPECT_EQ(r.cleanup().buckets(0).state(), "done");
  EXPECT_GT(r.cleanup().buckets(0).bytes_freed(), 400u * 3000 / 4);
  EXPECT_EQ(r.cleanup().bytes_freed(), r.cleanup().buckets(0).bytes_freed());
  EXPECT_LT(r.cleanup().db_bytes(), db_before / 4);

  // A bucket this server still holds: compacted in place, nothing dropped.
  r = cleanup([](proto::CleanupRequest* c) { c->mutable_run()->add_buckets(1); });
  ASSERT_EQ(r.code(), proto::OK);
  ASSERT_TRUE(WaitFor([&] { return status().cleanup().pending() == 0; },
                      std::chrono::seconds(20)));
  r = status();
  ASSERT_EQ(r.cleanup().buckets_size(), 2);
  EXPECT_EQ(r.cleanup().buckets(0).bucket(), 1u);
  EXPECT_EQ(r.cleanup().buckets(0).state(), "done");
  for (const std::string& k : held) EXPECT_EQ(Get(a_.get(), k).get().value(), "held");

  // Bad requests.
  EXPECT_EQ(cleanup([](proto::CleanupRequest*) {}).code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(cleanup([](proto::CleanupRequest* c) { c->mutable_run()->add_buckets(kBuckets); })
                .code(),
            proto::INVALID_ARGUMENT);
}

TEST(CleanupWindowTest, Parses) {
  int s = 0, e = 0;
  EXPECT_TRUE(migration::ParseCleanupWindow("", &s, &e).ok());
  EXPECT_EQ(s, -1);
  EXPECT_TRUE(migration::ParseCleanupWindow("01-05", &s, &e).ok());
  EXPECT_EQ(s, 1);
  EXPECT_EQ(e, 5);
  EXPECT_TRUE(migration::ParseCleanupWindow("22-3", &s, &e).ok());
  EXPECT_EQ(s, 22);
  EXPECT_EQ(e, 3);
  EXPECT_FALSE(migration::ParseCleanupWindow("1-24", &s, &e).ok());
  EXPECT_FALSE(migration::ParseCleanupWindow("ab", &s, &e).ok());
}

}  // namespace
}  // namespace tessera::ds
