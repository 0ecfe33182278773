// A focused end-to-end check of DBImpl: open / write / read / reopen on the
// in-memory and the POSIX Env, flushes and compactions, CompactRange, the
// open-time error cases, properties and snapshots. The full DB suites live in
// db_test.cc and friends.
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "db/db_impl.h"
#include "db/filename.h"
#include "gtest/gtest.h"
#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "util/fault_injection_env.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

// A value unique to (i, round), long enough to fill memtables quickly.
std::string Value(int i, int round, size_t len = 200) {
  std::string v = "v" + std::to_string(round) + "/" + std::to_string(i) + ":";
  while (v.size() < len) v.push_back(static_cast<char>('a' + (v.size() % 26)));
  return v;
}

using test::Get;

std::string Property(DB* db, const std::string& name) {
  std::string value;
  if (!db->GetProperty(name, &value)) return "(missing)";
  return value;
}

int FilesAtLevel(DB* db, int level) {
  return std::stoi(
      Property(db, "ldb.num-files-at-level" + std::to_string(level)));
}

int TotalTableFiles(DB* db) {
  int total = 0;
  for (int level = 0; level < config::kNumLevels; ++level) {
    total += FilesAtLevel(db, level);
  }
  return total;
}

// Same order as the bytewise comparator, another name.
class RenamedComparator final : public Comparator {
 public:
  int Compare(const Slice& a, const Slice& b) const override {
    return BytewiseComparator()->Compare(a, b);
  }
  const char* Name() const override { return "test.RenamedComparator"; }
  void FindShortestSeparator(std::string* start,
                             const Slice& limit) const override {
    BytewiseComparator()->FindShortestSeparator(start, limit);
  }
  void FindShortSuccessor(std::string* key) const override {
    BytewiseComparator()->FindShortSuccessor(key);
  }
};

// Bytewise order; "buckets" are the first byte of the key: output files
// must not straddle them.
class BucketComparator final : public Comparator {
 public:
  int Compare(const Slice& a, const Slice& b) const override {
    return BytewiseComparator()->Compare(a, b);
  }
  const char* Name() const override { return "test.BucketComparator"; }
  void FindShortestSeparator(std::string* start,
                             const Slice& limit) const override {
    BytewiseComparator()->FindShortestSeparator(start, limit);
  }
  void FindShortSuccessor(std::string* key) const override {
    BytewiseComparator()->FindShortSuccessor(key);
  }
  bool ShouldStopBefore(const Slice& start_user_key,
                        const Slice& user_key) const override {
    return start_user_key.empty() || user_key.empty() ||
           start_user_key[0] != user_key[0];
  }
};

// Parses "ldb.sstables" into (level, smallest user key, largest user key)
// per file.
struct FileRange {
  int level;
  std::string smallest;
  std::string largest;
};
std::vector<FileRange> ListFiles(DB* db) {
  std::string sstables = Property(db, "ldb.sstables");
  std::vector<FileRange> files;
  int level = -1;
  size_t pos = 0;
  while (pos < sstables.size()) {
    size_t eol = sstables.find('\n', pos);
    if (eol == std::string::npos) eol = sstables.size();
    const std::string line = sstables.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("--- level ", 0) == 0) {
      level = std::stoi(line.substr(10));
      continue;
    }
    const size_t a = line.find("['");
    const size_t b = line.find("' @", a);
    const size_t c = line.find(" .. '", b);
    const size_t d = line.find("' @", c);
    if (a == std::string::npos || d == std::string::npos) continue;
    files.push_back(
        {level, line.substr(a + 2, b - a - 2), line.substr(c + 5, d - c - 5)});
  }
  return files;
}

// Runs each test against both Envs.
class DBImplSmokeTest : public ::testing::TestWithParam<bool> {
 protected:
  DBImplSmokeTest() {
    if (UsePosix()) {
      env_ = Env::Default();
      dir_ = test::TempDir("db_impl_smoke");
      dbname_ = dir_ + "/db";
    } else {
      mem_env_ = NewMemEnv(Env::Default());
      env_ = mem_env_.get();
      dbname_ = "/mem/db_impl_smoke";
    }
    options_.env = env_;
    options_.create_if_missing = true;
  }

