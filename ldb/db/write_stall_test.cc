// Write stalls and level 0: the slowdown and stop triggers count only the
// level-0 files no compaction has taken yet. A test Env holds a level-0
// compaction in the middle (its first output file cannot be created until
// released), so that the state "level 0 full, but all of it being
// compacted" lasts as long as the test needs.
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "db/db_impl.h"
#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/options.h"

namespace ldb {
namespace {

testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << s.ToString();
}

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

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}

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

uint64_t Slowdowns(DB* db) {
  std::string stats;
  EXPECT_TRUE(db->GetProperty("ldb.stats", &stats));
  const size_t pos = stats.find("slowdowns=");
  EXPECT_NE(std::string::npos, pos) << stats;
  if (pos == std::string::npos) return ~0ull;
  return std::stoull(stats.substr(pos + 10));
}

TEST(WriteStallTest, FilesBeingCompactedDoNotDelayWrites) {
  std::unique_ptr<Env> mem_env = NewMemEnv(Env::Default());
  HoldTableEnv env(mem_env.get());
  Options options;
  options.env = &env;
  options.create_if_missing = true;
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

}  // namespace
}  // namespace ldb
