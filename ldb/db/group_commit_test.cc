// Group commit under concurrency (db_impl_write.cc):
//  - many threads of sync and non-sync writes (and a reader, and forced
//    memtable switches): every acknowledged write is there, writes become
//    visible in sequence order, sequence numbers are contiguous;
//  - a simulated machine crash in the middle of concurrent writes loses no
//    write acknowledged with sync=true, nor any write acknowledged before a
//    sync write was issued;
//  - failed WAL appends or syncs are never acknowledged as durable, and the
//    error sticks;
//  - sync writers of many threads share WAL syncs (and ldb.stats counts
//    the groups and syncs).
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
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
#include "ldb/write_batch.h"
#include "util/fault_injection_env.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;

// The fixed seed, or LDB_GROUP_COMMIT_SEED when set (logged either way).
uint64_t Seed(uint64_t fixed) {
  const char* env = std::getenv("LDB_GROUP_COMMIT_SEED");
  const uint64_t seed =
      env != nullptr ? std::strtoull(env, nullptr, 10) : fixed;
  std::fprintf(stderr, "[group_commit] seed=%" PRIu64 "\n", seed);
  return seed;
}

std::string Key(int thread, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "t%02d_%06d", thread, i);
  return buf;
}

std::string Value(int thread, int i) {
  return Key(thread, i) + ":" + std::string(static_cast<size_t>(i % 97), 'v');
}