  ~DBImplSmokeTest() override {
    db_.reset();
    DestroyDB(dbname_, options_).IgnoreError();
    if (!dir_.empty()) env_->RemoveDir(dir_).IgnoreError();
  }

  bool UsePosix() const { return GetParam(); }

  Status TryOpen() {
    db_.reset();
    return DB::Open(options_, dbname_, &db_);
  }
  void Reopen() { ASSERT_TRUE(TryOpen().ok()); }

  Status Put(const std::string& k, const std::string& v) {
    return db_->Put(WriteOptions(), k, v);
  }

  std::unique_ptr<Env> mem_env_;
  std::string dir_;  // the POSIX runs' temp dir, holding dbname_
  // An Env wrapping env_ that a test installs in options_; outlives db_.
  std::unique_ptr<Env> wrapper_env_;
  Env* env_ = nullptr;
  std::string dbname_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_P(DBImplSmokeTest, PutGetDeleteReopen) {
  Reopen();
  ASSERT_TRUE(Put("foo", "v1").ok());
  ASSERT_TRUE(Put("bar", "v2").ok());
  EXPECT_EQ("v1", Get(db_.get(), "foo"));
  EXPECT_EQ("v2", Get(db_.get(), "bar"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "baz"));

  ASSERT_TRUE(Put("foo", "v3").ok());
  ASSERT_TRUE(db_->Delete(WriteOptions(), "bar").ok());
  EXPECT_EQ("v3", Get(db_.get(), "foo"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "bar"));

  // Reopen replays the WAL.
  Reopen();
  EXPECT_EQ("v3", Get(db_.get(), "foo"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "bar"));
  EXPECT_EQ("4", Property(db_.get(), "ldb.sequence"));  // four writes

  // And again, now from the level-0 table the replay wrote.
  ASSERT_TRUE(Put("baz", "v4").ok());
  Reopen();
  EXPECT_EQ("v3", Get(db_.get(), "foo"));
  EXPECT_EQ("v4", Get(db_.get(), "baz"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "bar"));
  EXPECT_EQ("5", Property(db_.get(), "ldb.sequence"));
}

TEST_P(DBImplSmokeTest, IteratorAndSnapshot) {
  Reopen();
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(Put("b", "2").ok());
  ASSERT_TRUE(Put("c", "3").ok());
  const Snapshot* snap = db_->GetSnapshot();
  ASSERT_TRUE(Put("b", "22").ok());
  ASSERT_TRUE(db_->Delete(WriteOptions(), "c").ok());

  EXPECT_EQ("2", Get(db_.get(), "b", snap));
  EXPECT_EQ("3", Get(db_.get(), "c", snap));
  EXPECT_EQ("22", Get(db_.get(), "b"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "c"));

  auto collect = [this](const Snapshot* s) {
    ReadOptions ro;
    ro.snapshot = s;
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    std::string out;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out += it->key().ToString() + "=" + it->value().ToString() + ";";
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  };
  EXPECT_EQ("a=1;b=22;", collect(nullptr));
  EXPECT_EQ("a=1;b=2;c=3;", collect(snap));

  // The snapshot survives a flush and a full compaction.
  ASSERT_TRUE(static_cast<DBImpl*>(db_.get())->TEST_CompactMemTable().ok());
  db_->CompactRange(nullptr, nullptr);
  EXPECT_EQ("a=1;b=2;c=3;", collect(snap));
  EXPECT_EQ("a=1;b=22;", collect(nullptr));
  db_->ReleaseSnapshot(snap);
}

TEST_P(DBImplSmokeTest, ManyWritesFlushAndCompact) {
  options_.write_buffer_size = 64 << 10;
  options_.max_file_size = 64 << 10;
  options_.max_bytes_for_level_base = 256 << 10;
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  options_.filter_policy = bloom.get();
  Reopen();

  constexpr int kKeys = 3000;
  std::map<std::string, std::string> model;
  Random rnd(301);
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < kKeys; ++n) {
      const int i = static_cast<int>(rnd.Uniform(kKeys));
      if (rnd.OneIn(10)) {
        ASSERT_TRUE(db_->Delete(WriteOptions(), Key(i)).ok());
        model.erase(Key(i));
      } else {
        const std::string v = Value(i, round);
        ASSERT_TRUE(Put(Key(i), v).ok());
        model[Key(i)] = v;
      }
    }
  }
  // 1.8 MB of writes through a 64 KiB write buffer: many flushes, and
  // compactions beyond level 0.
  ASSERT_TRUE(static_cast<DBImpl*>(db_.get())->TEST_CompactMemTable().ok());
  EXPECT_GT(TotalTableFiles(db_.get()), 1);
  int deeper = 0;
  for (int level = 1; level < config::kNumLevels; ++level) {
    deeper += FilesAtLevel(db_.get(), level);
  }
  EXPECT_GT(deeper, 0) << Property(db_.get(), "ldb.sstables");
  EXPECT_EQ("OK", Property(db_.get(), "ldb.background-error"));

  auto verify = [&]() {
    for (int i = 0; i < kKeys; ++i) {
      auto it = model.find(Key(i));
      ASSERT_EQ(it == model.end() ? "NOT_FOUND" : it->second,
                Get(db_.get(), Key(i)))
          << Key(i);
    }
    std::unique_ptr<Iterator> iter = db_->NewIterator(ReadOptions());
    auto expected = model.begin();
    for (iter->SeekToFirst(); iter->Valid(); iter->Next(), ++expected) {
      ASSERT_NE(expected, model.end());
      ASSERT_EQ(expected->first, iter->key().ToString());
      ASSERT_EQ(expected->second, iter->value().ToString());
    }
    ASSERT_TRUE(iter->status().ok());
    ASSERT_EQ(expected, model.end());
  };
  verify();

  db_->CompactRange(nullptr, nullptr);
  EXPECT_EQ(0, FilesAtLevel(db_.get(), 0));
  verify();

  Reopen();
  verify();
  EXPECT_EQ("OK", Property(db_.get(), "ldb.background-error"));
}

