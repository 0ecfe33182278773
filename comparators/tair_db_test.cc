// ldb opened the Tair way: BitcmpComparator over the GC registry and the
// expire bloom policy (comparators/README.md, "Using it with ldb"). Checks
// the behaviour end to end: TTL expiry with a fake clock, bucket and area
// reclaim through the registry and CompactRangeSelfLevel, the registry across
// restarts (and a torn GCLOG tail), and compaction outputs cut per bucket.
#include <atomic>
#include <cinttypes>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "comparators/bitcmp_comparator.h"
#include "comparators/expire_bloom_policy.h"
#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "db/db_impl.h"
#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "ldb/iterator.h"
#include "ldb/options.h"

namespace tessera::comparators {
namespace {

constexpr uint64_t kStartTime = 1'700'000'000;

// An Env whose NowSeconds the test sets. Thread-safe.
class FakeClockEnv final : public ldb::EnvWrapper {
 public:
  explicit FakeClockEnv(ldb::Env* base) : ldb::EnvWrapper(base) {}
  uint64_t NowSeconds() override { return now_.load(); }
  void Advance(uint64_t seconds) { now_.fetch_add(seconds); }
  uint32_t now() const { return static_cast<uint32_t>(now_.load()); }

 private:
  std::atomic<uint64_t> now_{kStartTime};
};

std::string K(uint32_t bucket, uint16_t area, const std::string& user,
              uint32_t expire = kNeverExpire) {
  return EncodeStoredKey(expire, bucket, area, user);
}
std::string UserKey(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "user%05d", i);
  return buf;
}

// Undoes ldb's AppendEscapedStringTo ("\xNN" for unprintable bytes and '\').
std::string Unescape(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      r.push_back(
          static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16)));
      i += 3;
    } else {
      r.push_back(s[i]);
    }
  }
  return r;
}

struct TableInfo {
  int level = -1;
  uint64_t number = 0;
  uint64_t size = 0;
  std::string smallest;  // stored keys
  std::string largest;
};

class TairDbTest : public testing::Test {
 protected:
  TairDbTest()
      : mem_env_(ldb::NewMemEnv(ldb::Env::Default())),
        env_(mem_env_.get()),
        filter_(NewExpireBloomFilterPolicy(10)) {}
  ~TairDbTest() override { Close(); }

  void Close() {
    db_.reset();
    comparator_.reset();
    registry_.reset();
  }

  // Opens the registry, then the DB, as a Tessera dataserver does.
  void Open() {
    Close();
    ASSERT_TRUE(GcRegistry::Open(&env_, kDb, &registry_).ok());
    comparator_ = std::make_unique<BitcmpComparator>(registry_.get());
    ldb::Options options;
    options.env = &env_;
    options.create_if_missing = true;
    options.comparator = comparator_.get();
    options.filter_policy = filter_.get();
    options.write_buffer_size = 64 << 10;
    options.max_file_size = 32 << 10;
    options.compression = ldb::kNoCompression;
    ASSERT_TRUE(ldb::DB::Open(options, kDb, &db_).ok());
  }
  ldb::DBImpl* dbfull() { return static_cast<ldb::DBImpl*>(db_.get()); }

  void Put(const std::string& key, const std::string& user_value) {
    ValueMeta meta;
    meta.created = meta.modified = env_.now();
    KeyParts parts;
    ASSERT_TRUE(DecodeStoredKey(key, &parts));
    meta.expire = parts.expire;
    ASSERT_TRUE(
        db_->Put(ldb::WriteOptions(), key, EncodeStoredValue(meta, user_value))
            .ok());
  }
  // The user value, "NOT_FOUND" or "ERROR: ...".
  std::string Get(const std::string& key) {
    std::string stored;
    ldb::Status s = db_->Get(ldb::ReadOptions(), key, &stored);
    if (s.IsNotFound()) return "NOT_FOUND";
    if (!s.ok()) return "ERROR: " + s.ToString();
    ValueMeta meta;
    ldb::Slice user_value;
    if (!DecodeStoredValue(stored, &meta, &user_value)) return "ERROR: value";
    return user_value.ToString();
  }
  void Flush() { ASSERT_TRUE(dbfull()->TEST_CompactMemTable().ok()); }

  // Visible keys of `bucket` (every area), in order, as "area/user".
  std::vector<std::string> BucketKeys(uint32_t bucket) {
    std::vector<std::string> keys;
    std::unique_ptr<ldb::Iterator> it = db_->NewIterator(ldb::ReadOptions());
    for (it->Seek(BucketKeyRange(bucket).start); it->Valid(); it->Next()) {
      KeyParts parts;
      EXPECT_TRUE(DecodeStoredKey(it->key(), &parts));
      if (parts.bucket != bucket) break;
      keys.push_back(std::to_string(parts.area) + "/" +
                     parts.user_key.ToString());
    }
    EXPECT_TRUE(it->status().ok());
    return keys;
  }

