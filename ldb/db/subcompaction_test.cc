// Parallel subcompactions (Options::max_subcompactions): randomized
// workloads (overwrites, deletes, snapshots held across compactions,
// reopens) checked against a std::map model, with small buffers and files so
// that compactions are split into several key ranges; the same workload
// with one range and with four giving the same contents; and a failing
// range failing its whole compaction.
//
// Every test runs on the in-memory Env. The seed is fixed and logged; set
// LDB_SUBCOMPACTION_SEED to replay another one.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "db/db_impl.h"
#include "db/filename.h"
#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/write_batch.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;

using Model = std::map<std::string, std::string>;

constexpr int kNumKeys = 3000;

uint64_t Seed() {
  const char* env = std::getenv("LDB_SUBCOMPACTION_SEED");
  const uint64_t seed =
      env != nullptr ? std::strtoull(env, nullptr, 10) : 20240611;
  std::fprintf(stderr, "subcompaction_test seed: %llu\n",
               static_cast<unsigned long long>(seed));
  return seed;
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "k%06d", i);
  return buf;
}

// Small buffers and files: many compactions, most big enough to split.
Options SmallOptions(Env* env, int max_subcompactions) {
  Options o;
  o.env = env;
  o.create_if_missing = true;
  o.write_buffer_size = 32 << 10;
  o.max_file_size = 16 << 10;  // the smallest allowed
  o.max_bytes_for_level_base = 256 << 10;
  o.max_subcompactions = max_subcompactions;
  return o;
}

uint64_t MultiRangeCompactions(DB* db) {
  return static_cast<DBImpl*>(db)->TEST_MultiRangeCompactions();
}

// Every entry of db (as of snap), as "key=value\n" lines; checks the
// backward walk agrees with the forward one.
std::string DbContents(DB* db, const Snapshot* snap = nullptr) {
  ReadOptions ro;
  ro.snapshot = snap;
  std::unique_ptr<Iterator> it = db->NewIterator(ro);
  std::string forward;
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    forward += it->key().ToString() + "=" + it->value().ToString() + "\n";
    keys.push_back(it->key().ToString());
  }
  EXPECT_TRUE(IsOk(it->status()));
  size_t i = keys.size();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    if (i == 0) {
      ADD_FAILURE() << "backward walk is longer than the forward one";
      break;
    }
    --i;
    EXPECT_EQ(keys[i], it->key().ToString());
  }
  EXPECT_EQ(0u, i);
  return forward;
}

std::string ModelContents(const Model& model) {
  std::string r;
  for (const auto& [k, v] : model) r += k + "=" + v + "\n";
  return r;
}

// Checks every key of the key space with Get, as of snap.
void CheckGets(DB* db, const Model& model, const Snapshot* snap = nullptr) {
  ReadOptions ro;
  ro.snapshot = snap;
  for (int i = 0; i < kNumKeys; ++i) {
    const std::string key = Key(i);
    std::string value;
    const Status s = db->Get(ro, key, &value);
    auto it = model.find(key);
    if (it == model.end()) {
      ASSERT_TRUE(s.IsNotFound()) << key << ": " << s.ToString();
    } else {
      ASSERT_TRUE(IsOk(s)) << key;
      ASSERT_EQ(it->second, value) << key;
    }
  }
}

// One table file as listed by "ldb.sstables".
struct FileRange {
  uint64_t number = 0;
  std::string smallest;  // user keys (printable in these tests)
  std::string largest;
};

