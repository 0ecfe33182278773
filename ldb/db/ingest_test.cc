// DB::IngestSorted: entries written straight into tables read back like
// written ones, shadow older entries and are shadowed by later ones, survive
// reopen and a crash, land as deep as the levels above allow, and are
// refused (nothing written) when the memtable holds a key of their range.
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "db/db_impl.h"
#include "db/dbformat.h"
#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "util/fault_injection_env.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;

// "<prefix><5 digits>".
std::string K(const std::string& prefix, int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%05d", i);
  return prefix + buf;
}

// Owns the keys and values an IngestSorted call points into.
struct SortedRun {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::pair<Slice, Slice>> Entries() const {
    std::vector<std::pair<Slice, Slice>> out;
    for (size_t i = 0; i < keys.size(); ++i) out.emplace_back(keys[i], values[i]);
    return out;
  }
};

// Keys prefix+[first, last) with values tag + key.
SortedRun MakeRun(const std::string& prefix, int first, int last, const std::string& tag) {
  SortedRun r;
  for (int i = first; i < last; ++i) {
    r.keys.push_back(K(prefix, i));
    r.values.push_back(tag + r.keys.back());
  }
  return r;
}

// Every visible key=value of db, forward; the backward walk must agree.
std::map<std::string, std::string> AllEntries(DB* db) {
  std::map<std::string, std::string> fwd;
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    fwd[it->key().ToString()] = it->value().ToString();
  }
  EXPECT_TRUE(IsOk(it->status()));
  size_t back = 0;
  for (it->SeekToLast(); it->Valid(); it->Prev()) ++back;
  EXPECT_EQ(fwd.size(), back);
  return fwd;
}

class IngestTest : public testing::Test {
 protected:
  IngestTest()
      : mem_env_(NewMemEnv(Env::Default())), env_(mem_env_.get()) {
    options_.env = &env_;
    options_.create_if_missing = true;
    options_.write_buffer_size = 64 << 10;
    options_.max_file_size = 32 << 10;
  }
  ~IngestTest() override { db_.reset(); }

  void Open() {
    db_.reset();
    ASSERT_TRUE(IsOk(DB::Open(options_, "/db", &db_)));
  }
  DBImpl* dbfull() { return static_cast<DBImpl*>(db_.get()); }
  void Put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), k, v)));
  }
  std::string Get(const std::string& k, const Snapshot* snap = nullptr) {
    return test::Get(db_.get(), k, snap);
  }
  Status Ingest(const SortedRun& r, IngestStats* stats = nullptr) {
    return db_->IngestSorted(r.Entries(), stats);
  }
  int FilesAtLevel(int level) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("ldb.num-files-at-level" + std::to_string(level), &v));
    return std::stoi(v);
  }
  int TotalFiles() {
    int n = 0;
    for (int l = 0; l < config::kNumLevels; ++l) n += FilesAtLevel(l);
    return n;
  }
  // Table files in the directory, live or not.
  int TableFilesOnDisk() {
    std::vector<std::string> children;
    EXPECT_TRUE(IsOk(env_.GetChildren("/db", &children)));
    int n = 0;
    for (const std::string& c : children) {
      n += c.size() > 4 && c.compare(c.size() - 4, 4, ".ldb") == 0;
    }
    return n;
  }
  std::map<std::string, std::string> Contents() { return AllEntries(db_.get()); }
  // Levels 0..kNumLevels-1 get three writes of [a, z] so level 0 ends up
  // with a file spanning everything: flushes go below level 0 only while
  // they overlap nothing.
  void FlushSpanningFile(const std::string& tag) {
    Put("a", tag);
    Put("z", tag);
    ASSERT_TRUE(IsOk(dbfull()->TEST_CompactMemTable()));
  }

  std::unique_ptr<Env> mem_env_;
  FaultInjectionEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(IngestTest, EntriesReadBackAndSurviveReopen) {
  Open();
  Put("a", "va");
  Put("z", "vz");
  const SortedRun run = MakeRun("m", 0, 2000, "ing-");
  IngestStats stats;
  ASSERT_TRUE(IsOk(Ingest(run, &stats)));
  // Nothing overlaps the range (the memtable holds a and z only): the
  // deepest level.
  EXPECT_EQ(config::kNumLevels - 1, stats.level);
  EXPECT_GE(stats.files, 1u);
  EXPECT_GT(stats.bytes, 2000u);  // compressed: keys share prefixes
  EXPECT_EQ(static_cast<int>(stats.files), FilesAtLevel(config::kNumLevels - 1));
  std::string st;
  ASSERT_TRUE(db_->GetProperty("ldb.stats", &st));
  EXPECT_NE(st.find("Ingested: files=" + std::to_string(stats.files)), std::string::npos)
      << st;

  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 2000; i += 97) EXPECT_EQ("ing-" + K("m", i), Get(K("m", i)));
    EXPECT_EQ("NOT_FOUND", Get(K("m", 2000)));
    const auto contents = Contents();
    EXPECT_EQ(2002u, contents.size());
    EXPECT_EQ("va", contents.at("a"));
    EXPECT_EQ("ing-" + K("m", 1999), contents.at(K("m", 1999)));
    Open();
  }
}

