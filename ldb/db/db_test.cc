// DB-level behaviour through the public API: reads and writes, iterators,
// snapshots, recovery, concurrency, open-time checks, properties.
#include "ldb/db.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ldb/cache.h"
#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/write_batch.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;
using test::Key;

// Copies every file of `from` (except LOCK) into `to` through env: the image
// a kill -9 would leave behind. REQUIRES: no background work is writing.
Status CopyDbFiles(Env* env, const std::string& from, const std::string& to) {
  env->CreateDir(to).IgnoreError();
  std::vector<std::string> children;
  Status s = env->GetChildren(from, &children);
  for (const std::string& child : children) {
    if (!s.ok()) break;
    if (child == "." || child == ".." || child == "LOCK") continue;
    std::string data;
    s = ReadFileToString(env, from + "/" + child, &data);
    if (s.ok()) s = WriteStringToFile(env, data, to + "/" + child);
  }
  return s;
}

enum class EnvKind { kPosix, kMem };

// Fixture: one DB (dbname_) in either a POSIX temp dir or an in-memory env.
class DBTest : public testing::TestWithParam<EnvKind> {
 protected:
  void SetUp() override {
    if (GetParam() == EnvKind::kMem) {
      mem_env_ = NewMemEnv(Env::Default());
      env_ = mem_env_.get();
      dbname_ = "/mem/db_test";
    } else {
      env_ = Env::Default();
      dbname_ = test::TempDir("db_test");
    }
    options_ = DefaultOptions();
    DestroyDB(dbname_, options_).IgnoreError();
    ASSERT_TRUE(IsOk(TryReopen(options_)));
  }

  void TearDown() override {
    db_.reset();
    DestroyDB(dbname_, options_).IgnoreError();
  }

  Options DefaultOptions() const {
    Options o;
    o.env = env_;
    o.create_if_missing = true;
    return o;
  }

  Status TryReopen(const Options& o) {
    db_.reset();
    return DB::Open(o, dbname_, &db_);
  }
  void Reopen() { ASSERT_TRUE(IsOk(TryReopen(options_))); }

  Status Put(const std::string& k, const std::string& v, bool sync = false) {
    WriteOptions wo;
    wo.sync = sync;
    return db_->Put(wo, k, v);
  }
  Status Delete(const std::string& k) { return db_->Delete(WriteOptions(), k); }

  // The value, "NOT_FOUND", or "ERROR: <status>".
  std::string Get(const std::string& k, const Snapshot* snap = nullptr) {
    return test::Get(db_.get(), k, snap);
  }

  // "k1=v1,k2=v2," forward; checks the backward walk agrees.
  std::string Contents(const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    std::string forward;
    std::vector<std::string> keys;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      forward += it->key().ToString() + "=" + it->value().ToString() + ",";
      keys.push_back(it->key().ToString());
    }
    EXPECT_TRUE(IsOk(it->status()));
    size_t i = keys.size();
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      EXPECT_GT(i, 0u);
      if (i == 0) break;
      --i;
      EXPECT_EQ(keys[i], it->key().ToString());
    }
    EXPECT_EQ(0u, i);
    return forward;
  }

  std::string Property(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return v;
  }
  uint64_t NumberProperty(const std::string& name) {
    std::string v = Property(name);
    char* end = nullptr;
    uint64_t n = std::strtoull(v.c_str(), &end, 10);
    EXPECT_TRUE(!v.empty() && end != nullptr && *end == '\0')
        << name << " = '" << v << "'";
    return n;
  }
  int NumFilesAtLevel(int level) {
    return static_cast<int>(NumberProperty(
        std::string("ldb.num-files-at-level") + std::to_string(level)));
  }
  int TotalTableFiles() {
    int n = 0;
    for (int level = 0; level < 7; level++) n += NumFilesAtLevel(level);
    return n;
  }
  uint64_t Size(const std::string& start, const std::string& limit) {
    Range r(start, limit);
    uint64_t size = 0;
    db_->GetApproximateSizes(&r, 1, &size);
    return size;
  }
  void CompactAll() { db_->CompactRange(nullptr, nullptr); }

  std::unique_ptr<Env> mem_env_;
  Env* env_ = nullptr;
  std::string dbname_;
  Options options_;
  std::unique_ptr<DB> db_;
};

// Only meaningful on the real file system (locks, directories, big data).
class DBPosixTest : public DBTest {};

INSTANTIATE_TEST_SUITE_P(Envs, DBTest,
                         testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         [](const testing::TestParamInfo<EnvKind>& info) {
                           return info.param == EnvKind::kMem ? "Mem" : "Posix";
                         });