TEST_P(DBImplSmokeTest, CompactRangeDropsDeletedData) {
  options_.write_buffer_size = 64 << 10;
  Reopen();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(Put(Key(i), Value(i, 0)).ok());
  ASSERT_TRUE(static_cast<DBImpl*>(db_.get())->TEST_CompactMemTable().ok());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(db_->Delete(WriteOptions(), Key(i)).ok());
  }
  db_->CompactRange(nullptr, nullptr);
  EXPECT_EQ(0, TotalTableFiles(db_.get()))
      << Property(db_.get(), "ldb.sstables");
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), Key(5)));
  std::unique_ptr<Iterator> iter = db_->NewIterator(ReadOptions());
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
}

TEST_P(DBImplSmokeTest, ConcurrentWritersGroupCommit) {
  Reopen();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        WriteOptions wo;
        wo.sync = (i % 100 == 0);
        ASSERT_TRUE(
            db_->Put(wo, Key(t * kPerThread + i), Value(i, t, 50)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::to_string(kThreads * kPerThread),
            Property(db_.get(), "ldb.sequence"));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_EQ(Value(i, t, 50), Get(db_.get(), Key(t * kPerThread + i)));
    }
  }
}

TEST_P(DBImplSmokeTest, SecondOpenFailsOnLock) {
  Reopen();
  std::unique_ptr<DB> second;
  Status s = DB::Open(options_, dbname_, &second);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(nullptr, second);
  std::string msg = s.ToString();
  for (char& ch : msg) ch = static_cast<char>(std::tolower(ch));
  EXPECT_NE(std::string::npos, msg.find("lock")) << s.ToString();
  // The first handle still works.
  ASSERT_TRUE(Put("k", "v").ok());
  EXPECT_EQ("v", Get(db_.get(), "k"));
}

