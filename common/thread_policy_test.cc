#include "common/thread_policy.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
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

// Per-thread slices for normal threads came with Linux 6.12.
bool KernelHasCustomSlices() {
  utsname u{};
  int major = 0;
  int minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 12);
}

// The slice belongs to the thread that asked, and its nice value stays as it was.
TEST(ThreadPolicyTest, SliceAppliesToTheCallingThreadAndKeepsItsNice) {
  const bool supported = KernelHasCustomSlices();
  const uint32_t own_before = ThreadSliceMicros();
  bool set = false;
  uint32_t slice = 0;
  int nice_after = 0;
  std::thread worker([&] {
    const int tid = static_cast<int>(::syscall(SYS_gettid));
    ASSERT_EQ(::setpriority(PRIO_PROCESS, tid, 5), 0);
    set = SetCurrentThreadSlice(200);
    slice = ThreadSliceMicros(tid);
    nice_after = ::getpriority(PRIO_PROCESS, tid);
  });
  worker.join();
  EXPECT_EQ(nice_after, 5);
  EXPECT_EQ(ThreadSliceMicros(), own_before);
  if (supported) {
    EXPECT_TRUE(set);
    EXPECT_EQ(slice, 200u);
    EXPECT_NE(own_before, 200u);
  } else {
    EXPECT_FALSE(set);
  }
}

// An idle thread has no slice to set.
TEST(ThreadPolicyTest, IdleThreadGetsNoSlice) {
  bool set = true;
  std::thread worker([&] {
    ASSERT_TRUE(SetCurrentThreadIdle());
    set = SetCurrentThreadSlice(200);
  });
  worker.join();
  EXPECT_FALSE(set);
}

}  // namespace
}  // namespace tessera
