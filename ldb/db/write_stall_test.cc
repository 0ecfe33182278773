// Write stalls and level 0: the slowdown and stop triggers count only the
// level-0 files no compaction has taken yet. A test Env holds a level-0
// compaction in the middle (its first output file cannot be created until
// released), so that the state "level 0 full, but all of it being
// compacted" lasts as long as the test needs.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "db/db_impl.h"
#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/options.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;
using test::Key;

bool IsTableFile(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".ldb") == 0;
}

// Once armed with n, lets n table files be created and holds the creation
// of the next one until Release(). Thread-safe.
class HoldTableEnv : public EnvWrapper {
 public:
  explicit HoldTableEnv(Env* base) : EnvWrapper(base) {}

  void Arm(int pass) {
    std::lock_guard<std::mutex> l(mu_);
    armed_ = true;
    pass_ = pass;
  }
  // Waits (up to 30 s) until a creation is being held.
  bool WaitUntilHolding() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(30), [&] { return holding_; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    armed_ = false;
    cv_.notify_all();
  }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override {
    if (IsTableFile(fname)) {
      std::unique_lock<std::mutex> l(mu_);
      if (armed_ && pass_-- <= 0) {
        holding_ = true;
        cv_.notify_all();
        cv_.wait(l, [&] { return !armed_; });
        holding_ = false;
      }
    }
    return EnvWrapper::NewWritableFile(fname, result);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  int pass_ = 0;
  bool holding_ = false;
};

// prefix + decimal n (not operator+ on a literal: GCC 12 warns falsely).
std::string Tagged(const char* prefix, int n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

int FilesAtLevel(DB* db, int level) {
  std::string v;
  EXPECT_TRUE(db->GetProperty(Tagged("ldb.num-files-at-level", level), &v));
  return std::stoi(v);
}

// A figure of the "Write stalls:" line of ldb.stats ("name=" included).
uint64_t StallFigure(DB* db, const std::string& name) {
  return test::StatsFigure(db, "Write stalls:", name);
}

uint64_t Slowdowns(DB* db) { return StallFigure(db, "slowdowns="); }

// Options for a DB in `env`.
Options OptionsIn(Env* env) {
  Options options;
  options.env = env;
  options.create_if_missing = true;
  return options;
}

TEST(WriteStallTest, FilesBeingCompactedDoNotDelayWrites) {
  std::unique_ptr<Env> mem_env = NewMemEnv(Env::Default());
  HoldTableEnv env(mem_env.get());
  Options options = OptionsIn(&env);
  options.max_subcompactions = 1;
  options.level0_file_num_compaction_trigger = 4;
  options.level0_slowdown_writes_trigger = 4;
  options.level0_stop_writes_trigger = 5;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(IsOk(DB::Open(options, "/mem/write_stall_test", &db)));
  DBImpl* impl = static_cast<DBImpl*>(db.get());

  // Overlapping flushes until level 0 holds three files (the first ones
  // may be placed deeper).
  int next = 0;
  int flushes = 0;
  while (FilesAtLevel(db.get(), 0) < 3) {
    ASSERT_LT(flushes++, 20);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(IsOk(
          db->Put(WriteOptions(), Key(i * 10 + next % 10), Tagged("v", next))));
    }
    ++next;
    ASSERT_TRUE(IsOk(impl->TEST_CompactMemTable()));
  }
  ASSERT_EQ(3, FilesAtLevel(db.get(), 0));

  // The fourth flush passes; the compaction it triggers (all four files)
  // is held at its first output.
  env.Arm(/*pass=*/1);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(IsOk(
        db->Put(WriteOptions(), Key(i * 10 + next % 10), Tagged("v", next))));
  }
  ++next;
  ASSERT_TRUE(IsOk(impl->TEST_CompactMemTable()));
  ASSERT_TRUE(env.WaitUntilHolding());
  ASSERT_EQ(4, FilesAtLevel(db.get(), 0));

  // Level 0 is at the slowdown trigger, but every file is being compacted:
  // writes go through undelayed (before, each was delayed by 1 ms).
  const uint64_t before = Slowdowns(db.get());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(
        IsOk(db->Put(WriteOptions(), Tagged("late", i), std::to_string(i))));
  }
  EXPECT_EQ(before, Slowdowns(db.get()));

  env.Release();
  impl->TEST_WaitForBackgroundIdle();
  std::string value;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(IsOk(db->Get(ReadOptions(), Tagged("late", i), &value)));
    EXPECT_EQ(std::to_string(i), value);
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        IsOk(db->Get(ReadOptions(), Key(i * 10 + (next - 1) % 10), &value)));
    EXPECT_EQ(Tagged("v", next - 1), value);
  }
  EXPECT_LT(FilesAtLevel(db.get(), 0), 4);
}

