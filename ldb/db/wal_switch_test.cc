// Durability across a WAL switch. A memtable switch neither syncs the old
// WAL nor the new WAL's directory entry (that would stall the writer on
// every switch); the first sync write after the switch makes both durable
// before it is acknowledged. These tests hold the background thread so that
// the old memtable is not flushed (its writes live only in the old WAL),
// then simulate a machine crash through FaultInjectionEnv.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/options.h"
#include "util/fault_injection_env.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;
using test::Key;

// An Env whose background jobs wait while the gate is closed. Thread-safe.
class GateEnv : public EnvWrapper {
 public:
  explicit GateEnv(Env* base) : EnvWrapper(base) {}

  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
  }
  // Opens the gate and hands the held jobs to the base Env, in order.
  void Open() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard<std::mutex> l(mu_);
      closed_ = false;
      held.swap(held_);
    }
    for (auto& fn : held) EnvWrapper::Schedule(std::move(fn));
  }
  size_t held() {
    std::lock_guard<std::mutex> l(mu_);
    return held_.size();
  }

  void Schedule(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_) {
        held_.push_back(std::move(fn));
        return;
      }
    }
    EnvWrapper::Schedule(std::move(fn));
  }

 private:
  std::mutex mu_;
  bool closed_ = false;
  std::vector<std::function<void()>> held_;
};

class WalSwitchTest : public testing::Test {
 protected:
  WalSwitchTest()
      : mem_env_(NewMemEnv(Env::Default())),
        gate_env_(mem_env_.get()),
        env_(&gate_env_) {
    options_.env = &env_;
    options_.create_if_missing = true;
    options_.write_buffer_size = 64 * 1024;
  }

  Status Open() {
    db_.reset();
    return DB::Open(options_, kDbName, &db_);
  }

  // Puts keys [from, to) with 1 KiB values, without sync.
  void PutRange(int from, int to) {
    const std::string value(1024, 'v');
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), Key(i), value)));
    }
  }

  // The machine dies: the page cache and unsynced directory entries are
  // lost. The held background work runs first (and fails: the filesystem
  // is gone), since closing the DB waits for it.
  void SimulateCrash() {
    env_.SetFilesystemActive(false);
    gate_env_.Open();
    db_.reset();
    ASSERT_TRUE(IsOk(env_.DropUnsyncedFileData()));
    ASSERT_TRUE(IsOk(env_.RemoveFilesCreatedAfterLastDirSync()));
    env_.ResetState();
    env_.SetFilesystemActive(true);
  }

  static constexpr const char* kDbName = "/mem/wal_switch_test";
  std::unique_ptr<Env> mem_env_;
  GateEnv gate_env_;
  FaultInjectionEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(WalSwitchTest, SyncWriteAfterSwitchMakesTheOldWalDurable) {
  ASSERT_TRUE(IsOk(Open()));
  gate_env_.Close();
  // 100 KiB into a 64 KiB write buffer: exactly one switch; its flush is
  // held, so keys [0, ~60) live only in the old WAL.
  ASSERT_NO_FATAL_FAILURE(PutRange(0, 100));
  ASSERT_GT(gate_env_.held(), 0u);  // the switch asked for a flush
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(IsOk(db_->Put(sync, "synced", "yes")));
  ASSERT_NO_FATAL_FAILURE(SimulateCrash());

  ASSERT_TRUE(IsOk(Open()));
  std::string value;
  ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), "synced", &value)));
  EXPECT_EQ("yes", value);
  // Every write issued before the acknowledged sync write survives, those
  // of the old WAL included.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(i), &value))) << Key(i);
  }
}

TEST_F(WalSwitchTest, SyncWriteRightAfterOpenSurvives) {
  // The WAL created by Open has a directory entry to make durable too.
  ASSERT_TRUE(IsOk(Open()));
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(IsOk(db_->Put(sync, "a", "1")));
  ASSERT_NO_FATAL_FAILURE(SimulateCrash());
  ASSERT_TRUE(IsOk(Open()));
  std::string value;
  ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), "a", &value)));
  EXPECT_EQ("1", value);
}

TEST_F(WalSwitchTest, SwitchesWithoutSyncWritesDoNotSyncWals) {
  ASSERT_TRUE(IsOk(Open()));
  gate_env_.Close();
  const uint64_t syncs = env_.sync_count();
  ASSERT_NO_FATAL_FAILURE(PutRange(0, 100));  // one switch, flush held
  ASSERT_GT(gate_env_.held(), 0u);
  EXPECT_EQ(syncs, env_.sync_count());
  gate_env_.Open();
  // Nothing synced yet is promised, but the DB stays usable, and after
  // more switches (flushes now run) and a clean reopen everything is there.
  ASSERT_NO_FATAL_FAILURE(PutRange(100, 400));
  ASSERT_TRUE(IsOk(Open()));
  std::string value;
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(i), &value))) << Key(i);
  }
}

}  // namespace
}  // namespace ldb
