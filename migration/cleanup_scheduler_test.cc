// CleanupScheduler over a fake BucketStore: buckets are compacted one at a time and
// their GC entries retired, bytes freed add up, pause/resume (persisted through the
// store) and the time window hold cleanups back, queued tickets of one bucket merge,
// reclaims persisted before a restart are picked up, failures are retried.
#include "migration/cleanup_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <mutex>
#include <vector>

namespace tessera::migration {
namespace {

class FakeStore final : public BucketStore {
 public:
  Status ScanBucket(uint32_t, const std::function<bool(const MigratedEntryView&)>&) override {
    return Status::OK();
  }
  Status ReadEntry(uint32_t, uint32_t, std::string_view, EntryBatch*) override {
    return Status::OK();
  }
  void StartRecording(uint32_t) override {}
  std::vector<ChangedKey> TakeChanges(uint32_t) override { return {}; }
  void StopRecording(uint32_t) override {}
  void Fence(uint32_t) override {}
  void Unfence(uint32_t) override {}
  Status ApplyMigrated(uint32_t, std::span<const MigratedEntryView>, bool) override {
    return Status::OK();
  }
  Status ReclaimBucket(uint32_t, ReclaimTicket*) override { return Status::OK(); }
  Status CompactBucket(const ReclaimTicket& t, CleanupResult* r) override {
    std::lock_guard<std::mutex> l(mu);
    if (fail_next) {
      fail_next = false;
      return Status::Internal("injected");
    }
    compacted.push_back(t);
    r->bytes_freed = 1000 + t.bucket;
    r->bytes_written = 10;
    return Status::OK();
  }
  Status RetireReclaim(const ReclaimTicket& t) override {
    std::lock_guard<std::mutex> l(mu);
    retired.push_back(t.bucket);
    return Status::OK();
  }
  std::vector<ReclaimTicket> PendingReclaims() override { return persisted; }
  Status SetCleanupPaused(bool p) override {
    paused_flag = p;
    return Status::OK();
  }
  bool CleanupPaused() const override { return paused_flag; }