bool IsWal(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

// Forwards to the Env below; WAL files (*.log) get a Sync that can be made
// slow (to let writers pile up, as on a real disk) or made to fail without
// syncing anything. Thread-safe.
class WalSyncEnv : public EnvWrapper {
 public:
  explicit WalSyncEnv(Env* target) : EnvWrapper(target) {}

  // Every WAL Sync first sleeps this long.
  void SetSyncDelayMicros(int micros) { delay_micros_.store(micros); }
  // The next n WAL Syncs fail with IOError and sync nothing.
  void FailWalSyncs(int n) { fail_syncs_.store(n); }
  uint64_t wal_syncs() const { return wal_syncs_.load(); }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override {
    Status s = target()->NewWritableFile(fname, result);
    if (s.ok() && IsWal(fname)) {
      *result = std::make_unique<File>(this, std::move(*result));
    }
    return s;
  }
  Status NewLogFile(const std::string& fname,
                    std::unique_ptr<WritableFile>* result) override {
    Status s = target()->NewLogFile(fname, result);
    if (s.ok() && IsWal(fname)) {
      *result = std::make_unique<File>(this, std::move(*result));
    }
    return s;
  }

 private:
  class File final : public WritableFile {
   public:
    File(WalSyncEnv* env, std::unique_ptr<WritableFile> base)
        : env_(env), base_(std::move(base)) {}
    Status Append(const Slice& data) override { return base_->Append(data); }
    Status Close() override { return base_->Close(); }
    Status Flush() override { return base_->Flush(); }
    Status Sync() override {
      env_->wal_syncs_.fetch_add(1);
      const int delay = env_->delay_micros_.load();
      if (delay > 0) env_->target()->SleepForMicroseconds(delay);
      int n = env_->fail_syncs_.load();
      while (n > 0) {
        if (env_->fail_syncs_.compare_exchange_weak(n, n - 1)) {
          return Status::IOError("injected WAL sync error");
        }
      }
      return base_->Sync();
    }

   private:
    WalSyncEnv* const env_;
    const std::unique_ptr<WritableFile> base_;
  };

  std::atomic<int> delay_micros_{0};
  std::atomic<int> fail_syncs_{0};
  std::atomic<uint64_t> wal_syncs_{0};
};

// One write as the writing thread saw it.
struct WriteRecord {
  int index = 0;
  bool sync = false;
  bool acked = false;
  // Acknowledgements (over all threads) seen before this write was issued,
  // and this write's place among them once acknowledged.
  uint64_t acks_before_issue = 0;
  uint64_t ack_number = 0;
};

enum class BaseEnv { kPosix, kMem };

class GroupCommitTest : public testing::TestWithParam<BaseEnv> {
 protected:
  void SetUp() override {
    if (GetParam() == BaseEnv::kMem) {
      mem_env_ = NewMemEnv(Env::Default());
      base_env_ = mem_env_.get();
      dbname_ = "/mem/group_commit_test";
    } else {
      base_env_ = Env::Default();
      dbname_ = test::TempDir("group_commit_test");
    }
    fault_env_ = std::make_unique<FaultInjectionEnv>(base_env_);
    env_ = std::make_unique<WalSyncEnv>(fault_env_.get());
    options_.env = env_.get();
    options_.create_if_missing = true;
    DestroyDB(dbname_, options_).IgnoreError();
  }

  void TearDown() override {
    db_.reset();
    fault_env_->SetFilesystemActive(true);
    fault_env_->InjectWriteErrors(0);
    env_->FailWalSyncs(0);
    DestroyDB(dbname_, options_).IgnoreError();
  }

  Status Open() {
    db_.reset();
    return DB::Open(options_, dbname_, &db_);
  }

  DBImpl* impl() { return static_cast<DBImpl*>(db_.get()); }

  // A figure of the "Write groups:" line of ldb.stats ("name=" included).
  uint64_t GroupFigure(const std::string& name) {
    return test::StatsFigure(db_.get(), "Write groups:", name);
  }

  uint64_t LastSequence() {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("ldb.sequence", &v));
    return std::strtoull(v.c_str(), nullptr, 10);
  }

  // The machine dies: writes stop reaching the disk, the process goes away,
  // the page cache and unsynced directory entries are lost.
  void SimulateCrash() {
    fault_env_->SetFilesystemActive(false);
    db_.reset();  // errors while closing are expected and ignored
    ASSERT_TRUE(IsOk(fault_env_->DropUnsyncedFileData()));
    ASSERT_TRUE(IsOk(fault_env_->RemoveFilesCreatedAfterLastDirSync()));
    fault_env_->ResetState();
    fault_env_->SetFilesystemActive(true);
    fault_env_->InjectWriteErrors(0);
    env_->FailWalSyncs(0);
  }

  // After a crash: every write acknowledged with sync=true, and every write
  // acknowledged before some acknowledged sync write was issued, is present;
  // any other write is present with its value or absent.
  void CheckDurable(const std::vector<std::vector<WriteRecord>>& records) {
    uint64_t durable_acks = 0;  // acks numbered below this are durable
    for (const auto& thread : records) {
      for (const WriteRecord& r : thread) {
        if (r.acked && r.sync) {
          durable_acks = std::max(durable_acks, r.acks_before_issue);
        }
      }
    }
    int checked = 0;
    for (size_t t = 0; t < records.size(); t++) {
      for (const WriteRecord& r : records[t]) {
        const std::string key = Key(static_cast<int>(t), r.index);
        std::string value;
        Status s = db_->Get(ReadOptions(), key, &value);
        const bool must_exist =
            r.acked && (r.sync || r.ack_number < durable_acks);
        if (must_exist) {
          ASSERT_TRUE(IsOk(s))
              << key << (r.sync ? " (sync)" : " (before sync)");
          ++checked;
        } else {
          ASSERT_TRUE(s.ok() || s.IsNotFound()) << key << ": " << s.ToString();
        }
        if (s.ok()) {
          ASSERT_EQ(Value(static_cast<int>(t), r.index), value) << key;
        }
      }
    }
    std::fprintf(stderr, "[group_commit] %d writes had to survive\n", checked);
  }

  std::unique_ptr<Env> mem_env_;
  Env* base_env_ = nullptr;
  std::unique_ptr<FaultInjectionEnv> fault_env_;
  std::unique_ptr<WalSyncEnv> env_;
  std::string dbname_;
  Options options_;
  std::unique_ptr<DB> db_;
};

INSTANTIATE_TEST_SUITE_P(Envs, GroupCommitTest,
                         testing::Values(BaseEnv::kPosix, BaseEnv::kMem),
                         [](const testing::TestParamInfo<BaseEnv>& info) {
                           return info.param == BaseEnv::kMem ? "Mem" : "Posix";
                         });