TEST_F(IngestTest, ShadowsOlderEntriesAndLaterWritesShadowIt) {
  Open();
  for (int i = 0; i < 100; ++i) Put(K("m", i), "old");
  db_->CompactRange(nullptr, nullptr);
  ASSERT_EQ(0, FilesAtLevel(0));
  const Snapshot* before = db_->GetSnapshot();

  const SortedRun run = MakeRun("m", 50, 150, "ing-");
  IngestStats stats;
  ASSERT_TRUE(IsOk(Ingest(run, &stats)));
  // Above the level that holds the old keys.
  int old_level = -1;
  for (int l = 0; l < config::kNumLevels; ++l) {
    if (FilesAtLevel(l) > static_cast<int>(l == stats.level ? stats.files : 0)) old_level = l;
  }
  EXPECT_LT(stats.level, old_level);
  EXPECT_EQ("old", Get(K("m", 10)));
  EXPECT_EQ("ing-" + K("m", 60), Get(K("m", 60)));
  EXPECT_EQ("ing-" + K("m", 140), Get(K("m", 140)));
  // A snapshot from before the call does not see the entries.
  EXPECT_EQ("old", Get(K("m", 60), before));
  EXPECT_EQ("NOT_FOUND", Get(K("m", 140), before));
  db_->ReleaseSnapshot(before);

  Put(K("m", 60), "new");
  ASSERT_TRUE(IsOk(db_->Delete(WriteOptions(), K("m", 70))));
  EXPECT_EQ("new", Get(K("m", 60)));
  EXPECT_EQ("NOT_FOUND", Get(K("m", 70)));
  Open();
  // Written after the reopen: the sequence numbers handed out now are above
  // the ingested entries' (the MANIFEST recorded it).
  Put(K("m", 80), "after-reopen");
  EXPECT_EQ("after-reopen", Get(K("m", 80)));
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ("old", Get(K("m", 10)));
    EXPECT_EQ("new", Get(K("m", 60)));
    EXPECT_EQ("NOT_FOUND", Get(K("m", 70)));
    EXPECT_EQ("after-reopen", Get(K("m", 80)));
    EXPECT_EQ("ing-" + K("m", 90), Get(K("m", 90)));
    EXPECT_EQ(149u, Contents().size());  // 0..149 without 70
    db_->CompactRange(nullptr, nullptr);
    Open();
  }
}

TEST_F(IngestTest, MemtableHoldingAKeyOfTheRangeRefusesAndWritesNothing) {
  Open();
  Put(K("m", 500), "mem");
  const int files_before = TotalFiles();
  const int on_disk_before = TableFilesOnDisk();
  Status s = Ingest(MakeRun("m", 0, 1000, "ing-"));
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_EQ("mem", Get(K("m", 500)));
  EXPECT_EQ("NOT_FOUND", Get(K("m", 0)));
  EXPECT_EQ(files_before, TotalFiles());
  EXPECT_EQ(on_disk_before, TableFilesOnDisk());
  // A range beside it is fine.
  EXPECT_TRUE(IsOk(Ingest(MakeRun("n", 0, 10, "ing-"))));
  EXPECT_EQ("ing-" + K("n", 3), Get(K("n", 3)));
}