INSTANTIATE_TEST_SUITE_P(Envs, DBPosixTest, testing::Values(EnvKind::kPosix),
                         [](const testing::TestParamInfo<EnvKind>&) {
                           return std::string("Posix");
                         });

TEST_P(DBTest, EmptyDb) {
  EXPECT_EQ("NOT_FOUND", Get("foo"));
  EXPECT_EQ("", Contents());
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get("foo"));
}

TEST_P(DBTest, PutGetDeleteOverwrite) {
  ASSERT_TRUE(IsOk(Put("foo", "v1")));
  EXPECT_EQ("v1", Get("foo"));
  ASSERT_TRUE(IsOk(Put("bar", "v2")));
  ASSERT_TRUE(IsOk(Put("foo", "v3")));
  EXPECT_EQ("v3", Get("foo"));
  EXPECT_EQ("v2", Get("bar"));
  ASSERT_TRUE(IsOk(Delete("foo")));
  EXPECT_EQ("NOT_FOUND", Get("foo"));
  ASSERT_TRUE(IsOk(Delete("never-written")));  // not an error
  EXPECT_EQ("NOT_FOUND", Get("never-written"));
  EXPECT_EQ("bar=v2,", Contents());
  // Same again once everything is in tables.
  CompactAll();
  EXPECT_EQ("NOT_FOUND", Get("foo"));
  EXPECT_EQ("v2", Get("bar"));
  // A newer version in the memtable shadows the table.
  ASSERT_TRUE(IsOk(Put("bar", "v4")));
  EXPECT_EQ("v4", Get("bar"));
  ASSERT_TRUE(IsOk(Delete("bar")));
  EXPECT_EQ("NOT_FOUND", Get("bar"));
  ASSERT_TRUE(IsOk(Put("foo", "v5")));
  EXPECT_EQ("foo=v5,", Contents());
}

TEST_P(DBTest, WriteBatchAppliesInOrder) {
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "2");
  batch.Delete("a");
  batch.Put("c", "3");
  batch.Put("c", "4");
  ASSERT_TRUE(IsOk(db_->Write(WriteOptions(), &batch)));
  EXPECT_EQ("b=2,c=4,", Contents());
  Reopen();
  EXPECT_EQ("b=2,c=4,", Contents());
}

TEST_P(DBTest, EmptyKeyAndLargeValues) {
  Random rnd(301);
  std::string big1 = test::RandomString(&rnd, 1 << 20);
  std::string big2 = test::RandomString(&rnd, (1 << 20) + 17);
  ASSERT_TRUE(IsOk(Put("", "empty-key-value")));
  ASSERT_TRUE(IsOk(Put("big1", big1)));
  ASSERT_TRUE(IsOk(Put("big2", big2)));
  ASSERT_TRUE(IsOk(Put("empty-value", "")));
  EXPECT_EQ("empty-key-value", Get(""));
  EXPECT_EQ(big1, Get("big1"));
  EXPECT_EQ(big2, Get("big2"));
  EXPECT_EQ("", Get("empty-value"));
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("", it->key().ToString());
  it.reset();
  Reopen();  // from the WAL
  EXPECT_EQ("empty-key-value", Get(""));
  EXPECT_EQ(big1, Get("big1"));
  EXPECT_EQ(big2, Get("big2"));
  EXPECT_EQ("", Get("empty-value"));
  CompactAll();  // from tables
  EXPECT_EQ("empty-key-value", Get(""));
  EXPECT_EQ(big1, Get("big1"));
  EXPECT_EQ(big2, Get("big2"));
  EXPECT_EQ("", Get("empty-value"));
  ASSERT_TRUE(IsOk(Delete("")));
  EXPECT_EQ("NOT_FOUND", Get(""));
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get(""));
  EXPECT_EQ(big2, Get("big2"));
}

// A std::map cursor with DB-iterator semantics, to check the real one against.
class ModelCursor {
 public:
  explicit ModelCursor(const std::map<std::string, std::string>* m) : m_(m) {}
  bool Valid() const { return valid_; }
  void SeekToFirst() { Set(m_->begin()); }
  void SeekToLast() {
    if (m_->empty()) {
      valid_ = false;
    } else {
      Set(std::prev(m_->end()));
    }
  }
  void Seek(const std::string& k) { Set(m_->lower_bound(k)); }
  void Next() { Set(std::next(it_)); }
  void Prev() {
    if (it_ == m_->begin()) {
      valid_ = false;
    } else {
      Set(std::prev(it_));
    }
  }
  const std::string& key() const { return it_->first; }
  const std::string& value() const { return it_->second; }