// 4 threads of sync writes, 4 of non-sync writes and a reader. Everything
// stays in the memtable, so the internal keys show every sequence number.
TEST_P(GroupCommitTest, AcknowledgedWritesAreVisibleInOrder) {
  constexpr int kWriters = 8;
  constexpr int kWrites = 250;
  options_.write_buffer_size = 64 << 20;
  ASSERT_TRUE(IsOk(Open()));
  env_->SetSyncDelayMicros(GetParam() == BaseEnv::kMem ? 100 : 0);

  std::atomic<int> writers_done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; t++) {
    threads.emplace_back([&, t] {
      WriteOptions wo;
      wo.sync = t < kWriters / 2;
      for (int i = 0; i < kWrites && !failed.load(); i++) {
        Status s = db_->Put(wo, Key(t, i), Value(t, i));
        if (!s.ok()) {
          ADD_FAILURE() << Key(t, i) << ": " << s.ToString();
          failed.store(true);
          break;
        }
        // Read-your-writes: acknowledged means visible.
        std::string v;
        s = db_->Get(ReadOptions(), Key(t, i), &v);
        if (!s.ok() || v != Value(t, i)) {
          ADD_FAILURE() << Key(t, i)
                        << " not visible after Put: " << s.ToString();
          failed.store(true);
          break;
        }
      }
      writers_done.fetch_add(1);
    });
  }
  // The reader: in any view, each writer's visible writes are a prefix of
  // its writes (a write is visible only after every earlier one). Returns
  // what is wrong with the current view, if anything.
  auto check_view = [&]() -> std::string {
    std::vector<int> next(kWriters, 0);
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key = it->key().ToString();
      int t = 0;
      int i = 0;
      if (std::sscanf(key.c_str(), "t%d_%d", &t, &i) != 2 || t < 0 ||
          t >= kWriters) {
        return "unexpected key " + key;
      }
      if (next[t] != i) return "gap before " + key;
      if (it->value().ToString() != Value(t, i)) return "bad value of " + key;
      next[t] = i + 1;
    }
    if (!it->status().ok()) return it->status().ToString();
    return "";
  };
  int views = 0;
  bool last_pass = false;
  while (!last_pass && !failed.load()) {
    if (writers_done.load() == kWriters) last_pass = true;
    const std::string problem = check_view();
    if (!problem.empty()) {
      ADD_FAILURE() << problem;
      failed.store(true);
    }
    ++views;
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(failed.load());
  EXPECT_GT(views, 0);

  // Sequence numbers 1..N, each used once, and in each thread's order.
  const uint64_t total = uint64_t{kWriters} * kWrites;
  EXPECT_EQ(total, LastSequence());
  std::vector<bool> seen(total + 1, false);
  std::vector<uint64_t> last_seq(kWriters, 0);
  std::unique_ptr<Iterator> iit = impl()->TEST_NewInternalIterator();
  uint64_t entries = 0;
  // Internal keys sort by user key, so each thread's keys come in order.
  for (iit->SeekToFirst(); iit->Valid(); iit->Next()) {
    ParsedInternalKey ikey;
    ASSERT_TRUE(ParseInternalKey(iit->key(), &ikey));
    ASSERT_GE(ikey.sequence, 1u);
    ASSERT_LE(ikey.sequence, total);
    ASSERT_FALSE(seen[ikey.sequence]) << "sequence used twice";
    seen[ikey.sequence] = true;
    int t = 0;
    int i = 0;
    const std::string user_key = ikey.user_key.ToString();
    ASSERT_EQ(2, std::sscanf(user_key.c_str(), "t%d_%d", &t, &i));
    ASSERT_GT(ikey.sequence, last_seq[t]) << user_key;
    last_seq[t] = ikey.sequence;
    ++entries;
  }
  ASSERT_TRUE(IsOk(iit->status()));
  EXPECT_EQ(total, entries);
}

// Batches of several entries, a small memtable (many WAL switches while
// sync groups run) and forced memtable flushes, then a reopen.
TEST_P(GroupCommitTest, WritesAcrossMemtableSwitches) {
  constexpr int kWriters = 6;
  constexpr int kBatches = 120;
  constexpr int kPerBatch = 3;
  options_.write_buffer_size = 16 * 1024;
  ASSERT_TRUE(IsOk(Open()));
  env_->SetSyncDelayMicros(GetParam() == BaseEnv::kMem ? 50 : 0);

  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; t++) {
    threads.emplace_back([&, t] {
      WriteOptions wo;
      for (int b = 0; b < kBatches && !failed.load(); b++) {
        wo.sync = (t + b) % 3 != 0;
        WriteBatch batch;
        for (int j = 0; j < kPerBatch; j++) {
          const int i = b * kPerBatch + j;
          batch.Put(Key(t, i), Value(t, i));
        }
        Status s = db_->Write(wo, &batch);
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          failed.store(true);
        }
      }
    });
  }
  // Forced flushes queue as writers of their own.
  for (int f = 0; f < 4 && !failed.load(); f++) {
    Status s = impl()->TEST_CompactMemTable();
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      failed.store(true);
    }
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(failed.load());
  const uint64_t total = uint64_t{kWriters} * kBatches * kPerBatch;
  EXPECT_EQ(total, LastSequence());

  for (int pass = 0; pass < 2; pass++) {
    SCOPED_TRACE(pass == 0 ? "before reopen" : "after reopen");
    for (int t = 0; t < kWriters; t++) {
      for (int i = 0; i < kBatches * kPerBatch; i++) {
        std::string v;
        ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(t, i), &v))) << Key(t, i);
        ASSERT_EQ(Value(t, i), v);
      }
    }
    ASSERT_TRUE(IsOk(Open()));
    EXPECT_GE(LastSequence(), total);
  }
}