TEST_F(IngestTest, KeysNotStrictlyIncreasingAreRejected) {
  Open();
  SortedRun r = MakeRun("m", 0, 10, "v");
  std::swap(r.keys[3], r.keys[4]);
  EXPECT_TRUE(Ingest(r).IsInvalidArgument());
  SortedRun dup = MakeRun("m", 0, 10, "v");
  dup.keys[5] = dup.keys[4];
  EXPECT_TRUE(Ingest(dup).IsInvalidArgument());
  EXPECT_EQ("NOT_FOUND", Get(K("m", 0)));
  EXPECT_EQ(0, TotalFiles());
  EXPECT_TRUE(IsOk(Ingest(SortedRun())));  // empty: nothing to do
  EXPECT_EQ(0, TotalFiles());
}

TEST_F(IngestTest, Level0FileHoldingAKeyTakesTheTablesAsItsNewest) {
  Open();
  Put(K("m", 5), "flushed");
  for (int i = 0; i < 3; ++i) FlushSpanningFile("f" + std::to_string(i));
  ASSERT_GE(FilesAtLevel(0), 1);
  // Where K("m", 5) ended up: the first flush (nothing overlapped it then)
  // went below level 0. Put it in level 0 for sure.
  Put(K("m", 6), "flushed");
  FlushSpanningFile("f3");
  ASSERT_GE(FilesAtLevel(0), 1);
  IngestStats stats;
  ASSERT_TRUE(IsOk(Ingest(MakeRun("m", 0, 20, "ing-"), &stats)));
  EXPECT_EQ(0, stats.level);
  EXPECT_EQ("ing-" + K("m", 6), Get(K("m", 6)));
  EXPECT_EQ("ing-" + K("m", 5), Get(K("m", 5)));
  db_->CompactRange(nullptr, nullptr);
  EXPECT_EQ("ing-" + K("m", 6), Get(K("m", 6)));
  Open();
  EXPECT_EQ("ing-" + K("m", 6), Get(K("m", 6)));
  EXPECT_EQ("f3", Get("z"));
}

TEST_F(IngestTest, FilesSpanningTheRangeWithoutItsKeysDoNotHoldItUp) {
  Open();
  for (int i = 0; i < 4; ++i) FlushSpanningFile("f" + std::to_string(i));
  ASSERT_GE(FilesAtLevel(0), 1);
  IngestStats stats;
  ASSERT_TRUE(IsOk(Ingest(MakeRun("m", 0, 20, "ing-"), &stats)));
  EXPECT_EQ(config::kNumLevels - 1, stats.level);
  EXPECT_EQ("ing-" + K("m", 7), Get(K("m", 7)));
  EXPECT_EQ("f3", Get("a"));
}

TEST_F(IngestTest, AcknowledgedIngestSurvivesACrash) {
  Open();
  Put("a", "unsynced");
  ASSERT_TRUE(IsOk(Ingest(MakeRun("m", 0, 500, "ing-"))));
  env_.SetFilesystemActive(false);
  db_.reset();
  ASSERT_TRUE(IsOk(env_.DropUnsyncedFileData()));
  ASSERT_TRUE(IsOk(env_.RemoveFilesCreatedAfterLastDirSync()));
  env_.ResetState();
  env_.SetFilesystemActive(true);
  Open();
  for (int i = 0; i < 500; i += 50) EXPECT_EQ("ing-" + K("m", i), Get(K("m", i)));
  Put(K("m", 3), "after");
  EXPECT_EQ("after", Get(K("m", 3)));
}

TEST_F(IngestTest, FailedWriteLeavesNoTrace) {
  Open();
  const int on_disk_before = TableFilesOnDisk();
  env_.InjectWriteErrors(1);
  Status s = Ingest(MakeRun("m", 0, 500, "ing-"));
  EXPECT_FALSE(s.ok());
  env_.InjectWriteErrors(0);
  EXPECT_EQ("NOT_FOUND", Get(K("m", 1)));
  EXPECT_EQ(on_disk_before, TableFilesOnDisk());
  Open();
  EXPECT_EQ("NOT_FOUND", Get(K("m", 1)));
  ASSERT_TRUE(IsOk(Ingest(MakeRun("m", 0, 500, "ing-"))));
  EXPECT_EQ("ing-" + K("m", 1), Get(K("m", 1)));
}