// Parses "ldb.sstables": per level, the files and their user-key ranges.
std::vector<std::vector<FileRange>> Sstables(DB* db) {
  std::string text;
  EXPECT_TRUE(db->GetProperty("ldb.sstables", &text));
  std::vector<std::vector<FileRange>> levels;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("--- level", 0) == 0) {
      levels.emplace_back();
      continue;
    }
    if (levels.empty() || line.empty()) continue;
    FileRange f;
    f.number = std::strtoull(line.c_str() + 1, nullptr, 10);
    // "'smallest' @ s : t .. 'largest' @ s : t]"
    const size_t q1 = line.find('\'');
    const size_t q2 = line.find('\'', q1 + 1);
    const size_t q3 = line.find('\'', q2 + 1);
    const size_t q4 = line.find('\'', q3 + 1);
    EXPECT_NE(std::string::npos, q4) << line;
    if (q4 == std::string::npos) continue;
    f.smallest = line.substr(q1 + 1, q2 - q1 - 1);
    f.largest = line.substr(q3 + 1, q4 - q3 - 1);
    levels.back().push_back(f);
  }
  return levels;
}

// Table files in the DB directory that no level lists. REQUIRES: no
// background work running.
std::set<uint64_t> DeadTables(Env* env, const std::string& dbname, DB* db) {
  std::set<uint64_t> live;
  for (const std::vector<FileRange>& level : Sstables(db)) {
    for (const FileRange& f : level) live.insert(f.number);
  }
  std::vector<std::string> children;
  EXPECT_TRUE(IsOk(env->GetChildren(dbname, &children)));
  std::set<uint64_t> dead;
  for (const std::string& child : children) {
    uint64_t number;
    FileType type;
    if (ParseFileName(child, &number, &type) && type == kTableFile &&
        live.count(number) == 0) {
      dead.insert(number);
    }
  }
  return dead;
}

// Files of every level >= 1 are sorted and share no user key, and (once
// background work is idle and obsolete files were collected) the DB
// directory holds no table file that is not live.
void CheckFiles(Env* env, const std::string& dbname, DB* db) {
  DBImpl* impl = static_cast<DBImpl*>(db);
  impl->TEST_WaitForBackgroundIdle();
  // A flush job ends by deleting obsolete files (none is pinned now). An
  // empty memtable is not flushed: give it an entry that changes nothing.
  ASSERT_TRUE(IsOk(db->Put(WriteOptions(), "~checkfiles", "")));
  ASSERT_TRUE(IsOk(db->Delete(WriteOptions(), "~checkfiles")));
  ASSERT_TRUE(IsOk(impl->TEST_CompactMemTable()));
  impl->TEST_WaitForBackgroundIdle();
  const std::vector<std::vector<FileRange>> levels = Sstables(db);
  ASSERT_EQ(static_cast<size_t>(config::kNumLevels), levels.size());
  for (size_t level = 0; level < levels.size(); ++level) {
    for (size_t i = 0; i < levels[level].size(); ++i) {
      const FileRange& f = levels[level][i];
      EXPECT_LE(f.smallest, f.largest);
      if (level >= 1 && i > 0) {
        EXPECT_LT(levels[level][i - 1].largest, f.smallest)
            << "level " << level << " files overlap";
      }
    }
  }
  for (uint64_t number : DeadTables(env, dbname, db)) {
    ADD_FAILURE() << "leftover table #" << number;
  }
}

// A snapshot and the model as of it.
struct HeldSnapshot {
  const Snapshot* snapshot;
  Model model;
};

// Applies `steps` random operations (puts that often overwrite, deletes,
// mixed batches) to db and *model.
void RandomWrites(DB* db, Model* model, Random* rnd, int steps) {
  for (int step = 0; step < steps; ++step) {
    const int op = static_cast<int>(rnd->Uniform(100));
    if (op < 60) {
      const std::string key = Key(static_cast<int>(rnd->Uniform(kNumKeys)));
      const std::string value =
          test::RandomString(rnd, 20 + static_cast<int>(rnd->Uniform(180)));
      ASSERT_TRUE(IsOk(db->Put(WriteOptions(), key, value)));
      (*model)[key] = value;
    } else if (op < 85) {
      const std::string key = Key(static_cast<int>(rnd->Uniform(kNumKeys)));
      ASSERT_TRUE(IsOk(db->Delete(WriteOptions(), key)));
      model->erase(key);
    } else {
      // A batch over a run of neighbouring keys.
      WriteBatch batch;
      Model staged = *model;
      const int first = static_cast<int>(rnd->Uniform(kNumKeys));
      const int n = 1 + static_cast<int>(rnd->Uniform(20));
      for (int i = 0; i < n; ++i) {
        const std::string key = Key((first + i) % kNumKeys);
        if (rnd->OneIn(3)) {
          batch.Delete(key);
          staged.erase(key);
        } else {
          const std::string value = test::RandomString(rnd, 50);
          batch.Put(key, value);
          staged[key] = value;
        }
      }
      ASSERT_TRUE(IsOk(db->Write(WriteOptions(), &batch)));
      *model = std::move(staged);
    }
  }
}