 private:
  void Set(std::map<std::string, std::string>::const_iterator it) {
    it_ = it;
    valid_ = it != m_->end();
  }
  const std::map<std::string, std::string>* m_;
  std::map<std::string, std::string>::const_iterator it_;
  bool valid_ = false;
};

// Random walk (seeks, steps, direction switches) of a DB iterator next to a
// model cursor; reports the first difference.
void CheckRandomWalk(DB* db, const std::map<std::string, std::string>& model,
                     uint64_t seed, int steps) {
  Random rnd(seed);
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  ModelCursor m(&model);
  for (int step = 0; step < steps; step++) {
    const uint32_t op = rnd.Uniform(10);
    std::string what;
    if (op == 0 || (!m.Valid() && op < 5)) {
      std::string target = Key(static_cast<int>(rnd.Uniform(1200)));
      if (rnd.OneIn(3)) target += "x";  // between keys
      it->Seek(target);
      m.Seek(target);
      what = "Seek(" + target + ")";
    } else if (op == 1) {
      it->SeekToFirst();
      m.SeekToFirst();
      what = "SeekToFirst";
    } else if (op == 2) {
      it->SeekToLast();
      m.SeekToLast();
      what = "SeekToLast";
    } else if (!m.Valid()) {
      continue;
    } else if (op < 6) {
      it->Next();
      m.Next();
      what = "Next";
    } else {
      it->Prev();
      m.Prev();
      what = "Prev";
    }
    ASSERT_EQ(m.Valid(), it->Valid()) << "step " << step << " " << what;
    if (m.Valid()) {
      ASSERT_EQ(m.key(), it->key().ToString())
          << "step " << step << " " << what;
      ASSERT_EQ(m.value(), it->value().ToString())
          << "step " << step << " " << what;
    }
  }
  ASSERT_TRUE(IsOk(it->status()));
}

TEST_P(DBTest, IteratorWalkAcrossMemtableAndTables) {
  options_.write_buffer_size = 32 * 1024;
  Reopen();
  Random rnd(17);
  std::map<std::string, std::string> model;
  // Layers: an old compacted base, overwrites and deletes in younger tables,
  // and the freshest changes still in the memtable.
  for (int phase = 0; phase < 3; phase++) {
    for (int i = 0; i < 1500; i++) {
      std::string k = Key(static_cast<int>(rnd.Uniform(1000)));
      if (rnd.OneIn(4)) {
        ASSERT_TRUE(IsOk(Delete(k)));
        model.erase(k);
      } else {
        std::string v =
            test::RandomString(&rnd, static_cast<int>(rnd.Uniform(60)));
        ASSERT_TRUE(IsOk(Put(k, v)));
        model[k] = v;
      }
    }
    if (phase == 0) CompactAll();
    CheckRandomWalk(db_.get(), model, 1000 + phase, 3000);
    if (HasFatalFailure()) return;
  }
  Reopen();
  CheckRandomWalk(db_.get(), model, 2000, 3000);
}

TEST_P(DBTest, IteratorSeekAndDirectionSwitch) {
  for (const char* k : {"a", "c", "e", "g"}) ASSERT_TRUE(IsOk(Put(k, k)));
  ASSERT_TRUE(IsOk(Put("c", "c2")));
  ASSERT_TRUE(IsOk(Put("d", "d")));
  ASSERT_TRUE(IsOk(Delete("d")));
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->Seek("b");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key().ToString());
  EXPECT_EQ("c2", it->value().ToString());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("a", it->key().ToString());
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key().ToString());
  it->Next();  // skips the deleted "d"
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("e", it->key().ToString());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key().ToString());
  it->Seek("d");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("e", it->key().ToString());
  it->Seek("h");
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("g", it->key().ToString());
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->SeekToFirst();
  it->Prev();
  EXPECT_FALSE(it->Valid());
  it->Seek("");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("a", it->key().ToString());
  EXPECT_TRUE(IsOk(it->status()));
}