// IngestOptions::build_runner: the tables are built on the runner's thread (here
// a thread of the test's), the install on the caller's, and the result is the
// same as without; a failed build (write errors on that thread) leaves no trace.
TEST_F(IngestTest, BuildRunsWhereTheRunnerSaysAndTheCallerInstalls) {
  Open();
  int runs = 0;
  std::thread::id built_on;
  IngestOptions io;
  io.build_runner = [&](const std::function<void()>& build) {
    ++runs;
    std::thread t([&] {
      built_on = std::this_thread::get_id();
      build();
    });
    t.join();
  };
  const SortedRun run = MakeRun("m", 0, 2000, "ing-");
  IngestStats stats;
  ASSERT_TRUE(IsOk(db_->IngestSorted(run.Entries(), &stats, io)));
  EXPECT_EQ(1, runs);
  EXPECT_NE(std::thread::id(), built_on);
  EXPECT_NE(std::this_thread::get_id(), built_on);
  EXPECT_EQ(config::kNumLevels - 1, stats.level);
  EXPECT_EQ(static_cast<int>(stats.files), FilesAtLevel(config::kNumLevels - 1));
  for (int pass = 0; pass < 2; ++pass) {
    const auto contents = Contents();
    ASSERT_EQ(2000u, contents.size());
    for (int i = 0; i < 2000; i += 37) EXPECT_EQ("ing-" + K("m", i), contents.at(K("m", i)));
    Open();
  }

  const int on_disk_before = TableFilesOnDisk();
  env_.InjectWriteErrors(1);
  EXPECT_FALSE(db_->IngestSorted(MakeRun("n", 0, 500, "ing-").Entries(), nullptr, io).ok());
  env_.InjectWriteErrors(0);
  EXPECT_EQ(2, runs);
  EXPECT_EQ("NOT_FOUND", Get(K("n", 1)));
  EXPECT_EQ(on_disk_before, TableFilesOnDisk());
  // An empty call builds nothing.
  ASSERT_TRUE(IsOk(db_->IngestSorted({}, nullptr, io)));
  EXPECT_EQ(2, runs);
}

// Ingests of many ranges while writers fill other keys (flushes and
// compactions run all along, so some ingests wait for the background
// thread and some take its slot; sequence reservations meet running write
// groups).
TEST_F(IngestTest, ConcurrentWritesAndIngests) {
  Open();
  constexpr int kWriters = 2;
  constexpr int kWrites = 4000;
  constexpr int kRanges = 40;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      const std::string prefix = "w" + std::to_string(t) + "-";
      for (int i = 0; i < kWrites && !failed; ++i) {
        if (!db_->Put(WriteOptions(), K(prefix, i), std::string(100, 'x')).ok()) failed = true;
      }
    });
  }
  threads.emplace_back([&] {
    for (int r = 0; r < kRanges && !failed; ++r) {
      const SortedRun run = MakeRun("i" + std::to_string(100 + r) + "-", 0, 200, "ing-");
      if (!db_->IngestSorted(run.Entries(), nullptr).ok()) failed = true;
    }
  });
  for (std::thread& t : threads) t.join();
  ASSERT_FALSE(failed);
  for (int pass = 0; pass < 2; ++pass) {
    const auto contents = Contents();
    EXPECT_EQ(static_cast<size_t>(kWriters * kWrites + kRanges * 200), contents.size());
    for (int r = 0; r < kRanges; r += 7) {
      const std::string k = K("i" + std::to_string(100 + r) + "-", 123);
      EXPECT_EQ("ing-" + k, Get(k));
    }
    Open();
  }
}

// Fails Sync() of the MANIFEST while armed; its appends still reach the file,
// as when a record is written but its sync fails (the record may survive).
class ManifestSyncFailEnv final : public EnvWrapper {
 public:
  explicit ManifestSyncFailEnv(Env* base) : EnvWrapper(base) {}
  void Arm(bool armed) { armed_.store(armed); }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override {
    Status s = EnvWrapper::NewWritableFile(fname, result);
    if (s.ok() && fname.find("MANIFEST-") != std::string::npos) {
      *result = std::make_unique<File>(std::move(*result), &armed_);
    }
    return s;
  }