TEST_P(DBImplSmokeTest, ComparatorMismatchIsInvalidArgument) {
  Reopen();
  ASSERT_TRUE(Put("k", "v").ok());
  db_.reset();
  RenamedComparator renamed;
  options_.comparator = &renamed;
  Status s = TryOpen();
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("test.RenamedComparator"));
  EXPECT_NE(std::string::npos, s.ToString().find("ldb.BytewiseComparator"));
  options_.comparator = BytewiseComparator();
  Reopen();
  EXPECT_EQ("v", Get(db_.get(), "k"));
}

TEST_P(DBImplSmokeTest, MissingDbWithoutCreateIfMissing) {
  options_.create_if_missing = false;
  Status s = TryOpen();
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("does not exist"));
  // The failed open left nothing behind.
  EXPECT_FALSE(env_->FileExists(CurrentFileName(dbname_)));
  EXPECT_FALSE(env_->FileExists(InfoLogFileName(dbname_)));

  // A directory that exists but holds no DB is refused the same way.
  ASSERT_TRUE(env_->CreateDir(dbname_).ok());
  s = TryOpen();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  env_->RemoveDir(dbname_).IgnoreError();
}

TEST_P(DBImplSmokeTest, ErrorIfExists) {
  Reopen();
  db_.reset();
  options_.error_if_exists = true;
  Status s = TryOpen();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_P(DBImplSmokeTest, DamagedCurrentIsCorruption) {
  Reopen();
  ASSERT_TRUE(Put("k", "v").ok());
  db_.reset();
  ASSERT_TRUE(
      WriteStringToFile(env_, "MANIFEST-000001", CurrentFileName(dbname_))
          .ok());
  Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("newline"));

  ASSERT_TRUE(
      WriteStringToFile(env_, "MANIFEST-999999\n", CurrentFileName(dbname_))
          .ok());
  s = TryOpen();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_P(DBImplSmokeTest, Properties) {
  Reopen();
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(Put("b", "2").ok());
  ASSERT_TRUE(static_cast<DBImpl*>(db_.get())->TEST_CompactMemTable().ok());

  std::string value;
  EXPECT_TRUE(db_->GetProperty("ldb.num-files-at-level0", &value));
  EXPECT_FALSE(db_->GetProperty("ldb.num-files-at-level99", &value));
  EXPECT_FALSE(db_->GetProperty("ldb.no-such-property", &value));
  EXPECT_FALSE(db_->GetProperty("leveldb.stats", &value));
  EXPECT_EQ(1, TotalTableFiles(db_.get()));
  EXPECT_EQ("2", Property(db_.get(), "ldb.sequence"));
  EXPECT_EQ("OK", Property(db_.get(), "ldb.background-error"));

  ASSERT_TRUE(db_->GetProperty("ldb.stats", &value));
  EXPECT_NE(std::string::npos, value.find("Level"));
  ASSERT_TRUE(db_->GetProperty("ldb.sstables", &value));
  EXPECT_NE(std::string::npos, value.find("level"));
  ASSERT_TRUE(db_->GetProperty("ldb.approximate-memory-usage", &value));
  EXPECT_GT(std::stoull(value), 0u);
  ASSERT_TRUE(db_->GetProperty("ldb.largest-filenumber", &value));
  EXPECT_GE(std::stoull(value), 3u);  // MANIFEST, WALs and a table so far
}

TEST_P(DBImplSmokeTest, ApproximateSizes) {
  options_.write_buffer_size = 64 << 10;
  options_.compression = kNoCompression;
  Reopen();
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(Put(Key(i), Value(i, 0)).ok());
  db_->CompactRange(nullptr, nullptr);
  Range ranges[2] = {Range(Key(0), Key(1000)), Range(Key(1000), Key(1000))};
  uint64_t sizes[2];
  db_->GetApproximateSizes(ranges, 2, sizes);
  EXPECT_GT(sizes[0], 150u * 1000 / 2);
  EXPECT_LT(sizes[0], 300u * 1000);
  EXPECT_EQ(0u, sizes[1]);
}

// Bucket 'b' is reclaimed: ShouldDropRange says so for files inside it.
class ReclaimingBucketComparator final : public Comparator {
 public:
  int Compare(const Slice& a, const Slice& b) const override {
    return BytewiseComparator()->Compare(a, b);
  }
  const char* Name() const override { return "test.BucketComparator"; }
  void FindShortestSeparator(std::string* start,
                             const Slice& limit) const override {
    BytewiseComparator()->FindShortestSeparator(start, limit);
  }
  void FindShortSuccessor(std::string* key) const override {
    BytewiseComparator()->FindShortSuccessor(key);
  }
  bool ShouldStopBefore(const Slice& start_user_key,
                        const Slice& user_key) const override {
    return start_user_key.empty() || user_key.empty() ||
           start_user_key[0] != user_key[0];
  }
  bool ShouldDropRange(const Slice& smallest, const Slice& largest,
                       SequenceNumber /*max_seq*/) const override {
    return reclaim_b && !smallest.empty() && !largest.empty() &&
           smallest[0] == 'b' && largest[0] == 'b';
  }
  bool reclaim_b = false;
};

// Fills buckets a..e over several levels: two overlapping rounds pushed down
// by CompactRange, then two more flushes (the first may go to level 1, the
// second overlaps it and stays in level 0). The last round is 3.
void FillBuckets(DB* db, int per_bucket) {
  for (int round = 0; round < 4; ++round) {
    for (char bucket = 'a'; bucket <= 'e'; ++bucket) {
      for (int i = 0; i < per_bucket; ++i) {
        ASSERT_TRUE(db->Put(WriteOptions(), std::string(1, bucket) + Key(i),
                            Value(i, round))
                        .ok());
      }
    }
    ASSERT_TRUE(static_cast<DBImpl*>(db)->TEST_CompactMemTable().ok());
    if (round == 1) db->CompactRange(nullptr, nullptr);
  }
}

int DeepestLevelWithFiles(DB* db) {
  int deepest = -1;
  for (int level = 0; level < config::kNumLevels; ++level) {
    if (FilesAtLevel(db, level) > 0) deepest = level;
  }
  return deepest;
}

TEST_P(DBImplSmokeTest, CompactRangeSelfLevelKeepsDataInPlace) {
  ReclaimingBucketComparator cmp;
  options_.comparator = &cmp;
  options_.write_buffer_size = 64 << 10;
  Reopen();
  FillBuckets(db_.get(), 40);
  ASSERT_GT(FilesAtLevel(db_.get(), 0), 0);
  const int deepest = DeepestLevelWithFiles(db_.get());
  ASSERT_GE(deepest, 1);

  SelfLevelCompactionStats stats;
  const uint64_t limit =
      std::stoull(Property(db_.get(), "ldb.largest-filenumber")) + 1;
  ASSERT_TRUE(db_->CompactRangeSelfLevel(limit, nullptr, nullptr, &stats).ok());
  EXPECT_EQ(0, FilesAtLevel(db_.get(), 0));  // level 0 went to level 1
  EXPECT_EQ(deepest, DeepestLevelWithFiles(db_.get()))
      << "nothing may be pushed deeper";
  EXPECT_GT(stats.files_compacted, 0u);
  EXPECT_GT(stats.bytes_read, 0u);
  EXPECT_GT(stats.bytes_written, 0u);
  EXPECT_EQ(0u, stats.files_dropped_whole);
  for (char bucket = 'a'; bucket <= 'e'; ++bucket) {
    for (int i = 0; i < 40; i += 7) {
      ASSERT_EQ(Value(i, 3), Get(db_.get(), std::string(1, bucket) + Key(i)));
    }
  }

  // A limit of 0 leaves every level >= 1 alone; level 0 is empty now.
  ASSERT_TRUE(db_->CompactRangeSelfLevel(0, nullptr, nullptr, &stats).ok());
  EXPECT_EQ(0u, stats.files_compacted);
  EXPECT_EQ(0u, stats.bytes_written);

  Reopen();
  EXPECT_EQ(Value(3, 3), Get(db_.get(), "c" + Key(3)));
}

TEST_P(DBImplSmokeTest, CompactRangeSelfLevelDropsReclaimedFilesUnread) {
  ReclaimingBucketComparator cmp;
  options_.comparator = &cmp;
  options_.write_buffer_size = 64 << 10;
  Reopen();
  FillBuckets(db_.get(), 40);
  db_->CompactRange(nullptr, nullptr);  // per-bucket files below level 0

  cmp.reclaim_b = true;
  SelfLevelCompactionStats stats;
  const Slice begin("b");
  const Slice end("c");
  const uint64_t limit =
      std::stoull(Property(db_.get(), "ldb.largest-filenumber")) + 1;
  ASSERT_TRUE(db_->CompactRangeSelfLevel(limit, &begin, &end, &stats).ok());
  EXPECT_GT(stats.files_dropped_whole, 0u);
  EXPECT_EQ(0u, stats.files_compacted);  // [b, c) holds only bucket b files
  EXPECT_GT(stats.bytes_dropped, 0u);
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "b" + Key(1)));
  // Other buckets are untouched.
  EXPECT_EQ(Value(1, 3), Get(db_.get(), "a" + Key(1)));
  EXPECT_EQ(Value(1, 3), Get(db_.get(), "c" + Key(1)));
  for (const FileRange& f : ListFiles(db_.get())) {
    EXPECT_NE('b', f.smallest[0]) << f.smallest << " .. " << f.largest;
  }
}

