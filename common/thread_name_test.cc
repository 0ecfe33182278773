#include "common/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

namespace tessera {
namespace {

// A thread that names itself is found by that name, in its process only.
TEST(ThreadNameTest, ThreadIdsNamedFindsANamedThread) {
  EXPECT_TRUE(ThreadIdsNamed("/proc/self", "tn-probe").empty());
  int tid = 0;
  std::vector<int> found;
  std::thread t([&] {
    SetCurrentThreadName("tn-probe-with-a-long-name");  // kept: "tn-probe-with-a"
    tid = static_cast<int>(::syscall(SYS_gettid));
    found = ThreadIdsNamed("/proc/self", "tn-probe-with-a");
  });
  t.join();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], tid);
  EXPECT_TRUE(ThreadIdsNamed("/proc/no-such-process", "tn-probe-with-a").empty());
}

}  // namespace
}  // namespace tessera