class SubcompactionTest : public testing::Test {
 protected:
  void SetUp() override { env_ = NewMemEnv(Env::Default()); }

  std::unique_ptr<Env> env_;
};

TEST_F(SubcompactionTest, RandomWorkloadWithSnapshotsMatchesModel) {
  Random rnd(static_cast<uint32_t>(Seed()));
  const std::string dbname = "/mem/subcompaction_model";
  const Options options = SmallOptions(env_.get(), 4);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));

  Model model;
  std::vector<HeldSnapshot> snapshots;
  uint64_t multi_range = 0;
  auto check_snapshots = [&]() {
    for (const HeldSnapshot& h : snapshots) {
      ASSERT_EQ(ModelContents(h.model), DbContents(db.get(), h.snapshot));
    }
  };
  auto release_all = [&]() {
    for (const HeldSnapshot& h : snapshots) db->ReleaseSnapshot(h.snapshot);
    snapshots.clear();
  };

  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    for (int part = 0; part < 4; ++part) {
      ASSERT_NO_FATAL_FAILURE(RandomWrites(db.get(), &model, &rnd, 1000));
      if (rnd.OneIn(2)) {
        snapshots.push_back({db->GetSnapshot(), model});
      }
      if (snapshots.size() > 3) {
        // Check the oldest against its model, then let it go.
        ASSERT_EQ(ModelContents(snapshots.front().model),
                  DbContents(db.get(), snapshots.front().snapshot));
        db->ReleaseSnapshot(snapshots.front().snapshot);
        snapshots.erase(snapshots.begin());
      }
    }
    if (round % 3 == 2) {
      // A full manual compaction while snapshots are held.
      db->CompactRange(nullptr, nullptr);
    }
    ASSERT_EQ(ModelContents(model), DbContents(db.get()));
    ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), model));
    ASSERT_NO_FATAL_FAILURE(check_snapshots());
    if (!snapshots.empty()) {
      ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), snapshots.back().model,
                                        snapshots.back().snapshot));
    }
    if (round % 4 == 3) {
      // Reopen (perhaps in the middle of a compaction).
      release_all();
      multi_range += MultiRangeCompactions(db.get());
      db.reset();
      ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));
      ASSERT_EQ(ModelContents(model), DbContents(db.get()));
    }
  }
  release_all();
  db->CompactRange(nullptr, nullptr);
  multi_range += MultiRangeCompactions(db.get());
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));
  ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), model));
  ASSERT_NO_FATAL_FAILURE(CheckFiles(env_.get(), dbname, db.get()));
  db.reset();

  ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));
  ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), model));
  ASSERT_NO_FATAL_FAILURE(CheckFiles(env_.get(), dbname, db.get()));
  EXPECT_GT(multi_range, 0u) << "no compaction was split into key ranges";
}