TEST_P(DBTest, IteratorIsAStableViewWhileWriting) {
  options_.write_buffer_size = 16 * 1024;
  Reopen();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 500; i++) {
    ASSERT_TRUE(IsOk(Put(Key(i), std::string("old") + std::to_string(i))));
    model[Key(i)] = std::string("old") + std::to_string(i);
  }
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  auto expected = model.begin();
  Random rnd(5);
  // Interleave iteration with overwrites, deletes, inserts and compactions.
  while (it->Valid()) {
    ASSERT_NE(expected, model.end());
    ASSERT_EQ(expected->first, it->key().ToString());
    ASSERT_EQ(expected->second, it->value().ToString());
    for (int j = 0; j < 3; j++) {
      std::string k = Key(static_cast<int>(rnd.Uniform(600)));
      if (rnd.OneIn(3)) {
        ASSERT_TRUE(IsOk(Delete(k)));
      } else {
        ASSERT_TRUE(IsOk(Put(k, "new" + std::string(200, 'n'))));
      }
    }
    if (rnd.OneIn(100)) CompactAll();
    it->Next();
    ++expected;
  }
  EXPECT_EQ(expected, model.end());
  EXPECT_TRUE(IsOk(it->status()));
}

TEST_P(DBTest, SnapshotsSeeTheOldState) {
  ASSERT_TRUE(IsOk(Put("a", "a1")));
  ASSERT_TRUE(IsOk(Put("b", "b1")));
  const Snapshot* s1 = db_->GetSnapshot();
  ASSERT_TRUE(IsOk(Put("a", "a2")));
  ASSERT_TRUE(IsOk(Delete("b")));
  ASSERT_TRUE(IsOk(Put("c", "c2")));
  const Snapshot* s2 = db_->GetSnapshot();
  ASSERT_TRUE(IsOk(Put("a", "a3")));
  ASSERT_TRUE(IsOk(Put("b", "b3")));
  ASSERT_TRUE(IsOk(Delete("c")));

  auto check = [&] {
    EXPECT_EQ("a1", Get("a", s1));
    EXPECT_EQ("b1", Get("b", s1));
    EXPECT_EQ("NOT_FOUND", Get("c", s1));
    EXPECT_EQ("a=a1,b=b1,", Contents(s1));
    EXPECT_EQ("a2", Get("a", s2));
    EXPECT_EQ("NOT_FOUND", Get("b", s2));
    EXPECT_EQ("c2", Get("c", s2));
    EXPECT_EQ("a=a2,c=c2,", Contents(s2));
    EXPECT_EQ("a=a3,b=b3,", Contents());
  };
  check();
  // Compactions must keep every version a live snapshot can see.
  CompactAll();
  check();
  for (int i = 0; i < 2000; i++) {
    ASSERT_TRUE(IsOk(Put("a", std::string("filler") + std::to_string(i))));
  }
  CompactAll();
  EXPECT_EQ("a1", Get("a", s1));
  EXPECT_EQ("a2", Get("a", s2));
  db_->ReleaseSnapshot(s1);
  EXPECT_EQ("a2", Get("a", s2));
  EXPECT_EQ("NOT_FOUND", Get("b", s2));
  db_->ReleaseSnapshot(s2);
  CompactAll();
  EXPECT_EQ("a=filler1999,b=b3,", Contents());
}

TEST_P(DBTest, ValuesSurviveReopen) {
  Random rnd(7);
  std::map<std::string, std::string> model;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 300; i++) {
      std::string k = Key(static_cast<int>(rnd.Uniform(400)));
      std::string v =
          test::RandomString(&rnd, static_cast<int>(rnd.Uniform(100)));
      ASSERT_TRUE(IsOk(Put(k, v)));
      model[k] = v;
    }
    if (round == 1) CompactAll();
    Reopen();
    for (const auto& [k, v] : model) ASSERT_EQ(v, Get(k)) << k;
  }
  std::string expected;
  for (const auto& [k, v] : model) expected += k + "=" + v + ",";
  EXPECT_EQ(expected, Contents());
}

TEST_P(DBTest, RecoverFromWal) {
  options_.write_buffer_size = 8 << 20;  // nothing is flushed
  Reopen();
  ASSERT_TRUE(IsOk(Put("foo", "v1")));
  ASSERT_TRUE(IsOk(Put("baz", "v5")));
  ASSERT_TRUE(IsOk(Delete("foo")));
  ASSERT_TRUE(IsOk(Put("bar", "v2")));
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get("foo"));
  EXPECT_EQ("v2", Get("bar"));
  EXPECT_EQ("v5", Get("baz"));
  ASSERT_TRUE(IsOk(Put("bar", "v3")));
  Reopen();
  EXPECT_EQ("v3", Get("bar"));
  ASSERT_TRUE(IsOk(Put("foo", "v4")));
  Reopen();
  EXPECT_EQ("v4", Get("foo"));
  EXPECT_EQ("v3", Get("bar"));
  EXPECT_EQ("v5", Get("baz"));
}