TEST_P(DBImplSmokeTest, DestroyDBRemovesEverything) {
  Reopen();
  ASSERT_TRUE(Put("k", "v").ok());
  db_.reset();
  ASSERT_TRUE(DestroyDB(dbname_, options_).ok());
  EXPECT_FALSE(env_->FileExists(CurrentFileName(dbname_)));
  options_.create_if_missing = false;
  EXPECT_FALSE(TryOpen().ok());
}

TEST_P(DBImplSmokeTest, CompactionOutputsDoNotStraddleBuckets) {
  BucketComparator cmp;
  options_.comparator = &cmp;
  options_.write_buffer_size = 64 << 10;
  Reopen();
  // Two rounds over five buckets: the second flush overlaps the first, so
  // a real compaction (not a trivial move) merges them.
  for (int round = 0; round < 2; ++round) {
    for (char bucket = 'a'; bucket <= 'e'; ++bucket) {
      for (int i = 0; i < 40; ++i) {
        ASSERT_TRUE(Put(std::string(1, bucket) + Key(i), Value(i, round)).ok());
      }
    }
    ASSERT_TRUE(static_cast<DBImpl*>(db_.get())->TEST_CompactMemTable().ok());
  }
  db_->CompactRange(nullptr, nullptr);
  std::vector<FileRange> files = ListFiles(db_.get());
  int compacted = 0;
  for (const FileRange& f : files) {
    ASSERT_FALSE(f.smallest.empty());
    if (f.level >= 1 && f.smallest[0] == f.largest[0]) ++compacted;
  }
  // Five buckets, five compacted outputs.
  EXPECT_GE(compacted, 5) << Property(db_.get(), "ldb.sstables");
  for (char bucket = 'a'; bucket <= 'e'; ++bucket) {
    EXPECT_EQ(Value(7, 1), Get(db_.get(), std::string(1, bucket) + Key(7)));
  }
}