TEST_F(SubcompactionTest, OneRangeAndFourRangesGiveTheSameContents) {
  const uint64_t seed = Seed();
  std::string contents[2];
  Model models[2];
  uint64_t multi_range[2] = {0, 0};
  const int kRanges[2] = {1, 4};
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE("max_subcompactions " + std::to_string(kRanges[run]));
    Random rnd(static_cast<uint32_t>(seed));
    const std::string dbname =
        "/mem/subcompaction_same_" + std::to_string(kRanges[run]);
    const Options options = SmallOptions(env_.get(), kRanges[run]);
    std::unique_ptr<DB> db;
    ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));
    for (int part = 0; part < 8; ++part) {
      ASSERT_NO_FATAL_FAILURE(RandomWrites(db.get(), &models[run], &rnd, 3000));
      if (part % 3 == 1) db->CompactRange(nullptr, nullptr);
    }
    db->CompactRange(nullptr, nullptr);
    contents[run] = DbContents(db.get());
    ASSERT_EQ(ModelContents(models[run]), contents[run]);
    ASSERT_NO_FATAL_FAILURE(CheckFiles(env_.get(), dbname, db.get()));
    multi_range[run] = MultiRangeCompactions(db.get());
  }
  EXPECT_EQ(contents[0], contents[1]);
  EXPECT_EQ(0u, multi_range[0]);
  EXPECT_GT(multi_range[1], 0u);
}

// An Env that knows whether the calling thread is the background one (the
// thread of Env::Schedule, which runs flushes and compactions).
class BackgroundThreadEnv : public EnvWrapper {
 public:
  explicit BackgroundThreadEnv(Env* base) : EnvWrapper(base) {}

  void Schedule(std::function<void()> fn) override {
    EnvWrapper::Schedule([fn = std::move(fn)] {
      on_background_thread_ = true;
      fn();
    });
  }

 protected:
  static bool OnBackgroundThread() { return on_background_thread_; }

 private:
  static inline thread_local bool on_background_thread_ = false;
};

// An Env that, once armed, lets `allow` table files be created on threads
// other than the background one (Env::Schedule's) and fails the rest: only
// the extra key ranges of a split compaction write tables there.
class FailRangeTablesEnv : public BackgroundThreadEnv {
 public:
  explicit FailRangeTablesEnv(Env* base) : BackgroundThreadEnv(base) {}

  void Arm(int allow) {
    allowed_.store(allow);
    armed_.store(true);
  }
  void Disarm() { armed_.store(false); }
  int failures() const { return failures_.load(); }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override {
    const bool table =
        fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".ldb") == 0;
    if (table && armed_.load() && !OnBackgroundThread() &&
        allowed_.fetch_sub(1) <= 0) {
      failures_.fetch_add(1);
      return Status::IOError(fname, "injected table creation failure");
    }
    return EnvWrapper::NewWritableFile(fname, result);
  }

 private:
  std::atomic<bool> armed_{false};
  std::atomic<int> allowed_{0};
  std::atomic<int> failures_{0};
};

TEST_F(SubcompactionTest, FailingRangeFailsTheWholeCompaction) {
  Random rnd(static_cast<uint32_t>(Seed()));
  FailRangeTablesEnv env(env_.get());
  const std::string dbname = "/mem/subcompaction_fail";
  const Options options = SmallOptions(&env, 4);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));

  // A base of about 600 KiB spread over levels >= 1.
  Model model;
  for (int i = 0; i < kNumKeys; ++i) {
    const std::string value = test::RandomString(&rnd, 200);
    ASSERT_TRUE(IsOk(db->Put(WriteOptions(), Key(i), value)));
    model[Key(i)] = value;
  }
  db->CompactRange(nullptr, nullptr);
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));

  // Overwrites until a split compaction fails (one extra range writes its
  // first output, the next creation fails).
  env.Arm(1);
  std::string bg_error;
  bool failed = false;
  for (int round = 0; round < 40 && !failed; ++round) {
    for (int i = 0; i < 500; ++i) {
      const std::string key = Key(static_cast<int>(rnd.Uniform(kNumKeys)));
      const std::string value = test::RandomString(&rnd, 200);
      if (!db->Put(WriteOptions(), key, value).ok()) {
        failed = true;  // the sticky error: nothing was written
        break;
      }
      model[key] = value;
    }
    if (round == 20) {
      static_cast<DBImpl*>(db.get())->TEST_CompactRange(0, nullptr, nullptr);
    }
    ASSERT_TRUE(db->GetProperty("ldb.background-error", &bg_error));
    if (bg_error.find("injected") != std::string::npos) failed = true;
  }
  ASSERT_TRUE(failed);
  ASSERT_TRUE(db->GetProperty("ldb.background-error", &bg_error));
  EXPECT_NE(std::string::npos, bg_error.find("injected")) << bg_error;
  EXPECT_GT(env.failures(), 0);
  EXPECT_GT(MultiRangeCompactions(db.get()), 0u);

  // The error sticks; the compaction's inputs are still there to read.
  EXPECT_FALSE(db->Put(WriteOptions(), "x", "y").ok());
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));
  ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), model));
  db.reset();

  // Reopened on a healthy filesystem: nothing lost, and the failed
  // compaction's outputs (kept while the error stuck) deleted.
  env.Disarm();
  ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));
  ASSERT_NO_FATAL_FAILURE(CheckFiles(&env, dbname, db.get()));
  db->CompactRange(nullptr, nullptr);
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));
  ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), model));
  ASSERT_NO_FATAL_FAILURE(CheckFiles(&env, dbname, db.get()));
}