// Runs kWriters threads of mixed sync / non-sync writes until each has done
// its writes or got its first error. `on_write(t, i)` runs in thread t before
// its i-th write (to crash or inject errors). After the first error a thread
// checks that the error sticks.
template <typename Hook>
std::vector<std::vector<WriteRecord>> RunWriters(DB* db, int writers,
                                                 int writes, uint64_t seed,
                                                 std::atomic<int>* errors,
                                                 Hook on_write) {
  std::vector<std::vector<WriteRecord>> records(writers);
  std::atomic<uint64_t> acks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; t++) {
    threads.emplace_back([&, t] {
      Random rnd(seed + static_cast<uint64_t>(t));
      for (int i = 0; i < writes; i++) {
        on_write(t, i);
        WriteRecord r;
        r.index = i;
        r.sync = !rnd.OneIn(3);
        WriteOptions wo;
        wo.sync = r.sync;
        r.acks_before_issue = acks.load();
        Status s = db->Put(wo, Key(t, i), Value(t, i));
        if (s.ok()) {
          r.acked = true;
          r.ack_number = acks.fetch_add(1);
          records[t].push_back(r);
          continue;
        }
        records[t].push_back(r);
        errors->fetch_add(1);
        // The error sticks: nothing later is acknowledged.
        WriteOptions sync_wo;
        sync_wo.sync = true;
        Status again = db->Put(sync_wo, Key(t, i + 1), Value(t, i + 1));
        EXPECT_FALSE(again.ok()) << "write acknowledged after an error";
        WriteRecord later;
        later.index = i + 1;
        later.sync = true;
        later.acked = again.ok();
        records[t].push_back(later);
        break;
      }
    });
  }
  for (auto& th : threads) th.join();
  return records;
}

// The machine dies in the middle of concurrent sync and non-sync writes.
TEST_P(GroupCommitTest, SyncedWritesSurviveCrashDuringConcurrentWrites) {
  constexpr int kWriters = 8;
  constexpr int kWrites = 150;
  constexpr int kRounds = 3;
  const uint64_t seed = Seed(97);
  options_.write_buffer_size = 32 * 1024;  // WAL switches happen too
  for (int round = 0; round < kRounds; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    DestroyDB(dbname_, options_).IgnoreError();
    ASSERT_TRUE(IsOk(Open()));
    env_->SetSyncDelayMicros(GetParam() == BaseEnv::kMem ? 50 : 0);
    std::atomic<int> errors{0};
    const int crash_at = 40 + 30 * round;
    DB* db = db_.get();
    FaultInjectionEnv* fault_env = fault_env_.get();
    auto records = RunWriters(db, kWriters, kWrites, seed + round, &errors,
                              [&](int t, int i) {
                                if (t == 0 && i == crash_at) {
                                  fault_env->SetFilesystemActive(false);
                                }
                              });
    EXPECT_GT(errors.load(), 0);
    ASSERT_NO_FATAL_FAILURE(SimulateCrash());
    ASSERT_TRUE(IsOk(Open()));
    ASSERT_NO_FATAL_FAILURE(CheckDurable(records));
    db_.reset();
  }
}

