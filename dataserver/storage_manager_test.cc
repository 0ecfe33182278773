// StorageManager semantics over an in-memory ldb Env with a settable clock: versions
// and CAS, TTL (relative, absolute, change), incr/decr, quotas, area isolation,
// reopen, atomicity of read-modify-writes.
#include "dataserver/storage_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/proto/rpc.pb.h"
#include "ldb/env.h"

namespace tessera::ds {
namespace {

constexpr uint64_t kStart = 1'700'000'000;

// An Env whose wall clock the test sets. Thread-safe.
class FakeClockEnv final : public ldb::EnvWrapper {
 public:
  explicit FakeClockEnv(ldb::Env* base) : ldb::EnvWrapper(base) {}
  uint64_t NowSeconds() override { return now_.load(); }
  void Advance(uint64_t s) { now_.fetch_add(s); }
  uint32_t now() const { return static_cast<uint32_t>(now_.load()); }

 private:
  std::atomic<uint64_t> now_{kStart};
};

class StorageManagerTest : public ::testing::Test {
 protected:
  StorageManagerTest() : mem_(ldb::NewMemEnv(ldb::Env::Default())), env_(mem_.get()) {
    Open();
  }

  void Open() {
    sm_.reset();
    Status s = StorageManager::Open(Options("/ds"), &sm_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  StorageOptions Options(const std::string& dir) {
    StorageOptions o;
    o.data_dir = dir;
    o.env = &env_;
    o.write_buffer_bytes = 1 << 20;
    o.migrate_ingest_min_bytes = ingest_min_bytes_;
    o.migrate_ingest_idle_builders = ingest_builders_;
    return o;
  }

  // Value or "NotFound"/error string.
  std::string Get(uint32_t area, const std::string& key, GetResult* out = nullptr) {
    GetResult r;
    Status s = sm_->Get(area, key, kBucket, &r);
    if (!s.ok()) return std::string(CodeName(s.code()));
    if (out != nullptr) *out = r;
    return r.value;
  }
  Status Put(uint32_t area, const std::string& key, const std::string& value,
             uint32_t version = 0, Expiry e = {}, uint32_t* new_version = nullptr) {
    uint32_t v = 0;
    Status s = sm_->Put(area, key, kBucket, value, version, e, &v);
    if (new_version != nullptr) *new_version = v;
    return s;
  }
  AreaStat Stat(uint32_t area) {
    for (const AreaStat& a : sm_->AreaStats()) {
      if (a.area == area) return a;
    }
    return AreaStat{area};
  }

  static constexpr uint32_t kBucket = 17;
  size_t ingest_min_bytes_ = 0;  // every migration scan batch is ingested
  int ingest_builders_ = 0;      // StorageOptions::migrate_ingest_idle_builders
  std::unique_ptr<ldb::Env> mem_;
  FakeClockEnv env_;
  std::unique_ptr<StorageManager> sm_;
};

TEST_F(StorageManagerTest, PutBumpsVersionFromOne) {
  uint32_t v = 0;
  ASSERT_TRUE(Put(0, "k", "a", 0, {}, &v).ok());
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(Put(0, "k", "b", 0, {}, &v).ok());
  EXPECT_EQ(v, 2u);
  GetResult r;
  EXPECT_EQ(Get(0, "k", &r), "b");
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.expire_at, 0u);
  EXPECT_EQ(r.ttl_seconds, -1);
}

TEST_F(StorageManagerTest, CasPutAndRemove) {
  // A missing key with version != 0 is a mismatch, and nothing is written.
  EXPECT_TRUE(Put(0, "k", "x", 5).Is(Code::kVersionMismatch));
  EXPECT_EQ(Get(0, "k"), "NotFound");
  uint32_t v = 0;
  ASSERT_TRUE(Put(0, "k", "a", 0, {}, &v).ok());
  ASSERT_TRUE(Put(0, "k", "b", v, {}, &v).ok());
  EXPECT_EQ(v, 2u);
  EXPECT_TRUE(Put(0, "k", "c", 1).Is(Code::kVersionMismatch));
  EXPECT_EQ(Get(0, "k"), "b");
  EXPECT_TRUE(sm_->Remove(0, "k", kBucket, 1).Is(Code::kVersionMismatch));
  EXPECT_EQ(Get(0, "k"), "b");
  EXPECT_TRUE(sm_->Remove(0, "k", kBucket, 2).ok());
  EXPECT_EQ(Get(0, "k"), "NotFound");
  EXPECT_TRUE(sm_->Remove(0, "k", kBucket, 0).Is(Code::kNotFound));
  // After a remove the key starts over at version 1.
  ASSERT_TRUE(Put(0, "k", "d", 0, {}, &v).ok());
  EXPECT_EQ(v, 1u);
}

TEST_F(StorageManagerTest, RelativeTtlExpires) {
  ASSERT_TRUE(Put(0, "k", "v", 0, Expiry{10, 0}).ok());
  GetResult r;
  EXPECT_EQ(Get(0, "k", &r), "v");
  EXPECT_EQ(r.expire_at, env_.now() + 10);
  EXPECT_EQ(r.ttl_seconds, 10);
  env_.Advance(9);
  EXPECT_EQ(Get(0, "k", &r), "v");
  EXPECT_EQ(r.ttl_seconds, 1);
  env_.Advance(1);
  EXPECT_EQ(Get(0, "k"), "NotFound");
  // An expired key is missing for writes: CAS on it fails, a plain put restarts at 1.
  EXPECT_TRUE(Put(0, "k", "w", 1).Is(Code::kVersionMismatch));
  uint32_t v = 0;
  ASSERT_TRUE(Put(0, "k", "w", 0, {}, &v).ok());
  EXPECT_EQ(v, 1u);
}

TEST_F(StorageManagerTest, AbsoluteExpiryAndBadExpiry) {
  ASSERT_TRUE(Put(0, "k", "v", 0, Expiry{0, env_.now() + 5}).ok());
  GetResult r;
  EXPECT_EQ(Get(0, "k", &r), "v");
  EXPECT_EQ(r.expire_at, env_.now() + 5);
  env_.Advance(5);
  EXPECT_EQ(Get(0, "k"), "NotFound");
  EXPECT_TRUE(Put(0, "b", "v", 0, Expiry{5, env_.now() + 5}).Is(Code::kInvalidArgument));
  EXPECT_TRUE(Put(0, "b", "v", 0, Expiry{0, env_.now() - 1}).Is(Code::kInvalidArgument));
  EXPECT_TRUE(Put(0, "b", "v", 0, Expiry{0xffffffffu, 0}).Is(Code::kInvalidArgument));
  EXPECT_EQ(Get(0, "b"), "NotFound");
}

TEST_F(StorageManagerTest, ExpireChangesTtl) {
  uint32_t at = 0;
  EXPECT_TRUE(sm_->Expire(0, "k", kBucket, Expiry{5, 0}, &at).Is(Code::kNotFound));
  ASSERT_TRUE(Put(0, "k", "v").ok());
  ASSERT_TRUE(sm_->Expire(0, "k", kBucket, Expiry{5, 0}, &at).ok());
  EXPECT_EQ(at, env_.now() + 5);
  GetResult r;
  EXPECT_EQ(Get(0, "k", &r), "v");
  EXPECT_EQ(r.ttl_seconds, 5);
  EXPECT_EQ(r.version, 2u);  // expire is a write
  // Both zero: never expires.
  ASSERT_TRUE(sm_->Expire(0, "k", kBucket, Expiry{}, &at).ok());
  EXPECT_EQ(at, 0u);
  env_.Advance(100);
  EXPECT_EQ(Get(0, "k", &r), "v");
  EXPECT_EQ(r.ttl_seconds, -1);
  // Shortening works too (one logical key whatever its expire prefix).
  ASSERT_TRUE(sm_->Expire(0, "k", kBucket, Expiry{0, env_.now() + 2}, &at).ok());
  env_.Advance(2);
  EXPECT_EQ(Get(0, "k"), "NotFound");
  // A time in the past removes the key.
  ASSERT_TRUE(Put(0, "p", "v").ok());
  ASSERT_TRUE(sm_->Expire(0, "p", kBucket, Expiry{0, env_.now() - 10}, &at).ok());
  EXPECT_EQ(Get(0, "p"), "NotFound");
  // "p" is un-accounted at once; the expired "k" only by the next count.
  EXPECT_EQ(Stat(0).keys, 1u);
  ASSERT_TRUE(sm_->Recount().ok());
  EXPECT_EQ(Stat(0).keys, 0u);
  EXPECT_EQ(Stat(0).bytes, 0u);
}

TEST_F(StorageManagerTest, IncrDecr) {
  int64_t value = 0;
  uint32_t v = 0;
  // Missing: initial + delta; the expiry applies on create.
  ASSERT_TRUE(sm_->Incr(0, "c", kBucket, 5, 10, Expiry{100, 0}, 0, &value, &v).ok());
  EXPECT_EQ(value, 15);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(Get(0, "c"), "15");
  // Existing: the request's expiry is ignored, the stored one kept.
  ASSERT_TRUE(sm_->Incr(0, "c", kBucket, -20, 0, Expiry{5, 0}, 0, &value, &v).ok());
  EXPECT_EQ(value, -5);
  EXPECT_EQ(v, 2u);
  GetResult r;
  EXPECT_EQ(Get(0, "c", &r), "-5");
  EXPECT_EQ(r.ttl_seconds, 100);
  // CAS.
  EXPECT_TRUE(sm_->Incr(0, "c", kBucket, 1, 0, {}, 1, &value, &v).Is(Code::kVersionMismatch));
  ASSERT_TRUE(sm_->Incr(0, "c", kBucket, 1, 0, {}, 2, &value, &v).ok());
  EXPECT_EQ(value, -4);
  // Expired: starts again from initial_value.
  env_.Advance(100);
  ASSERT_TRUE(sm_->Incr(0, "c", kBucket, 1, 7, {}, 0, &value, &v).ok());
  EXPECT_EQ(value, 8);
  EXPECT_EQ(v, 1u);
  // Non-numeric.
  ASSERT_TRUE(Put(0, "s", "12abc").ok());
  EXPECT_TRUE(sm_->Incr(0, "s", kBucket, 1, 0, {}, 0, &value, &v).Is(Code::kInvalidArgument));
  ASSERT_TRUE(Put(0, "s", "").ok());
  EXPECT_TRUE(sm_->Incr(0, "s", kBucket, 1, 0, {}, 0, &value, &v).Is(Code::kInvalidArgument));
  // Overflow both ways; the stored value is unchanged.
  ASSERT_TRUE(Put(0, "m", "9223372036854775807").ok());
  EXPECT_TRUE(sm_->Incr(0, "m", kBucket, 1, 0, {}, 0, &value, &v).Is(Code::kInvalidArgument));
  EXPECT_EQ(Get(0, "m"), "9223372036854775807");
  ASSERT_TRUE(sm_->Incr(0, "m", kBucket, -1, 0, {}, 0, &value, &v).ok());
  EXPECT_EQ(value, INT64_MAX - 1);
  ASSERT_TRUE(Put(0, "n", "-9223372036854775808").ok());
  EXPECT_TRUE(sm_->Incr(0, "n", kBucket, -1, 0, {}, 0, &value, &v).Is(Code::kInvalidArgument));
  EXPECT_TRUE(sm_->Incr(0, "o", kBucket, 1, INT64_MAX, {}, 0, &value, &v)
                  .Is(Code::kInvalidArgument));
  EXPECT_EQ(Get(0, "o"), "NotFound");
}

TEST_F(StorageManagerTest, QuotaExceededAndFreed) {
  sm_->SetAreaQuotas({{1, 100}});
  const std::string v60(59, 'x');  // key "a" + 59 = 60 bytes
  ASSERT_TRUE(Put(1, "a", v60).ok());
  EXPECT_EQ(Stat(1).bytes, 60u);
  EXPECT_TRUE(Put(1, "b", v60).Is(Code::kQuotaExceeded));
  EXPECT_EQ(Get(1, "b"), "NotFound");
  EXPECT_EQ(Stat(1).bytes, 60u);
  EXPECT_EQ(Stat(1).keys, 1u);
  // Other areas are not limited.
  ASSERT_TRUE(Put(2, "b", v60).ok());
  ASSERT_TRUE(Put(2, "c", v60).ok());
  // An overwrite counts only the difference; shrinking is always allowed.
  ASSERT_TRUE(Put(1, "a", std::string(99, 'y')).ok());
  EXPECT_EQ(Stat(1).bytes, 100u);
  EXPECT_TRUE(Put(1, "a", std::string(100, 'y')).Is(Code::kQuotaExceeded));
  ASSERT_TRUE(Put(1, "a", "z").ok());
  EXPECT_EQ(Stat(1).bytes, 2u);
  ASSERT_TRUE(Put(1, "b", v60).ok());
  EXPECT_TRUE(Put(1, "c", v60).Is(Code::kQuotaExceeded));
  // A remove frees its bytes.
  ASSERT_TRUE(sm_->Remove(1, "b", kBucket, 0).ok());
  ASSERT_TRUE(Put(1, "c", v60).ok());
  // Incr is accounted and limited too.
  int64_t value = 0;
  uint32_t v = 0;
  EXPECT_TRUE(sm_->Incr(1, std::string(40, 'i'), kBucket, 1, 0, {}, 0, &value, &v)
                  .Is(Code::kQuotaExceeded));
  // Lifting the quota.
  sm_->SetAreaQuotas({});
  ASSERT_TRUE(Put(1, "d", v60).ok());
  EXPECT_EQ(Stat(1).keys, 3u);
}

TEST_F(StorageManagerTest, AreasAreIsolated) {
  ASSERT_TRUE(Put(1, "k", "one").ok());
  ASSERT_TRUE(Put(2, "k", "two").ok());
  EXPECT_EQ(Get(1, "k"), "one");
  EXPECT_EQ(Get(2, "k"), "two");
  EXPECT_EQ(Get(3, "k"), "NotFound");
  ASSERT_TRUE(sm_->Remove(1, "k", kBucket, 0).ok());
  EXPECT_EQ(Get(1, "k"), "NotFound");
  EXPECT_EQ(Get(2, "k"), "two");
  EXPECT_EQ(Stat(1).keys, 0u);
  EXPECT_EQ(Stat(2).keys, 1u);
  EXPECT_EQ(Stat(2).bytes, 4u);
  EXPECT_GE(Stat(1).ops, 3u);
  EXPECT_TRUE(Put(65536, "k", "v").Is(Code::kInvalidArgument));
  EXPECT_TRUE(Put(65535, "k", "v").ok());
}

TEST_F(StorageManagerTest, ReopenKeepsDataAndStats) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Put(i % 3, "key" + std::to_string(i), std::string(i, 'v')).ok());
  }
  ASSERT_TRUE(Put(0, "key0", "again").ok());  // version 2
  ASSERT_TRUE(Put(1, "ttl", "v", 0, Expiry{10, 0}).ok());
  ASSERT_TRUE(sm_->Remove(2, "key2", kBucket, 0).ok());
  std::vector<AreaStat> before = sm_->AreaStats();
  ASSERT_TRUE(sm_->Close().ok());
  EXPECT_TRUE(Put(0, "x", "y").Is(Code::kUnavailable));
  Open();
  std::vector<AreaStat> after = sm_->AreaStats();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].area, after[i].area);
    EXPECT_EQ(before[i].keys, after[i].keys) << "area " << before[i].area;
    EXPECT_EQ(before[i].bytes, after[i].bytes) << "area " << before[i].area;
  }
  GetResult r;
  EXPECT_EQ(Get(0, "key0", &r), "again");
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(Get(2, "key2"), "NotFound");
  EXPECT_EQ(Get(1, "ttl", &r), "v");
  EXPECT_EQ(r.ttl_seconds, 10);
  uint32_t v = 0;
  ASSERT_TRUE(Put(0, "key0", "third", 2, {}, &v).ok());
  EXPECT_EQ(v, 3u);
  // Expired keys drop out of the figures at the next count.
  env_.Advance(10);
  const uint64_t keys_before = Stat(1).keys;
  ASSERT_TRUE(sm_->Recount().ok());
  EXPECT_EQ(Stat(1).keys, keys_before - 1);
}