  uint64_t RangeBytes(const StoredKeyRange& r) {
    const std::string limit = r.limit ? *r.limit : std::string(16, '\xff');
    const ldb::Range range(r.start, limit);
    uint64_t size = 0;
    db_->GetApproximateSizes(&range, 1, &size);
    return size;
  }
  uint64_t NumProperty(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::stoull(v);
  }

  // Reclaims `bucket` (every area) as of now, the way the dataserver does.
  GcEntry ReclaimBucket(uint32_t bucket) {
    GcEntry e;
    e.kind = GcKind::kBucket;
    e.bucket = bucket;
    e.sequence = NumProperty("ldb.sequence");
    e.file_number = NumProperty("ldb.largest-filenumber") + 1;
    e.created = env_.now();
    EXPECT_TRUE(registry_->Add(e).ok());
    return e;
  }
  // Runs the cleanup compaction of `r` below `file_number`.
  ldb::SelfLevelCompactionStats Cleanup(const StoredKeyRange& r,
                                        uint64_t file_number) {
    ldb::SelfLevelCompactionStats stats;
    const ldb::Slice begin(r.start);
    ldb::Slice end;
    if (r.limit) end = *r.limit;
    EXPECT_TRUE(db_->CompactRangeSelfLevel(file_number, &begin,
                                           r.limit ? &end : nullptr, &stats)
                    .ok());
    return stats;
  }

  // The live tables, from "ldb.sstables".
  std::vector<TableInfo> Tables() {
    std::string text;
    EXPECT_TRUE(db_->GetProperty("ldb.sstables", &text));
    std::vector<TableInfo> tables;
    int level = -1;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      const std::string line = text.substr(pos, eol - pos);
      pos = eol + 1;
      if (line.rfind("--- level ", 0) == 0) {
        level = std::stoi(line.substr(10));
        continue;
      }
      const size_t colon = line.find(':');
      const size_t a = line.find("['");
      const size_t b = line.find("' @ ", a);
      const size_t c = line.find(" .. '", b);
      const size_t d = line.find("' @ ", c);
      if (colon == std::string::npos || a == std::string::npos ||
          d == std::string::npos) {
        ADD_FAILURE() << "unparsed sstables line: " << line;
        continue;
      }
      TableInfo t;
      t.level = level;
      t.number = std::stoull(line.substr(0, colon));
      t.size = std::stoull(line.substr(colon + 1));
      t.smallest = Unescape(line.substr(a + 2, b - a - 2));
      t.largest = Unescape(line.substr(c + 5, d - c - 5));
      tables.push_back(t);
    }
    return tables;
  }

  // Writes keys 0..n-1 of every area in [0, areas) of every bucket in
  // [first, last], values of ~100 bytes tagged with `tag`.
  void Fill(uint32_t first, uint32_t last, int areas, int n,
            const std::string& tag) {
    for (int i = 0; i < n; ++i) {
      for (uint32_t b = first; b <= last; ++b) {
        for (int a = 0; a < areas; ++a) {
          Put(K(b, static_cast<uint16_t>(a), UserKey(i)),
              tag + std::string(100, 'v'));
        }
      }
    }
  }

  const std::string kDb = "/tairdb";
  std::unique_ptr<ldb::Env> mem_env_;
  FakeClockEnv env_;
  std::unique_ptr<const ldb::FilterPolicy> filter_;
  // Destroyed in reverse: the DB first, then the comparator, then the
  // registry it reads.
  std::unique_ptr<GcRegistry> registry_;
  std::unique_ptr<BitcmpComparator> comparator_;
  std::unique_ptr<ldb::DB> db_;
};

// ---------------------------------------------------------------- TTL

TEST_F(TairDbTest, TtlKeyExpiresWithTheClockEverywhere) {
  Open();
  const uint32_t t = env_.now();
  Put(K(1, 0, "forever"), "f");
  Put(K(1, 0, "short", t + 10), "s");
  Put(K(1, 0, "long", t + 1000), "l");
  for (int stage = 0; stage < 3; ++stage) {
    // Lookups carry expire 0: the comparator and the bloom filter ignore it.
    EXPECT_EQ("s", Get(K(1, 0, "short")));
    EXPECT_EQ("l", Get(K(1, 0, "long")));
    if (stage == 0) Flush();
    if (stage == 1) db_->CompactRange(nullptr, nullptr);
  }
  EXPECT_EQ((std::vector<std::string>{"0/forever", "0/long", "0/short"}),
            BucketKeys(1));

  env_.Advance(10);
  EXPECT_EQ("NOT_FOUND", Get(K(1, 0, "short")));
  EXPECT_EQ("l", Get(K(1, 0, "long")));
  EXPECT_EQ((std::vector<std::string>{"0/forever", "0/long"}), BucketKeys(1));
  std::unique_ptr<ldb::Iterator> it = db_->NewIterator(ldb::ReadOptions());
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(K(1, 0, "long", t + 1000), it->key().ToString());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(K(1, 0, "forever"), it->key().ToString());
  it.reset();

  // A new TTL rewrites the key: the expired entry is replaced.
  Put(K(1, 0, "short", t + 100), "s2");
  EXPECT_EQ("s2", Get(K(1, 0, "short")));
  db_->CompactRange(nullptr, nullptr);
  Open();
  EXPECT_EQ("s2", Get(K(1, 0, "short")));
  env_.Advance(1000);
  EXPECT_EQ((std::vector<std::string>{"0/forever"}), BucketKeys(1));
}

