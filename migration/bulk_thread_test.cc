#include "migration/bulk_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/thread_policy.h"

namespace tessera::migration {
namespace {

// The closure runs on the BulkThread, after on_start and in the class on_start gave
// that thread, while the caller's own thread keeps its class.
TEST(BulkThreadTest, RunsOnItsThreadInTheClassOnStartGaveIt) {
  std::thread::id started_on;
  BulkThread bulk([&] {
    started_on = std::this_thread::get_id();
    ASSERT_TRUE(SetCurrentThreadIdle());
  });
  std::thread::id ran_on;
  bool idle = false;
  int value = 0;
  bulk.Run([&] {
    ran_on = std::this_thread::get_id();
    idle = CurrentThreadIsIdle();
    value = 42;
  });
  // Run returned only once the closure had: its writes are visible.
  EXPECT_EQ(value, 42);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(ran_on, started_on);
  EXPECT_TRUE(idle);
  EXPECT_FALSE(CurrentThreadIsIdle());
  // The thread serves one call after another.
  bulk.Run([&] { ++value; });
  EXPECT_EQ(value, 43);
}

// Callers on several threads at once: every closure runs exactly once, never two at
// the same time.
TEST(BulkThreadTest, ConcurrentCallersRunOneAtATime) {
  BulkThread bulk(nullptr);
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  int total = 0;  // only touched on the bulk thread
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        bulk.Run([&] {
          if (running.fetch_add(1) != 0) overlapped = true;
          ++total;
          std::this_thread::yield();
          running.fetch_sub(1);
        });
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_FALSE(overlapped.load());
  int seen = 0;
  bulk.Run([&] { seen = total; });
  EXPECT_EQ(seen, 800);
}

// Destroying an idle BulkThread joins it, started or not.
TEST(BulkThreadTest, DestroyWithoutWork) {
  for (int i = 0; i < 50; ++i) BulkThread bulk([] {});
}

}  // namespace
}  // namespace tessera::migration
