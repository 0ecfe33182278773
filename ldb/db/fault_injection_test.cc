// Crash and I/O-error behaviour of the DB, through FaultInjectionEnv:
//  - a simulated machine crash (unsynced data and unsynced directory entries
//    lost) never loses a write acknowledged with sync=true;
//  - a failed write is reported to the writer, the error sticks, and nothing
//    acknowledged is lost.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>

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

// The fixed seed, or LDB_FAULT_SEED when set (logged either way).
uint64_t Seed(uint64_t fixed) {
  const char* env = std::getenv("LDB_FAULT_SEED");
  const uint64_t seed =
      env != nullptr ? std::strtoull(env, nullptr, 10) : fixed;
  std::fprintf(stderr, "[fault_injection] seed=%llu\n",
               static_cast<unsigned long long>(seed));
  return seed;
}

enum class BaseEnv { kPosix, kMem };

class FaultInjectionTest : public testing::TestWithParam<BaseEnv> {
 protected:
  void SetUp() override {
    if (GetParam() == BaseEnv::kMem) {
      mem_env_ = NewMemEnv(Env::Default());
      base_env_ = mem_env_.get();
      dbname_ = "/mem/fault_injection_test";
    } else {
      base_env_ = Env::Default();
      dbname_ = test::TempDir("fault_injection_test");
    }
    env_ = std::make_unique<FaultInjectionEnv>(base_env_);
    options_.env = env_.get();
    options_.create_if_missing = true;
    options_.write_buffer_size = 16 * 1024;  // flushes and compactions happen
    options_.max_file_size = 32 * 1024;
    DestroyDB(dbname_, options_).IgnoreError();
  }

  void TearDown() override {
    db_.reset();
    env_->SetFilesystemActive(true);
    DestroyDB(dbname_, options_).IgnoreError();
  }

  Status Open() {
    db_.reset();
    return DB::Open(options_, dbname_, &db_);
  }

  // The machine dies: writes stop reaching the disk, the process goes away,
  // the page cache and unsynced directory entries are lost.
  void SimulateCrash() {
    env_->SetFilesystemActive(false);
    db_.reset();  // errors while closing are expected and ignored
    ASSERT_TRUE(IsOk(env_->DropUnsyncedFileData()));
    ASSERT_TRUE(IsOk(env_->RemoveFilesCreatedAfterLastDirSync()));
    env_->ResetState();
    env_->SetFilesystemActive(true);
  }

  // "NOT_FOUND", the value, or "ERROR: ...".
  std::string Get(const std::string& k) { return test::Get(db_.get(), k); }

  std::unique_ptr<Env> mem_env_;
  Env* base_env_ = nullptr;
  std::unique_ptr<FaultInjectionEnv> env_;
  std::string dbname_;
  Options options_;
  std::unique_ptr<DB> db_;
};

INSTANTIATE_TEST_SUITE_P(Envs, FaultInjectionTest,
                         testing::Values(BaseEnv::kPosix, BaseEnv::kMem),
                         [](const testing::TestParamInfo<BaseEnv>& info) {
                           return info.param == BaseEnv::kMem ? "Mem" : "Posix";
                         });