// Records, for each table file created, whether the creating thread was
// the background one (Env::Schedule's: memtable flushes and the first range
// of a compaction without compaction_nice) and its nice value.
class TableNiceEnv : public BackgroundThreadEnv {
 public:
  explicit TableNiceEnv(Env* base) : BackgroundThreadEnv(base) {}

  struct Creation {
    bool on_background_thread;
    int nice;
  };

  std::vector<Creation> creations() {
    std::lock_guard<std::mutex> l(mu_);
    return creations_;
  }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override {
    if (fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".ldb") == 0) {
      std::lock_guard<std::mutex> l(mu_);
      creations_.push_back({OnBackgroundThread(), ThreadNice()});
    }
    return EnvWrapper::NewWritableFile(fname, result);
  }

  // The calling thread's own nice value (Linux keeps one per thread).
  static int ThreadNice() {
    errno = 0;
    return ::getpriority(PRIO_PROCESS,
                         static_cast<id_t>(::syscall(SYS_gettid)));
  }

 private:
  std::mutex mu_;
  std::vector<Creation> creations_;
};

TEST_F(SubcompactionTest, CompactionNiceLowersOnlyTheMergingThreads) {
  Random rnd(static_cast<uint32_t>(Seed()));
  TableNiceEnv env(env_.get());
  Options options = SmallOptions(&env, 4);
  options.compaction_nice = 7;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(IsOk(DB::Open(options, "/mem/subcompaction_nice", &db)));
  Model model;
  for (int part = 0; part < 4; ++part) {
    ASSERT_NO_FATAL_FAILURE(RandomWrites(db.get(), &model, &rnd, 3000));
  }
  db->CompactRange(nullptr, nullptr);
  ASSERT_EQ(ModelContents(model), DbContents(db.get()));
  ASSERT_NO_FATAL_FAILURE(CheckGets(db.get(), model));
  db.reset();

  // Whatever the test process runs at, flushes keep it (the shared
  // background thread is never lowered) and merges run at 7 or lower.
  const int base = TableNiceEnv::ThreadNice();
  int flushes = 0, merges = 0;
  for (const TableNiceEnv::Creation& c : env.creations()) {
    if (c.on_background_thread) {
      ++flushes;
      EXPECT_EQ(base, c.nice) << "a table written on the background thread";
    } else {
      ++merges;
      EXPECT_EQ(std::max(base, 7), c.nice) << "a compaction output";
    }
  }
  EXPECT_GT(flushes, 0);
  EXPECT_GT(merges, 0);
  // The background thread itself is back at its own priority for whatever
  // it runs next (another DB's flush).
  std::atomic<int> later{-100};
  env.Schedule([&later] { later.store(TableNiceEnv::ThreadNice()); });
  for (int i = 0; i < 2000 && later.load() == -100; ++i) {
    env.SleepForMicroseconds(1000);
  }
  EXPECT_EQ(base, later.load());
}

}  // namespace
}  // namespace ldb