TEST_P(DBImplSmokeTest, CutFlushAtStopBefore) {
  BucketComparator cmp;
  options_.comparator = &cmp;
  options_.cut_flush_at_stop_before = true;
  Reopen();
  for (char bucket = 'a'; bucket <= 'e'; ++bucket) {
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(Put(std::string(1, bucket) + Key(i), Value(i, 0)).ok());
    }
  }
  ASSERT_TRUE(static_cast<DBImpl*>(db_.get())->TEST_CompactMemTable().ok());
  std::vector<FileRange> files = ListFiles(db_.get());
  ASSERT_EQ(5u, files.size()) << Property(db_.get(), "ldb.sstables");
  for (const FileRange& f : files) {
    EXPECT_EQ(f.smallest[0], f.largest[0]) << f.smallest << " .. " << f.largest;
  }
  Reopen();
  for (char bucket = 'a'; bucket <= 'e'; ++bucket) {
    EXPECT_EQ(Value(3, 0), Get(db_.get(), std::string(1, bucket) + Key(3)));
  }
}

TEST_P(DBImplSmokeTest, SyncedWritesSurviveMachineCrash) {
  auto fault_env = std::make_unique<FaultInjectionEnv>(env_);
  FaultInjectionEnv* fault = fault_env.get();
  wrapper_env_ = std::move(fault_env);
  options_.env = fault;
  options_.write_buffer_size = 64 << 10;
  Reopen();

  // Non-sync writes spread over several WALs (with flushes, maybe
  // compactions), then one sync write: after a machine crash everything up
  // to and including the sync write must be there.
  constexpr int kKeys = 2000;
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(Put(Key(i), Value(i, 0)).ok());
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db_->Put(sync, "last", "synced").ok());
  ASSERT_TRUE(Put("after", "not synced").ok());

  fault->SetFilesystemActive(false);
  db_.reset();  // background work fails quietly; nothing more is written
  ASSERT_TRUE(fault->DropUnsyncedFileData().ok());
  ASSERT_TRUE(fault->RemoveFilesCreatedAfterLastDirSync().ok());
  fault->ResetState();
  fault->SetFilesystemActive(true);

  Reopen();
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(Value(i, 0), Get(db_.get(), Key(i))) << Key(i);
  }
  EXPECT_EQ("synced", Get(db_.get(), "last"));
  EXPECT_EQ("OK", Property(db_.get(), "ldb.background-error"));
}

