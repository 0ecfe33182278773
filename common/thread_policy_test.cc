#include "common/thread_policy.h"

#include <gtest/gtest.h>

#include <thread>

namespace tessera {
namespace {

// The class belongs to the thread that asked, not to its process: the test's own
// thread and a thread started afterwards stay normal.
TEST(ThreadPolicyTest, IdleAppliesToTheCallingThreadOnly) {
  ASSERT_FALSE(CurrentThreadIsIdle());
  bool set = false;
  bool idle_after = false;
  std::thread worker([&] {
    set = SetCurrentThreadIdle();
    idle_after = CurrentThreadIsIdle();
  });
  worker.join();
  ASSERT_TRUE(set) << "SCHED_IDLE refused";
  EXPECT_TRUE(idle_after);
  EXPECT_FALSE(CurrentThreadIsIdle());
  bool other_idle = true;
  std::thread other([&] { other_idle = CurrentThreadIsIdle(); });
  other.join();
  EXPECT_FALSE(other_idle);
}

}  // namespace
}  // namespace tessera