TEST_P(FaultInjectionTest, SyncedWritesSurviveCrashes) {
  constexpr int kRounds = 6;
  constexpr int kWritesPerRound = 1200;
  const uint64_t seed = Seed(4242);
  Random rnd(seed);
  SCOPED_TRACE(std::string("seed ") + std::to_string(seed));
  // Must hold after every crash: key -> value, or absent for synced deletes.
  std::map<std::string, std::string> durable;
  std::set<std::string> durably_deleted;
  // May or may not have survived, but if present must hold exactly this.
  std::map<std::string, std::string> maybe;

  for (int round = 0; round < kRounds; round++) {
    SCOPED_TRACE(std::string("round ") + std::to_string(round));
    ASSERT_TRUE(IsOk(Open()));
    const uint64_t syncs_before = env_->sync_count();
    int synced_writes = 0;
    for (int i = 0; i < kWritesPerRound; i++) {
      const std::string key = std::string("r") + std::to_string(round) +
                              std::string("_") + std::to_string(100000 + i);
      const std::string value =
          key + ":" +
          test::RandomString(&rnd, static_cast<int>(rnd.Uniform(200)));
      WriteOptions wo;
      wo.sync = rnd.OneIn(3);
      if (wo.sync && !durable.empty() && rnd.OneIn(8)) {
        // A synced delete of a key made durable in an earlier round.
        auto victim = durable.begin();
        std::advance(victim,
                     rnd.Uniform(static_cast<uint32_t>(durable.size())));
        const std::string vkey = victim->first;
        ASSERT_TRUE(IsOk(db_->Delete(wo, vkey)));
        durable.erase(vkey);
        durably_deleted.insert(vkey);
        synced_writes++;
        continue;
      }
      if (rnd.OneIn(10)) {
        // A synced batch: all of it must survive.
        WriteBatch batch;
        batch.Put(key, value);
        batch.Put(key + "b", value + "b");
        wo.sync = true;
        ASSERT_TRUE(IsOk(db_->Write(wo, &batch)));
        durable[key] = value;
        durable[key + "b"] = value + "b";
        synced_writes++;
        continue;
      }
      ASSERT_TRUE(IsOk(db_->Put(wo, key, value)));
      if (wo.sync) {
        durable[key] = value;
        synced_writes++;
      } else {
        maybe[key] = value;
      }
      if (i == kWritesPerRound / 2 && round % 2 == 1) {
        db_->CompactRange(nullptr, nullptr);
      }
    }
    // Each synced write must have reached a Sync().
    EXPECT_GE(env_->sync_count() - syncs_before,
              static_cast<uint64_t>(synced_writes));

    SimulateCrash();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(IsOk(Open())) << "the DB must open after a crash";

    int lost = 0;
    int resurrected = 0;
    for (const auto& [k, v] : durable) {
      std::string got = Get(k);
      if (got != v) {
        if (++lost <= 5)
          ADD_FAILURE() << "synced write lost: " << k << " -> " << got;
      }
    }
    for (const std::string& k : durably_deleted) {
      if (Get(k) != "NOT_FOUND") {
        if (++resurrected <= 5) ADD_FAILURE() << "synced delete undone: " << k;
      }
    }
    EXPECT_EQ(0, lost);
    EXPECT_EQ(0, resurrected);
    // Whatever survived is exact; nothing unknown appears.
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    int survivors = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string k = it->key().ToString();
      const std::string v = it->value().ToString();
      auto d = durable.find(k);
      auto m = maybe.find(k);
      if (d != durable.end()) {
        ASSERT_EQ(d->second, v) << k;
      } else if (m != maybe.end()) {
        ASSERT_EQ(m->second, v) << k;
        survivors++;
      } else {
        ASSERT_TRUE(false) << "unexpected key after crash: " << k;
      }
    }
    ASSERT_TRUE(IsOk(it->status()));
    it.reset();
    // Unsynced writes that survived are now durable (they are on disk and
    // recovery keeps them); the others are gone for good.
    for (auto m = maybe.begin(); m != maybe.end();) {
      std::string got = Get(m->first);
      if (got == m->second) durable[m->first] = m->second;
      m = maybe.erase(m);
    }
    std::fprintf(
        stderr,
        "[fault_injection] round %d: %zu durable keys, %d unsynced survived\n",
        round, durable.size(), survivors);
    db_.reset();
  }
}

// A crash before any sync at all: the DB still opens (possibly empty).
TEST_P(FaultInjectionTest, CrashWithNothingSynced) {
  ASSERT_TRUE(IsOk(Open()));
  for (int i = 0; i < 100; i++) {
    ASSERT_TRUE(IsOk(
        db_->Put(WriteOptions(), std::string("k") + std::to_string(i), "v")));
  }
  SimulateCrash();
  ASSERT_TRUE(IsOk(Open()));
  for (int i = 0; i < 100; i++) {
    std::string got = Get(std::string("k") + std::to_string(i));
    EXPECT_TRUE(got == "v" || got == "NOT_FOUND") << got;
  }
}