// Obsolete-file removal trusts ParseFileName: it must recognise exactly the
// DB's own names.
TEST(FileNameTest, ParseRoundTripsAndRejectsStrangers) {
  struct Case {
    std::string name;
    uint64_t number;
    FileType type;
  };
  const Case good[] = {
      {"100.log", 100, kLogFile},
      {"0.log", 0, kLogFile},
      {"000123.ldb", 123, kTableFile},
      {"18446744073709551615.ldb", 18446744073709551615ull, kTableFile},
      {"MANIFEST-000007", 7, kDescriptorFile},
      {"CURRENT", 0, kCurrentFile},
      {"LOCK", 0, kDBLockFile},
      {"LOG", 0, kInfoLogFile},
      {"LOG.old", 0, kInfoLogFile},
      {"000009.dbtmp", 9, kTempFile},
  };
  for (const Case& c : good) {
    uint64_t number = 99;
    FileType type = kTempFile;
    ASSERT_TRUE(ParseFileName(c.name, &number, &type)) << c.name;
    EXPECT_EQ(c.number, number) << c.name;
    EXPECT_EQ(c.type, type) << c.name;
  }
  const char* bad[] = {"",
                       "foo",
                       "foo-dx-100.log",
                       ".log",
                       "manifest",
                       "CURREN",
                       "CURRENTX",
                       "MANIFES",
                       "MANIFEST",
                       "MANIFEST-",
                       "XMANIFEST-3",
                       "MANIFEST-3x",
                       "LOC",
                       "LOCKx",
                       "LO",
                       "LOGx",
                       "18446744073709551616.log",
                       "184467440737095516150.log",
                       "100",
                       "100.",
                       "100.lop",
                       "100.sst.tmp"};
  for (const char* name : bad) {
    uint64_t number;
    FileType type;
    EXPECT_FALSE(ParseFileName(name, &number, &type)) << name;
  }
  // The generated names parse back.
  uint64_t number;
  FileType type;
  ASSERT_TRUE(ParseFileName(LogFileName("db", 42).substr(3), &number, &type));
  EXPECT_EQ(42u, number);
  EXPECT_EQ(kLogFile, type);
  ASSERT_TRUE(
      ParseFileName(DescriptorFileName("db", 5).substr(3), &number, &type));
  EXPECT_EQ(kDescriptorFile, type);
  ASSERT_TRUE(ParseFileName(TempFileName("db", 8).substr(3), &number, &type));
  EXPECT_EQ(kTempFile, type);
}

INSTANTIATE_TEST_SUITE_P(Envs, DBImplSmokeTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Posix" : "Mem";
                         });

}  // namespace
}  // namespace ldb