// The files as a kill -9 leaves them (no close at all) must recover.
TEST_P(DBTest, RecoverFromWalWithoutClose) {
  options_.write_buffer_size = 8 << 20;
  Reopen();
  for (int i = 0; i < 1000; i++) {
    ASSERT_TRUE(IsOk(Put(Key(i), std::string("value") + std::to_string(i))));
  }
  ASSERT_TRUE(IsOk(Delete(Key(10))));
  const std::string copy = dbname_ + "_crashcopy";
  ASSERT_TRUE(IsOk(CopyDbFiles(env_, dbname_, copy)));
  db_.reset();
  std::unique_ptr<DB> db2;
  ASSERT_TRUE(IsOk(DB::Open(options_, copy, &db2)));
  std::string v;
  for (int i = 0; i < 1000; i++) {
    Status s = db2->Get(ReadOptions(), Key(i), &v);
    if (i == 10) {
      EXPECT_TRUE(s.IsNotFound()) << s.ToString();
    } else {
      ASSERT_TRUE(IsOk(s)) << Key(i);
      EXPECT_EQ(std::string("value") + std::to_string(i), v);
    }
  }
  db2.reset();
  DestroyDB(copy, options_).IgnoreError();
}

// A WAL written with a big memtable is replayed into several small ones.
TEST_P(DBTest, RecoverLargeWalIntoSmallMemtables) {
  options_.write_buffer_size = 16 << 20;
  Reopen();
  Random rnd(99);
  std::vector<std::string> values;
  for (int i = 0; i < 3000; i++) {
    values.push_back(test::RandomString(&rnd, 1000));
    ASSERT_TRUE(IsOk(Put(Key(i), values.back())));
  }
  ASSERT_EQ(0, TotalTableFiles());
  options_.write_buffer_size = 100 * 1024;
  Reopen();
  for (int i = 0; i < 3000; i++) ASSERT_EQ(values[i], Get(Key(i))) << i;
  ASSERT_TRUE(IsOk(Put(Key(0), "after")));
  Reopen();
  EXPECT_EQ("after", Get(Key(0)));
  for (int i = 1; i < 3000; i++) ASSERT_EQ(values[i], Get(Key(i))) << i;
}

// Regression target: tombstones dropped while an older value still lives in
// a deeper level make deleted keys come back.
TEST_P(DBPosixTest, DeletedKeysNeverComeBack) {
  options_.write_buffer_size = 4 << 20;
  Reopen();
  constexpr int kNumKeys = 1100000;
  auto key16 = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%016d", i);
    return std::string(buf, 16);
  };
  WriteBatch batch;
  for (int i = 0; i < kNumKeys; i++) {
    batch.Put(key16(i), std::string("v") + std::to_string(i % 1000));
    if (batch.Count() == 1000) {
      ASSERT_TRUE(IsOk(db_->Write(WriteOptions(), &batch)));
      batch.Clear();
    }
  }
  CompactAll();
  EXPECT_GT(TotalTableFiles(), 0);
  EXPECT_EQ("v0", Get(key16(0)));
  EXPECT_EQ("v999", Get(key16(kNumKeys - 1)));
  for (int i = 0; i < kNumKeys; i++) {
    batch.Delete(key16(i));
    if (batch.Count() == 1000) {
      ASSERT_TRUE(IsOk(db_->Write(WriteOptions(), &batch)));
      batch.Clear();
    }
  }
  auto count_live = [&] {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    int live = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) live++;
    EXPECT_TRUE(IsOk(it->status()));
    return live;
  };
  EXPECT_EQ(0, count_live());
  CompactAll();
  EXPECT_EQ(0, count_live());
  Reopen();
  EXPECT_EQ(0, count_live());
  int resurrected = 0;
  for (int i = 0; i < kNumKeys; i += 997) {
    if (Get(key16(i)) != "NOT_FOUND") resurrected++;
  }
  EXPECT_EQ(0, resurrected);
}