// A low-priority write that would fill the memtable while the previous one
// is still being flushed waits for the flush, outside the write queue: a
// normal write meanwhile goes through, and the low-priority one completes
// once the flush is done.
// A DB at kSmallDb with 64 KiB memtables whose flushes env_ can hold.
class SmallMemtableTest : public testing::Test {
 protected:
  static constexpr const char* kSmallDb = "/mem/small_memtable_test";
  void SetUp() override {
    Options options = OptionsIn(&env_);
    options.write_buffer_size = 64 << 10;
    ASSERT_TRUE(IsOk(DB::Open(options, kSmallDb, &db_)));
  }
  std::unique_ptr<Env> mem_env_ = NewMemEnv(Env::Default());
  HoldTableEnv env_{mem_env_.get()};
  std::unique_ptr<DB> db_;
};

TEST_F(SmallMemtableTest, LowPriorityWritesYieldWhileAFlushIsBehind) {
  HoldTableEnv& env = env_;
  DB* const db = db_.get();

  // Nothing behind: a low-priority write goes straight through.
  WriteOptions low;
  low.low_priority = true;
  ASSERT_TRUE(IsOk(db->Put(low, "first", "1")));
  EXPECT_EQ(0u, StallFigure(db, "low_priority_waits="));

  // Fill the memtable past its size; the flush it starts is held.
  env.Arm(/*pass=*/0);
  const std::string value(1024, 'v');
  for (int i = 0; i < 70; ++i) {
    ASSERT_TRUE(IsOk(db->Put(WriteOptions(), Key(i), value)));
  }
  ASSERT_TRUE(env.WaitUntilHolding());

  // 61 KiB more would fill the new memtable to within 1/16 of its size.
  std::mutex mu;
  std::condition_variable cv;
  bool low_done = false;
  Status low_status;
  std::thread writer([&] {
    Status s = db->Put(low, "bulk", std::string(61 << 10, 'b'));
    std::lock_guard<std::mutex> l(mu);
    low_status = s;
    low_done = true;
    cv.notify_all();
  });
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (StallFigure(db, "low_priority_waits=") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(1u, StallFigure(db, "low_priority_waits="));
  // A normal write is not held up by it (nor by the flush: there is room).
  ASSERT_TRUE(IsOk(db->Put(WriteOptions(), "normal", "n")));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_FALSE(low_done) << "the low-priority write did not wait";
  }

  std::string stalled;
  ASSERT_TRUE(db->GetProperty("ldb.write-stall-micros", &stalled));
  EXPECT_EQ("0", stalled);  // no normal writer was held

  env.Release();
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return low_done; }));
  }
  writer.join();
  std::string waited;
  ASSERT_TRUE(db->GetProperty("ldb.low-priority-wait-micros", &waited));
  EXPECT_GT(std::stoull(waited), 0u);
  ASSERT_TRUE(IsOk(low_status));
  std::string got;
  ASSERT_TRUE(IsOk(db->Get(ReadOptions(), "bulk", &got)));
  EXPECT_EQ(std::string(61 << 10, 'b'), got);
  ASSERT_TRUE(IsOk(db->Get(ReadOptions(), "normal", &got)));
  EXPECT_EQ("n", got);
  ASSERT_TRUE(IsOk(db->Get(ReadOptions(), Key(69), &got)));
  EXPECT_EQ(value, got);
}

// "ldb.write-stall-micros" counts the time a writer waited for the previous
// memtable's flush.
TEST_F(SmallMemtableTest, WriteStallMicrosCountsAWaitForAFlush) {
  HoldTableEnv& env = env_;
  DB* const db = db_.get();
  std::string v;
  ASSERT_TRUE(db->GetProperty("ldb.write-stall-micros", &v));
  EXPECT_EQ("0", v);
  env.Arm(/*pass=*/0);
  const std::string value(1024, 'v');
  // The first memtable fills and its flush is held; the second fills too, and
  // the write after it has to wait for the held flush.
  std::thread writer([&] {
    for (int i = 0; i < 140; ++i) {
      ASSERT_TRUE(IsOk(db->Put(WriteOptions(), Key(i), value)));
    }
  });
  ASSERT_TRUE(env.WaitUntilHolding());
  // The writer logs before it waits for the held flush.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string log;
  while (log.find("memtable full; waiting") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ReadFileToString(&env, std::string(kSmallDb) + "/LOG", &log).IgnoreError();
  }
  ASSERT_NE(std::string::npos, log.find("memtable full; waiting")) << log;
  env.Release();
  writer.join();
  ASSERT_TRUE(db->GetProperty("ldb.write-stall-micros", &v));
  EXPECT_GT(std::stoull(v), 0u);
}

}  // namespace
}  // namespace ldb