TEST_F(StorageManagerTest, ConcurrentIncrIsAtomic) {
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        int64_t value = 0;
        uint32_t v = 0;
        if (!sm_->Incr(0, "ctr", kBucket, 1, 0, {}, 0, &value, &v).ok()) failures++;
        if (!Put(0, std::string("p").append(std::to_string(i % 7)), "x").ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  GetResult r;
  EXPECT_EQ(Get(0, "ctr", &r), std::to_string(kThreads * kPerThread));
  EXPECT_EQ(r.version, static_cast<uint32_t>(kThreads * kPerThread));
  EXPECT_EQ(Stat(0).keys, 8u);
}

TEST_F(StorageManagerTest, RejectsBadArguments) {
  EXPECT_TRUE(Put(0, "", "v").Is(Code::kInvalidArgument));
  uint32_t v = 0;
  EXPECT_TRUE(sm_->Put(0, "k", 1u << 24, "v", 0, {}, &v).Is(Code::kInvalidArgument));
}


// A migration's scan batches go straight into tables (IngestSorted): what the
// source scanned reads back with its versions and expiry, expired entries are
// left out, the per-area counters count it, and catch-up batches written on top
// win. Small batches, or a memtable holding a key of the batch's range, take the
// write path with the same result.
class MigrationApplyTest : public StorageManagerTest {
 protected:
  // Fills a source store with bucket kBucket (areas 1 and 3) and returns its
  // scan, packed the way a migration source sends it.
  migration::EntryBatch SourceScan() {
    std::unique_ptr<StorageManager> src;
    Status s = StorageManager::Open(Options("/src"), &src);
    EXPECT_TRUE(s.ok()) << s.ToString();
    uint32_t v = 0;
    for (int i = 0; i < 300; ++i) {
      for (uint32_t area : {3u, 1u}) {
        const std::string key = "key" + std::to_string(i);
        Expiry e;
        if (i == 7) e.ttl_seconds = 10;     // expires before it is applied
        if (i == 8) e.ttl_seconds = 1000;   // keeps its expire time
        EXPECT_TRUE(src->Put(area, key, kBucket, "value-" + key, 0, e, &v).ok());
      }
    }
    EXPECT_TRUE(src->Put(1, "key5", kBucket, "second", 0, {}, &v).ok());  // version 2
    migration::EntryBatch out;
    EXPECT_TRUE(src->ScanBucket(kBucket, [&](const migration::MigratedEntryView& e) {
                     out.Add(e);
                     return true;
                   }).ok());
    return out;
  }
  // The entries of `batch` as the destination decodes them.
  static std::vector<migration::MigratedEntryView> Views(const migration::EntryBatch& batch) {
    std::vector<migration::MigratedEntryView> v;
    EXPECT_TRUE(migration::DecodeEntryBatch(batch.packed(), &v).ok());
    return v;
  }
  void CheckApplied() {
    GetResult r;
    EXPECT_EQ("value-key0", Get(1, "key0"));
    EXPECT_EQ("value-key299", Get(3, "key299"));
    EXPECT_EQ("second", Get(1, "key5", &r));
    EXPECT_EQ(2u, r.version);
    EXPECT_EQ("NotFound", Get(1, "key7"));
    EXPECT_EQ("value-key8", Get(3, "key8", &r));
    EXPECT_EQ(kStart + 1000, r.expire_at);
    EXPECT_EQ(299, Stat(1).keys);
    EXPECT_EQ(299, Stat(3).keys);
  }
};

TEST_F(MigrationApplyTest, ScanBatchIsIngestedAndCatchUpWinsOverIt) {
  const migration::EntryBatch packed = SourceScan();
  const auto scan = Views(packed);
  env_.Advance(20);  // key7 expired in flight
  ASSERT_EQ(600u, scan.size());
  ASSERT_TRUE(sm_->ApplyMigrated(kBucket, scan, /*fresh_keys=*/true).ok());
  EXPECT_EQ(1u, sm_->IngestedBatches());
  CheckApplied();
  EXPECT_NE(std::string::npos, sm_->Property("ldb.stats").find("Ingested: files=1"));

  // Catch-up: a changed value and a removal, through the write path.
  migration::EntryBatch catch_up;
  migration::MigratedEntryView changed;
  changed.area = 1;
  changed.key = "key9";
  changed.value = "changed";
  changed.version = 5;
  catch_up.Add(changed);
  migration::MigratedEntryView removed;
  removed.area = 3;
  removed.key = "key10";
  removed.removed = true;
  catch_up.Add(removed);
  ASSERT_TRUE(sm_->ApplyMigrated(kBucket, Views(catch_up), /*fresh_keys=*/false).ok());
  EXPECT_EQ(1u, sm_->IngestedBatches());
  for (int round = 0; round < 2; ++round) {
    GetResult r;
    EXPECT_EQ("changed", Get(1, "key9", &r));
    EXPECT_EQ(5u, r.version);
    EXPECT_EQ("NotFound", Get(3, "key10"));
    EXPECT_EQ("value-key11", Get(3, "key11"));
    EXPECT_EQ(298, Stat(3).keys);
    Open();  // the ingested tables and the catch-up survive a reopen
  }
}

// With builder threads the tables are built there (ldb's IngestTest checks the
// hand-over): the same tables, the same reads, through a reopen.
TEST_F(MigrationApplyTest, BatchesBuiltOnIdleBuildersReadBackTheSame) {
  ingest_builders_ = 2;
  Open();
  const migration::EntryBatch packed = SourceScan();
  const auto scan = Views(packed);
  env_.Advance(20);
  ASSERT_TRUE(sm_->ApplyMigrated(kBucket, scan, /*fresh_keys=*/true).ok());
  EXPECT_EQ(1u, sm_->IngestedBatches());
  EXPECT_NE(std::string::npos, sm_->Property("ldb.stats").find("Ingested: files=1"));
  for (int round = 0; round < 2; ++round) {
    CheckApplied();
    Open();
  }
}

TEST_F(MigrationApplyTest, SmallBatchesAndMemtableKeysTakeTheWritePath) {
  ingest_min_bytes_ = 1 << 20;
  Open();
  const migration::EntryBatch packed = SourceScan();
  const auto scan = Views(packed);
  env_.Advance(20);
  ASSERT_TRUE(sm_->ApplyMigrated(kBucket, scan, true).ok());
  EXPECT_EQ(0u, sm_->IngestedBatches());
  CheckApplied();

  // What an abandoned attempt wrote (a catch-up batch) sits in the memtable,
  // hidden by the next attempt's reclaim: ingesting would leave it above the
  // new tables.
  ingest_min_bytes_ = 0;
  sm_.reset();
  ASSERT_TRUE(StorageManager::Open(Options("/ds2"), &sm_).ok());
  std::vector<migration::MigratedEntryView> leftover{scan[100]};
  leftover[0].value = "stale";
  ASSERT_TRUE(sm_->ApplyMigrated(kBucket, leftover, false).ok());
  migration::ReclaimTicket ticket;
  ASSERT_TRUE(sm_->ReclaimBucket(kBucket, &ticket).ok());
  EXPECT_FALSE(ticket.nothing_to_reclaim);
  ASSERT_TRUE(sm_->ApplyMigrated(kBucket, scan, true).ok());
  EXPECT_EQ(0u, sm_->IngestedBatches());
  CheckApplied();
  EXPECT_NE("stale", Get(scan[100].area, std::string(scan[100].key)));
}

}  // namespace
}  // namespace tessera::ds