// kvrocks #2315 with the real comparator: v1 (no TTL) at the bottom, v2 with
// a TTL above it; once v2 expires, no compaction may bring v1 back.
TEST_F(TairDbTest, ExpiredVersionNeverUncoversAnOlderOne) {
  Open();
  Put(K(4, 2, "k"), "v1");
  Flush();
  for (int l = 0; l + 1 < ldb::config::kNumLevels; ++l) {
    dbfull()->TEST_CompactRange(l, nullptr, nullptr);
  }
  ASSERT_EQ(1u, NumProperty("ldb.num-files-at-level6"));
  Put(K(4, 2, "k", env_.now() + 60), "v2");
  Put(K(4, 2, "other"), "o");
  Flush();
  env_.Advance(61);
  for (int l = 0; l + 1 < ldb::config::kNumLevels; ++l) {
    dbfull()->TEST_CompactRange(l, nullptr, nullptr);
    ASSERT_EQ("NOT_FOUND", Get(K(4, 2, "k"))) << "level " << l;
    Open();
    ASSERT_EQ("NOT_FOUND", Get(K(4, 2, "k"))) << "reopened, level " << l;
    ASSERT_EQ((std::vector<std::string>{"2/other"}), BucketKeys(4));
  }
  db_->CompactRange(nullptr, nullptr);
  ASSERT_TRUE(db_->CompactRangeSelfLevel(~uint64_t{0}, nullptr, nullptr).ok());
  Open();
  EXPECT_EQ("NOT_FOUND", Get(K(4, 2, "k")));
  EXPECT_EQ("o", Get(K(4, 2, "other")));
}

// ---------------------------------------------------------------- GC

TEST_F(TairDbTest, ReclaimedBucketIsHiddenAtOnceAndItsBytesFreed) {
  Open();
  Fill(1, 4, 2, 150, "old");
  db_->CompactRange(nullptr, nullptr);
  const uint64_t bucket2 = RangeBytes(BucketKeyRange(2));
  const uint64_t bucket3 = RangeBytes(BucketKeyRange(3));
  ASSERT_GT(bucket2, 2u * 150 * 100);

  const GcEntry e = ReclaimBucket(2);
  EXPECT_EQ("NOT_FOUND", Get(K(2, 0, UserKey(3))));
  EXPECT_EQ("NOT_FOUND", Get(K(2, 1, UserKey(149))));
  EXPECT_TRUE(BucketKeys(2).empty());
  EXPECT_EQ("old", Get(K(3, 1, UserKey(3))).substr(0, 3));

  // The bucket comes back (migrated in again) before the cleanup ran.
  Put(K(2, 1, "returned"), "r");
  Put(K(2, 0, UserKey(3)), "r3");
  EXPECT_EQ((std::vector<std::string>{"0/" + UserKey(3), "1/returned"}),
            BucketKeys(2));

  const ldb::SelfLevelCompactionStats stats =
      Cleanup(BucketKeyRange(2), e.file_number);
  EXPECT_GT(stats.bytes_dropped, bucket2 * 9 / 10);
  EXPECT_LE(stats.bytes_written, stats.bytes_dropped / 4);
  EXPECT_LT(RangeBytes(BucketKeyRange(2)), bucket2 / 50);
  EXPECT_EQ(bucket3, RangeBytes(BucketKeyRange(3)));
  ASSERT_TRUE(registry_->Remove(GcKind::kBucket, 2, 0, e.sequence).ok());

  EXPECT_EQ((std::vector<std::string>{"0/" + UserKey(3), "1/returned"}),
            BucketKeys(2));
  Open();
  EXPECT_EQ(0u, registry_->size());
  EXPECT_EQ((std::vector<std::string>{"0/" + UserKey(3), "1/returned"}),
            BucketKeys(2));
  EXPECT_EQ("r3", Get(K(2, 0, UserKey(3))));
  EXPECT_EQ("NOT_FOUND", Get(K(2, 0, UserKey(4))));
  EXPECT_EQ(150u * 2, BucketKeys(3).size());
}