 private:
  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> base, const std::atomic<bool>* armed)
        : base_(std::move(base)), armed_(armed) {}
    Status Append(const Slice& data) override { return base_->Append(data); }
    Status Close() override { return base_->Close(); }
    Status Flush() override { return base_->Flush(); }
    Status Sync() override {
      if (armed_->load()) return Status::IOError("MANIFEST sync failed (test)");
      return base_->Sync();
    }

   private:
    std::unique_ptr<WritableFile> base_;
    const std::atomic<bool>* armed_;
  };

  std::atomic<bool> armed_{false};
};

// An ingest whose MANIFEST record was written but not synced fails, and its
// tables stay: the record may be read back at the next open, which must then
// find them (a failed compaction keeps its outputs for the same reason).
TEST(IngestManifestTest, FailedManifestSyncKeepsTheTables) {
  std::unique_ptr<Env> mem_env(NewMemEnv(Env::Default()));
  ManifestSyncFailEnv env(mem_env.get());
  Options options;
  options.env = &env;
  options.create_if_missing = true;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(IsOk(DB::Open(options, "/db", &db)));
  env.Arm(true);
  const SortedRun run = MakeRun("m", 0, 500, "ing-");
  EXPECT_FALSE(db->IngestSorted(run.Entries(), nullptr).ok());
  env.Arm(false);
  db.reset();

  ASSERT_TRUE(IsOk(DB::Open(options, "/db", &db)));
  // The record survived here, so the ingest did too.
  EXPECT_EQ("ing-" + K("m", 7), test::Get(db.get(), K("m", 7)));
}

// On the POSIX env, with and without Options::uncached_ingest (O_DIRECT
// tables, their partial last block buffered): tables of many sizes, some
// larger than the direct writer's 1 MiB buffer, read back exactly, before and
// after a reopen, next to flushed data.
TEST(IngestPosixTest, UncachedAndBufferedTablesReadBackExactly) {
  for (bool uncached : {true, false}) {
    SCOPED_TRACE(uncached ? "uncached" : "buffered");
    std::string dir;
    ASSERT_TRUE(IsOk(Env::Default()->GetTestDirectory(&dir)));
    const std::string dbname = dir + "/ingest_posix_test-" + (uncached ? "u" : "b");
    Options options;
    options.create_if_missing = true;
    options.uncached_ingest = uncached;
    options.max_file_size = 3 << 20;  // tables of up to 3 MiB: several buffer loads
    DestroyDB(dbname, options).IgnoreError();
    std::unique_ptr<DB> db;
    ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));
    ASSERT_TRUE(IsOk(db->Put(WriteOptions(), "a-flushed", "v")));
    std::map<std::string, std::string> expected{{"a-flushed", "v"}};
    Random rnd(uncached ? 11 : 12);
    const int sizes[] = {1, 7, 300, 2500, 9000};  // entries per ingest
    for (int r = 0; r < 5; ++r) {
      SortedRun run;
      for (int i = 0; i < sizes[r]; ++i) {
        run.keys.push_back(K("r" + std::to_string(r) + "-", i));
        std::string v(rnd.Uniform(1500), '\0');
        for (char& c : v) c = static_cast<char>(rnd.Uniform(256));
        run.values.push_back(v);
        expected[run.keys.back()] = v;
      }
      ASSERT_TRUE(IsOk(db->IngestSorted(run.Entries(), nullptr)));
    }
    for (int pass = 0; pass < 2; ++pass) {
      const std::map<std::string, std::string> got = AllEntries(db.get());
      EXPECT_TRUE(got == expected) << got.size() << " keys, want " << expected.size();
      EXPECT_EQ(expected["r4-08999"], test::Get(db.get(), "r4-08999"));
      db.reset();
      ASSERT_TRUE(IsOk(DB::Open(options, dbname, &db)));
    }
    db.reset();
    ASSERT_TRUE(IsOk(DestroyDB(dbname, options)));
  }
}

}  // namespace
}  // namespace ldb