// Four writers each own keys with increasing values and read the others'
// keys; one thread iterates. Nothing read may be malformed or go backwards.
TEST_P(DBTest, ConcurrentWritersReadersAndIterator) {
  options_.write_buffer_size = 64 * 1024;
  Reopen();
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 100;
  constexpr int kOpsPerThread = 15000;
  auto key_of = [](int t, int k) {
    return std::string("t") + std::to_string(t) + std::string("k") +
           std::to_string(1000 + k);
  };
  auto value_of = [](const std::string& key, uint64_t counter) {
    return key + std::string(":") + std::to_string(counter) + ":" +
           std::string(counter % 50, 'x');
  };
  // Parses a value of `key`; -1 when malformed.
  auto parse = [](const std::string& key, const std::string& v) -> int64_t {
    if (v.compare(0, key.size() + 1, key + ":") != 0) return -1;
    size_t colon = v.find(':', key.size() + 1);
    if (colon == std::string::npos || colon == key.size() + 1) return -1;
    int64_t counter = 0;
    for (size_t i = key.size() + 1; i < colon; i++) {
      if (v[i] < '0' || v[i] > '9') return -1;
      counter = counter * 10 + (v[i] - '0');
    }
    if (v.size() - colon - 1 != static_cast<size_t>(counter % 50)) return -1;
    for (size_t i = colon + 1; i < v.size(); i++) {
      if (v[i] != 'x') return -1;
    }
    return counter;
  };

  std::atomic<int> writers_done{0};
  std::atomic<int> errors{0};
  std::vector<std::string> first_error(kThreads + 1);
  auto fail = [&](int t, const std::string& msg) {
    errors.fetch_add(1);
    if (first_error[t].empty()) first_error[t] = msg;  // slot t: thread t only
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      Random rnd(1000 + t);
      std::map<std::string, int64_t> seen;
      for (int op = 1; op <= kOpsPerThread && errors.load() == 0; op++) {
        std::string k =
            key_of(t, static_cast<int>(rnd.Uniform(kKeysPerThread)));
        Status s = db_->Put(WriteOptions(), k, value_of(k, op));
        if (!s.ok()) fail(t, "put: " + s.ToString());
        int other = static_cast<int>(rnd.Uniform(kThreads));
        std::string ok =
            key_of(other, static_cast<int>(rnd.Uniform(kKeysPerThread)));
        std::string v;
        s = db_->Get(ReadOptions(), ok, &v);
        if (s.IsNotFound()) {
          if (seen.count(ok)) fail(t, "value vanished for " + ok);
        } else if (!s.ok()) {
          fail(t, "get: " + s.ToString());
        } else {
          int64_t c = parse(ok, v);
          if (c < 0) fail(t, "malformed value for " + ok + ": " + v);
          if (c < seen[ok]) fail(t, "value went backwards for " + ok);
          seen[ok] = c;
        }
      }
      writers_done.fetch_add(1);
    });
  }
  int iterations = 0;
  threads.emplace_back([&] {
    std::map<std::string, int64_t> seen;
    bool last_pass = false;
    while (errors.load() == 0) {
      // One full pass after the writers finish, then stop.
      if (writers_done.load() == kThreads) last_pass = true;
      std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
      std::string prev;
      bool first = true;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string k = it->key().ToString();
        if (!first && !(prev < k)) fail(kThreads, "keys out of order: " + k);
        first = false;
        prev = k;
        int64_t c = parse(k, it->value().ToString());
        if (c < 0) fail(kThreads, "iterator: malformed value for " + k);
        if (c < seen[k]) fail(kThreads, "iterator: value went backwards " + k);
        seen[k] = c;
      }
      if (!it->status().ok())
        fail(kThreads, "iter: " + it->status().ToString());
      iterations++;
      if (last_pass) break;
    }
  });
  for (auto& th : threads) th.join();
  for (int t = 0; t <= kThreads; t++) {
    EXPECT_TRUE(first_error[t].empty())
        << "thread " << t << ": " << first_error[t];
  }
  EXPECT_EQ(0, errors.load());
  EXPECT_GE(iterations, 1);
  // The final state: every key holds its writer's last value for it.
  std::string v;
  int found = 0;
  for (int t = 0; t < kThreads; t++) {
    for (int k = 0; k < kKeysPerThread; k++) {
      Status s = db_->Get(ReadOptions(), key_of(t, k), &v);
      if (s.ok()) {
        found++;
        EXPECT_GE(parse(key_of(t, k), v), 0);
      }
    }
  }
  EXPECT_EQ(kThreads * kKeysPerThread, found);
}