// A failing WAL sync or append: whoever got OK for a sync write has it on
// disk (the crash drops everything unsynced), and the error sticks.
TEST_P(GroupCommitTest, FailedWalWritesAreNeverAcknowledged) {
  constexpr int kWriters = 8;
  constexpr int kWrites = 120;
  const uint64_t seed = Seed(1234);
  options_.write_buffer_size = 32 * 1024;
  struct Case {
    const char* name;
    bool fail_sync;  // else: fail appends (and syncs) via InjectWriteErrors
    int errors;
    int at;  // thread 0 injects before its write number `at`
  };
  const Case cases[] = {{"sync", true, 1, 30},
                        {"sync x3", true, 3, 70},
                        {"append or sync", false, 1, 50},
                        {"append or sync x2", false, 2, 90}};
  int round = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    DestroyDB(dbname_, options_).IgnoreError();
    ASSERT_TRUE(IsOk(Open()));
    env_->SetSyncDelayMicros(GetParam() == BaseEnv::kMem ? 50 : 0);
    std::atomic<int> errors{0};
    DB* db = db_.get();
    WalSyncEnv* env = env_.get();
    FaultInjectionEnv* fault_env = fault_env_.get();
    auto records =
        RunWriters(db, kWriters, kWrites, seed + static_cast<uint64_t>(round++),
                   &errors, [&](int t, int i) {
                     if (t != 0 || i != c.at) return;
                     if (c.fail_sync) {
                       env->FailWalSyncs(c.errors);
                     } else {
                       fault_env->InjectWriteErrors(c.errors);
                     }
                   });
    EXPECT_GT(errors.load(), 0);
    std::string bg;
    ASSERT_TRUE(db_->GetProperty("ldb.background-error", &bg));
    EXPECT_NE("OK", bg);
    ASSERT_NO_FATAL_FAILURE(SimulateCrash());
    ASSERT_TRUE(IsOk(Open()));
    ASSERT_NO_FATAL_FAILURE(CheckDurable(records));
    db_.reset();
  }
}

// While a sync takes a while, sync writers of other threads pile up and
// share it: far fewer WAL syncs than sync writes.
TEST_P(GroupCommitTest, SyncWritersShareWalSyncs) {
  constexpr int kWriters = 8;
  constexpr int kWrites = 60;
  options_.write_buffer_size = 64 << 20;
  ASSERT_TRUE(IsOk(Open()));
  env_->SetSyncDelayMicros(300);
  const uint64_t syncs_before = env_->wal_syncs();
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; t++) {
    threads.emplace_back([&, t] {
      WriteOptions wo;
      wo.sync = true;
      for (int i = 0; i < kWrites; i++) {
        EXPECT_TRUE(IsOk(db_->Put(wo, Key(t, i), Value(t, i))));
      }
    });
  }
  for (auto& th : threads) th.join();
  const uint64_t syncs = env_->wal_syncs() - syncs_before;
  const uint64_t writes = uint64_t{kWriters} * kWrites;
  std::fprintf(
      stderr, "[group_commit] %" PRIu64 " sync writes, %" PRIu64 " WAL syncs\n",
      writes, syncs);
  // Plain leader/follower grouping alone gives about kWriters / 2 writes per
  // sync; ask for at least 2.
  EXPECT_LE(syncs * 2, writes);
  EXPECT_EQ(writes, LastSequence());
  // ldb.stats counts the same groups and syncs.
  EXPECT_EQ(syncs, GroupFigure("sync_groups="));
  EXPECT_EQ(writes, GroupFigure("sync_writers="));
  EXPECT_EQ(writes, GroupFigure("writers="));
  EXPECT_EQ(syncs, GroupFigure("groups="));
}

// A lone sync writer syncs once per write (it never waits for company).
TEST_P(GroupCommitTest, LoneSyncWriterSyncsEveryWrite) {
  ASSERT_TRUE(IsOk(Open()));
  const uint64_t syncs_before = env_->wal_syncs();
  WriteOptions wo;
  wo.sync = true;
  for (int i = 0; i < 50; i++) {
    ASSERT_TRUE(IsOk(db_->Put(wo, Key(0, i), Value(0, i))));
    ASSERT_EQ(static_cast<uint64_t>(i + 1), env_->wal_syncs() - syncs_before);
  }
  EXPECT_EQ(50u, GroupFigure("groups="));
  EXPECT_EQ(50u, GroupFigure("sync_groups="));
  EXPECT_EQ(0u, GroupFigure("gather_timeouts="));
  // A write without sync is a group that does not sync.
  ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), Key(0, 50), Value(0, 50))));
  EXPECT_EQ(51u, GroupFigure("groups="));
  EXPECT_EQ(51u, GroupFigure("writers="));
  EXPECT_EQ(50u, GroupFigure("sync_groups="));
  EXPECT_EQ(50u, GroupFigure("sync_writers="));
}

}  // namespace
}  // namespace ldb