  std::mutex mu;
  std::vector<ReclaimTicket> compacted;
  std::vector<uint32_t> retired;
  std::vector<ReclaimTicket> persisted;
  bool fail_next = false;
  std::atomic<bool> paused_flag{false};
};

CleanupOptions Fast() {
  CleanupOptions o;
  o.pause_ms = 0;
  return o;
}

TEST(CleanupSchedulerTest, CompactsRetiresAndCounts) {
  FakeStore store;
  store.persisted = {ReclaimTicket{9, 50, 7}};
  CleanupScheduler c(Fast(), &store);
  ASSERT_TRUE(c.Pause().ok());  // hold everything until queued
  c.Start();
  c.Enqueue(ReclaimTicket{1, 10, 5});
  c.Enqueue(ReclaimTicket{2, 11, 5});
  c.Enqueue(ReclaimTicket{1, 20, 6});  // merges into bucket 1's ticket
  EXPECT_EQ(c.stats().pending, 3u);     // 9 (persisted), 1, 2
  EXPECT_FALSE(c.WaitIdle(50));         // paused: nothing runs
  EXPECT_TRUE(store.paused_flag.load());
  ASSERT_TRUE(c.Resume().ok());
  ASSERT_TRUE(c.WaitIdle(5000));
  std::lock_guard<std::mutex> l(store.mu);
  ASSERT_EQ(store.compacted.size(), 3u);
  EXPECT_EQ(store.compacted[0].bucket, 9u);
  EXPECT_EQ(store.compacted[1].bucket, 1u);
  EXPECT_EQ(store.compacted[1].sequence, 20u);
  EXPECT_EQ(store.compacted[1].limit_filenumber, 6u);
  EXPECT_EQ(store.retired, (std::vector<uint32_t>{9, 1, 2}));
  EXPECT_EQ(c.stats().bytes_freed, 1009u + 1001u + 1002u);
  EXPECT_EQ(c.stats().buckets_cleaned, 3u);
}

TEST(CleanupSchedulerTest, WindowHoldsCleanupsBack) {
  FakeStore store;
  std::atomic<int> hour{12};
  CleanupOptions o = Fast();
  o.window_start = 1;
  o.window_end = 5;
  o.hour_now = [&] { return hour.load(); };
  CleanupScheduler c(o, &store);
  c.Start();
  c.Enqueue(ReclaimTicket{4, 1, 1});
  EXPECT_FALSE(c.WaitIdle(100));
  hour.store(2);
  c.Enqueue(ReclaimTicket{5, 1, 1});  // wakes the scheduler up
  ASSERT_TRUE(c.WaitIdle(5000));
  EXPECT_EQ(c.stats().buckets_cleaned, 2u);
}

TEST(CleanupSchedulerTest, HoldWaitsUntilReleasedButRunNowDoesNot) {
  FakeStore store;
  std::atomic<bool> migrating{true};
  CleanupOptions o = Fast();
  o.hold = [&] { return migrating.load(); };
  o.hold_poll_ms = 5;
  CleanupScheduler c(o, &store);
  c.Start();
  c.Enqueue(ReclaimTicket{4, 1, 1});
  c.Enqueue(ReclaimTicket{5, 1, 1});
  EXPECT_FALSE(c.WaitIdle(100));  // held
  EXPECT_EQ(c.stats().buckets_cleaned, 0u);
  c.RunNow({ReclaimTicket{5, 0, 2}});  // the operator's run goes ahead of the hold
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (c.stats().buckets_cleaned < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(c.stats().buckets_cleaned, 1u);
  EXPECT_FALSE(c.WaitIdle(50));  // bucket 4 still held
  migrating.store(false);         // noticed at the next poll, nothing else wakes it
  ASSERT_TRUE(c.WaitIdle(5000));
  std::lock_guard<std::mutex> l(store.mu);
  ASSERT_EQ(store.compacted.size(), 2u);
  EXPECT_EQ(store.compacted[0].bucket, 5u);
  EXPECT_EQ(store.compacted[1].bucket, 4u);
}

TEST(CleanupSchedulerTest, AHoldLongerThanMaxHoldIsIgnored) {
  FakeStore store;
  CleanupOptions o = Fast();
  o.hold = [] { return true; };  // e.g. a migration that keeps retrying
  o.hold_poll_ms = 5;
  o.max_hold_ms = 50;
  CleanupScheduler c(o, &store);
  c.Start();
  c.Enqueue(ReclaimTicket{4, 1, 1});
  ASSERT_TRUE(c.WaitIdle(5000));
  EXPECT_EQ(c.stats().buckets_cleaned, 1u);
}

TEST(CleanupSchedulerTest, FailureIsRetried) {
  FakeStore store;
  store.fail_next = true;
  CleanupScheduler c(Fast(), &store);
  c.Start();
  c.Enqueue(ReclaimTicket{3, 1, 1});
  ASSERT_TRUE(c.WaitIdle(10000));  // retried after about a second
  std::lock_guard<std::mutex> l(store.mu);
  EXPECT_EQ(store.retired, (std::vector<uint32_t>{3}));
}

TEST(CleanupSchedulerTest, RunNowIgnoresTheWindowAndReportsBuckets) {
  FakeStore store;
  CleanupOptions o;
  o.pause_ms = 60000;  // forced buckets run back to back regardless
  o.window_start = 1;
  o.window_end = 5;
  o.hour_now = [] { return 12; };  // always outside the window
  CleanupScheduler c(o, &store);
  c.Start();
  c.Enqueue(ReclaimTicket{4, 7, 1});
  c.Enqueue(ReclaimTicket{6, 8, 1});
  EXPECT_FALSE(c.WaitIdle(100));  // the window holds them back
  std::vector<CleanupScheduler::BucketInfo> seen = c.buckets();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].phase, CleanupScheduler::BucketPhase::kQueued);
  // Bucket 6 (queued) and bucket 2 (a bucket still held: sequence 0) now.
  c.RunNow({ReclaimTicket{6, 0, 3}, ReclaimTicket{2, 0, 3}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (c.stats().buckets_cleaned < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(c.stats().buckets_cleaned, 2u);
  EXPECT_EQ(c.stats().pending, 1u);  // bucket 4 still waits for its window
  {
    std::lock_guard<std::mutex> l(store.mu);
    ASSERT_EQ(store.compacted.size(), 2u);
    EXPECT_EQ(store.compacted[0].bucket, 6u);
    EXPECT_EQ(store.compacted[0].sequence, 8u);  // merged with the queued ticket
    EXPECT_EQ(store.compacted[0].limit_filenumber, 3u);
    EXPECT_EQ(store.compacted[1].bucket, 2u);
  }
  seen = c.buckets();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].bucket, 2u);
  EXPECT_EQ(seen[0].phase, CleanupScheduler::BucketPhase::kDone);
  EXPECT_EQ(seen[0].bytes_freed, 1002u);
  EXPECT_EQ(seen[1].bucket, 4u);
  EXPECT_EQ(seen[1].phase, CleanupScheduler::BucketPhase::kQueued);
  EXPECT_EQ(seen[2].phase, CleanupScheduler::BucketPhase::kDone);
  EXPECT_STREQ(CleanupScheduler::PhaseName(seen[2].phase), "done");
  c.Stop();
}

}  // namespace
}  // namespace tessera::migration