TEST_P(DBPosixTest, SecondOpenFailsOnLock) {
  ASSERT_TRUE(IsOk(Put("k", "v")));
  std::unique_ptr<DB> db2;
  Status s = DB::Open(options_, dbname_, &db2);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(nullptr, db2);
  EXPECT_NE(std::string::npos, s.ToString().find("LOCK")) << s.ToString();
  EXPECT_EQ("v", Get("k"));  // the first handle is unharmed
  db_.reset();
  ASSERT_TRUE(IsOk(DB::Open(options_, dbname_, &db2)));  // lock released
  std::string v;
  ASSERT_TRUE(IsOk(db2->Get(ReadOptions(), "k", &v)));
  EXPECT_EQ("v", v);
}

TEST_P(DBTest, OpenNonDbWithoutCreateFails) {
  db_.reset();
  const std::string dir = dbname_ + "_notadb";
  env_->CreateDir(dir).IgnoreError();
  ASSERT_TRUE(IsOk(WriteStringToFile(env_, "hello", dir + "/junk.txt")));
  Options o = DefaultOptions();
  o.create_if_missing = false;
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, dir, &db);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(nullptr, db);
  EXPECT_FALSE(env_->FileExists(dir + "/CURRENT"));
  EXPECT_TRUE(env_->FileExists(dir + "/junk.txt"));
  // A directory that does not exist at all.
  s = DB::Open(o, dbname_ + "_missing", &db);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(env_->FileExists(dbname_ + "_missing/CURRENT"));
  // Clean up whatever the failed opens left (LOCK, LOG, ...).
  env_->RemoveFile(dir + "/junk.txt").IgnoreError();
  DestroyDB(dir, o).IgnoreError();
  DestroyDB(dbname_ + "_missing", o).IgnoreError();
}

TEST_P(DBTest, ErrorIfExists) {
  ASSERT_TRUE(IsOk(Put("k", "v")));
  db_.reset();
  Options o = DefaultOptions();
  o.error_if_exists = true;
  Status s = DB::Open(o, dbname_, &db_);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  Reopen();
  EXPECT_EQ("v", Get("k"));  // untouched
  // error_if_exists on a fresh name is fine.
  std::unique_ptr<DB> db2;
  const std::string fresh = dbname_ + "_fresh";
  DestroyDB(fresh, o).IgnoreError();
  ASSERT_TRUE(IsOk(DB::Open(o, fresh, &db2)));
  db2.reset();
  EXPECT_TRUE(IsOk(DestroyDB(fresh, o)));
}

// Same order as bytewise, another name: the DB must refuse it.
class OtherNameComparator : public Comparator {
 public:
  int Compare(const Slice& a, const Slice& b) const override {
    return BytewiseComparator()->Compare(a, b);
  }
  const char* Name() const override { return "ldb.test.OtherNameComparator"; }
  void FindShortestSeparator(std::string*, const Slice&) const override {}
  void FindShortSuccessor(std::string*) const override {}
};