// A failing WAL append fails the write, the failure sticks, and every write
// acknowledged before it survives a clean reopen (and a crash, if synced).
TEST_P(FaultInjectionTest, WalWriteErrorIsReportedAndSticks) {
  for (const bool sync : {false, true}) {
    SCOPED_TRACE(sync ? "sync" : "no sync");
    options_.write_buffer_size = 4 << 20;  // no background writes
    ASSERT_TRUE(IsOk(Open()));
    std::map<std::string, std::string> acked;
    std::set<std::string> unknown;  // writes that failed: either outcome
    WriteOptions wo;
    wo.sync = sync;
    for (int i = 0; i < 200; i++) {
      const std::string k = std::string("pre") + std::to_string(i);
      ASSERT_TRUE(IsOk(db_->Put(wo, k, "v" + k)));
      acked[k] = "v" + k;
    }
    env_->InjectWriteErrors(1);
    Status failed = db_->Put(wo, "victim", "victim-value");
    EXPECT_FALSE(failed.ok()) << "a failed WAL write must be reported";
    if (failed.ok()) {
      acked["victim"] = "victim-value";
    } else {
      unknown.insert("victim");
    }
    // The error sticks: later writes fail or the background error is set.
    Status later = db_->Put(wo, "after", "after-value");
    std::string bg;
    ASSERT_TRUE(db_->GetProperty("ldb.background-error", &bg));
    EXPECT_TRUE(!later.ok() || bg != "OK")
        << "after a WAL write error, writes still succeed and "
           "ldb.background-error is OK";
    if (later.ok()) {
      acked["after"] = "after-value";
    } else {
      unknown.insert("after");
    }
    // Reads keep working.
    EXPECT_EQ("vpre7", Get("pre7"));

    if (sync) {
      SimulateCrash();
    } else {
      db_.reset();
    }
    ASSERT_TRUE(IsOk(Open()));
    for (const auto& [k, v] : acked) EXPECT_EQ(v, Get(k)) << k;
    for (const std::string& k : unknown) {
      std::string got = Get(k);
      EXPECT_TRUE(got == "NOT_FOUND" || got == k + "-value")
          << k << ": " << got;
    }
    // Writes work again after reopening.
    EXPECT_TRUE(IsOk(db_->Put(wo, "fresh", "x")));
    EXPECT_EQ("x", Get("fresh"));
    db_.reset();
    ASSERT_TRUE(IsOk(DestroyDB(dbname_, options_)));
  }
}

// Write errors while flushes and compactions run: once the DB stops
// acknowledging, nothing it did acknowledge may be missing after reopen.
TEST_P(FaultInjectionTest, BackgroundWriteErrorsLoseNothingAcknowledged) {
  const uint64_t seed = Seed(77);
  SCOPED_TRACE(std::string("seed ") + std::to_string(seed));
  Random rnd(seed);
  for (int trial = 0; trial < 4; trial++) {
    SCOPED_TRACE(std::string("trial ") + std::to_string(trial));
    ASSERT_TRUE(IsOk(Open()));
    std::map<std::string, std::string> acked;
    std::set<std::string> unknown;
    const int inject_at = 200 + static_cast<int>(rnd.Uniform(1500));
    int failures = 0;
    for (int i = 0; i < 3000 && failures < 20; i++) {
      if (i == inject_at)
        env_->InjectWriteErrors(1 + static_cast<int>(rnd.Uniform(3)));
      const std::string k = std::string("t") + std::to_string(trial) + "_" +
                            std::to_string(rnd.Uniform(800));
      const std::string v = k + std::string(":") + std::to_string(i) + ":" +
                            test::RandomString(&rnd, 100);
      Status s = db_->Put(WriteOptions(), k, v);
      if (s.ok()) {
        acked[k] = v;
        unknown.erase(k);
      } else {
        failures++;
        acked.erase(k);
        unknown.insert(k);
      }
    }
    std::string bg;
    ASSERT_TRUE(db_->GetProperty("ldb.background-error", &bg));
    std::fprintf(
        stderr,
        "[fault_injection] trial %d: %d failed writes, background-error=%s\n",
        trial, failures, bg.c_str());
    db_.reset();
    env_->InjectWriteErrors(0);  // the disk is healthy again
    env_->ResetState();
    ASSERT_TRUE(IsOk(Open()));
    int lost = 0;
    for (const auto& [k, v] : acked) {
      std::string got = Get(k);
      if (got != v && ++lost <= 5) {
        ADD_FAILURE() << "acknowledged write lost: " << k << " -> "
                      << got.substr(0, 60);
      }
    }
    EXPECT_EQ(0, lost);
    db_.reset();
  }
}

}  // namespace
}  // namespace ldb