TEST_F(TairDbTest, ReclaimedAreaLeavesTheRestOfItsBucket) {
  Open();
  Fill(5, 6, 3, 100, "old");
  db_->CompactRange(nullptr, nullptr);
  GcEntry e;
  e.kind = GcKind::kArea;
  e.bucket = 5;
  e.area = 1;
  e.sequence = NumProperty("ldb.sequence");
  e.file_number = NumProperty("ldb.largest-filenumber") + 1;
  e.created = env_.now();
  ASSERT_TRUE(registry_->Add(e).ok());
  EXPECT_EQ("NOT_FOUND", Get(K(5, 1, UserKey(7))));
  EXPECT_EQ("old", Get(K(5, 0, UserKey(7))).substr(0, 3));
  EXPECT_EQ("old", Get(K(5, 2, UserKey(7))).substr(0, 3));
  EXPECT_EQ(200u, BucketKeys(5).size());

  const uint64_t area0 = RangeBytes(AreaKeyRange(5, 0));
  Cleanup(AreaKeyRange(5, 1), e.file_number);
  ASSERT_TRUE(registry_->Remove(GcKind::kArea, 5, 1, e.sequence).ok());
  Open();
  EXPECT_EQ("NOT_FOUND", Get(K(5, 1, UserKey(7))));
  EXPECT_EQ(200u, BucketKeys(5).size());
  EXPECT_EQ(300u, BucketKeys(6).size());
  EXPECT_LT(RangeBytes(AreaKeyRange(5, 1)), area0 / 20);
}

TEST_F(TairDbTest, RegistrySurvivesRestartAndATornTail) {
  Open();
  Fill(7, 8, 1, 50, "old");
  Flush();
  const GcEntry e = ReclaimBucket(7);
  Put(K(7, 0, "after"), "a");
  EXPECT_EQ((std::vector<std::string>{"0/after"}), BucketKeys(7));

  // Restart before any cleanup: the registry is replayed, the bucket stays
  // hidden (also what was only in the WAL at the restart).
  Put(K(7, 0, UserKey(1)), "after1");
  Open();
  ASSERT_EQ(1u, registry_->size());
  EXPECT_EQ(e, registry_->List()[0]);
  EXPECT_EQ((std::vector<std::string>{"0/after", "0/" + UserKey(1)}),
            BucketKeys(7));

  // A torn record at the end of GCLOG (a crash in the middle of an append).
  Close();
  const std::string log = kDb + "/" + GcRegistry::kFileName;
  std::string contents;
  ASSERT_TRUE(ldb::ReadFileToString(&env_, log, &contents).ok());
  ASSERT_GE(contents.size(), 40u);  // the add record: 8 + 32 bytes
  const std::string torn = contents + contents.substr(contents.size() - 40, 20);
  ASSERT_TRUE(ldb::WriteStringToFile(&env_, torn, log).ok());
  Open();
  ASSERT_EQ(1u, registry_->size());
  EXPECT_EQ((std::vector<std::string>{"0/after", "0/" + UserKey(1)}),
            BucketKeys(7));
  EXPECT_EQ(50u, BucketKeys(8).size());

  // The cleanup then frees the bucket for good.
  Cleanup(BucketKeyRange(7), e.file_number);
  ASSERT_TRUE(registry_->Remove(GcKind::kBucket, 7, 0, e.sequence).ok());
  Open();
  EXPECT_EQ(0u, registry_->size());
  EXPECT_EQ((std::vector<std::string>{"0/after", "0/" + UserKey(1)}),
            BucketKeys(7));
  EXPECT_EQ("NOT_FOUND", Get(K(7, 0, UserKey(2))));
}

// ---------------------------------------------------------------- Outputs

TEST_F(TairDbTest, NoCompactedTableSpansTwoBuckets) {
  Open();
  // Interleaved writes over many buckets, several overlapping flushes.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 60; ++i) {
      for (uint32_t b = 0; b < 30; ++b) {
        Put(K(b * 1000 + round, static_cast<uint16_t>(i % 3), UserKey(i)),
            std::string(40, 'x'));
      }
    }
    Flush();
  }
  db_->CompactRange(nullptr, nullptr);
  int tables = 0;
  for (const TableInfo& t : Tables()) {
    if (t.level == 0) continue;
    ++tables;
    uint32_t first = 0;
    uint32_t last = 0;
    ASSERT_TRUE(GetKeyBucket(t.smallest, &first)) << t.number;
    ASSERT_TRUE(GetKeyBucket(t.largest, &last)) << t.number;
    EXPECT_EQ(first, last) << "table " << t.number << "@" << t.level;
  }
  EXPECT_GE(tables, 90);  // 90 distinct buckets
}

}  // namespace
}  // namespace tessera::comparators