TEST_P(DBTest, DifferentComparatorIsInvalidArgument) {
  ASSERT_TRUE(IsOk(Put("k", "v")));
  CompactAll();
  db_.reset();
  OtherNameComparator cmp;
  Options o = DefaultOptions();
  o.comparator = &cmp;
  Status s = DB::Open(o, dbname_, &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  Reopen();
  EXPECT_EQ("v", Get("k"));
}

TEST_P(DBTest, Properties) {
  std::string v;
  EXPECT_FALSE(db_->GetProperty("ldb.no-such-property", &v));
  EXPECT_FALSE(db_->GetProperty("ldb.num-files-at-level99", &v));
  EXPECT_EQ(0u, NumberProperty("ldb.sequence"));
  const uint64_t mem0 = NumberProperty("ldb.approximate-memory-usage");
  const uint64_t files0 = NumberProperty("ldb.largest-filenumber");

  // 100 puts + 20 deletes + a batch of 5 = 125 writes.
  for (int i = 0; i < 100; i++) {
    ASSERT_TRUE(IsOk(Put(Key(i), std::string(1000, 'v'))));
  }
  for (int i = 0; i < 20; i++) ASSERT_TRUE(IsOk(Delete(Key(i))));
  WriteBatch batch;
  for (int i = 0; i < 5; i++) batch.Put(Key(500 + i), "b");
  ASSERT_TRUE(IsOk(db_->Write(WriteOptions(), &batch)));
  EXPECT_EQ(125u, NumberProperty("ldb.sequence"));
  EXPECT_GT(NumberProperty("ldb.approximate-memory-usage"), mem0 + 100000);

  for (int level = 0; level < 7; level++) EXPECT_EQ(0, NumFilesAtLevel(level));
  EXPECT_FALSE(Property("ldb.stats").empty());
  CompactAll();
  EXPECT_GT(TotalTableFiles(), 0);
  EXPECT_GT(NumberProperty("ldb.largest-filenumber"), files0);
  EXPECT_FALSE(Property("ldb.sstables").empty());
  EXPECT_FALSE(Property("ldb.stats").empty());
  EXPECT_EQ(125u, NumberProperty("ldb.sequence"));
  EXPECT_EQ("OK", Property("ldb.background-error"));
  Reopen();
  EXPECT_EQ(125u, NumberProperty("ldb.sequence"));
  ASSERT_TRUE(IsOk(Put("x", "y")));
  EXPECT_EQ(126u, NumberProperty("ldb.sequence"));

  // Level-0 files pile up when compaction of level 0 is not triggered.
  options_.write_buffer_size = 16 * 1024;
  options_.level0_file_num_compaction_trigger = 100;
  options_.level0_slowdown_writes_trigger = 200;
  options_.level0_stop_writes_trigger = 300;
  Reopen();
  const std::string before = Property("ldb.sstables");
  for (int round = 0; round < 6; round++) {
    for (int i = 0; i < 100; i++) {
      ASSERT_TRUE(IsOk(Put(Key(i), std::string(500, 'a' + round))));
    }
  }
  EXPECT_GT(NumFilesAtLevel(0), 0);
  EXPECT_NE(before, Property("ldb.sstables"));
}

TEST_P(DBTest, ApproximateSizesGrowWithData) {
  options_.compression = kNoCompression;
  Reopen();
  Random rnd(11);
  EXPECT_LT(Size("", "~"), 1000u);
  for (int i = 0; i < 100; i++) {
    ASSERT_TRUE(IsOk(Put(Key(i), test::RandomString(&rnd, 10000))));
  }
  CompactAll();
  const uint64_t all = Size(Key(0), Key(100));
  EXPECT_GE(all, 900000u);
  EXPECT_LE(all, 1200000u);
  const uint64_t half = Size(Key(0), Key(50));
  EXPECT_GE(half, 400000u);
  EXPECT_LE(half, 650000u);
  EXPECT_LT(Size(Key(200), Key(300)), 20000u);
  for (int i = 100; i < 200; i++) {
    ASSERT_TRUE(IsOk(Put(Key(i), test::RandomString(&rnd, 10000))));
  }
  CompactAll();
  EXPECT_GE(Size(Key(0), Key(200)), all + 900000u);
  EXPECT_GE(Size(Key(100), Key(200)), 900000u);
  Range ranges[2] = {Range(Key(0), Key(100)), Range(Key(100), Key(200))};
  uint64_t sizes[2] = {0, 0};
  db_->GetApproximateSizes(ranges, 2, sizes);
  EXPECT_GE(sizes[0], 900000u);
  EXPECT_GE(sizes[1], 900000u);
}

TEST_P(DBPosixTest, DestroyDbRemovesTheDirectory) {
  for (int i = 0; i < 1000; i++) ASSERT_TRUE(IsOk(Put(Key(i), "v")));
  CompactAll();
  ASSERT_TRUE(IsOk(Put("in-wal", "v")));
  db_.reset();
  ASSERT_TRUE(std::filesystem::exists(dbname_));
  ASSERT_TRUE(IsOk(DestroyDB(dbname_, options_)));
  EXPECT_FALSE(std::filesystem::exists(dbname_));
  EXPECT_TRUE(IsOk(DestroyDB(dbname_, options_)));  // already gone: fine
  // A fresh DB under the same name starts empty.
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get(Key(1)));
  EXPECT_EQ("NOT_FOUND", Get("in-wal"));
}

TEST_P(DBTest, BloomFilterAndSmallCache) {
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  std::unique_ptr<Cache> cache = NewLRUCache(64 * 1024);
  options_.filter_policy = bloom.get();
  options_.block_cache = cache.get();
  options_.block_size = 512;
  Reopen();
  for (int i = 0; i < 5000; i += 2) {
    ASSERT_TRUE(IsOk(Put(Key(i), std::string("v") + std::to_string(i))));
  }
  CompactAll();
  for (int i = 0; i < 5000; i++) {
    if (i % 2 == 0) {
      ASSERT_EQ(std::string("v") + std::to_string(i), Get(Key(i)));
    } else {
      ASSERT_EQ("NOT_FOUND", Get(Key(i)));
    }
  }
  db_.reset();  // the DB must go before the cache and the policy
  options_.filter_policy = nullptr;
  options_.block_cache = nullptr;
}

}  // namespace
}  // namespace ldb
