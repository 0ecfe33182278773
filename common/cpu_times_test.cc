#include "common/cpu_times.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(CpuTimesTest, ParsesTheAggregateLine) {
  CpuTimes t;
  ASSERT_TRUE(CpuTimes::Parse("cpu  100 5 20 1000 30 2 3 40 0 0", &t));
  EXPECT_EQ(100u + 5 + 20 + 2 + 3, t.busy);
  EXPECT_EQ(1000u + 30, t.idle);
  EXPECT_EQ(40u, t.steal);
  EXPECT_EQ(t.busy + t.idle + t.steal, t.total());
  // A kernel without the steal field.
  ASSERT_TRUE(CpuTimes::Parse("cpu 1 2 3 4 5 6 7", &t));
  EXPECT_EQ(0u, t.steal);
  EXPECT_EQ(1u + 2 + 3 + 6 + 7, t.busy);
}

TEST(CpuTimesTest, RefusesOtherLines) {
  CpuTimes t;
  EXPECT_FALSE(CpuTimes::Parse("cpu0 1 2 3 4 5 6 7 8", &t));  // one CPU, not the sum
  EXPECT_FALSE(CpuTimes::Parse("intr 1 2 3", &t));
  EXPECT_FALSE(CpuTimes::Parse("cpu  1 2 3", &t));             // too few fields
  EXPECT_FALSE(CpuTimes::Parse("cpu  1 2 x 4 5 6 7 8", &t));
  EXPECT_FALSE(CpuTimes::Parse("cpu  1 2 3- 4 5 6 7 8", &t));
  EXPECT_FALSE(CpuTimes::Parse("", &t));
}

TEST(CpuTimesTest, SharesBetweenTwoReadings) {
  CpuTimes a, b;
  ASSERT_TRUE(CpuTimes::Parse("cpu  100 0 0 100 0 0 0 0", &a));
  ASSERT_TRUE(CpuTimes::Parse("cpu  160 0 10 120 0 0 0 10", &b));
  const CpuShare s = CpuShareBetween(a, b);  // 100 ticks: 70 busy, 20 idle, 10 stolen
  EXPECT_DOUBLE_EQ(70.0, s.busy_pct);
  EXPECT_DOUBLE_EQ(10.0, s.steal_pct);
  EXPECT_EQ(-1, CpuShareBetween(b, a).busy_pct);  // out of order
  EXPECT_EQ(-1, CpuShareBetween(a, a).steal_pct);  // no time passed
}

TEST(CpuTimesTest, ReadsThisMachine) {
  CpuTimes t;
  ASSERT_TRUE(CpuTimes::Read(&t));  // the suite runs on Linux
  EXPECT_GT(t.total(), 0u);
}

}  // namespace
}  // namespace tessera
