#include "util/histogram.h"

#include <cmath>

#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

TEST(HistogramTest, Empty) {
  Histogram h;
  EXPECT_EQ(0u, h.Count());
  EXPECT_EQ(0.0, h.Average());
  EXPECT_EQ(0.0, h.StandardDeviation());
  EXPECT_EQ(0.0, h.Median());
  EXPECT_EQ(0.0, h.Percentile(99));
  EXPECT_EQ(0.0, h.Min());
  EXPECT_EQ(0.0, h.Max());
  EXPECT_NE(std::string::npos, h.ToString().find("Count: 0"));
}

TEST(HistogramTest, SingleValue) {
  Histogram h;
  h.Add(42);
  EXPECT_EQ(1u, h.Count());
  EXPECT_DOUBLE_EQ(42.0, h.Average());
  EXPECT_DOUBLE_EQ(0.0, h.StandardDeviation());
  EXPECT_DOUBLE_EQ(42.0, h.Median());
  EXPECT_DOUBLE_EQ(42.0, h.Percentile(0));
  EXPECT_DOUBLE_EQ(42.0, h.Percentile(100));
  EXPECT_DOUBLE_EQ(42.0, h.Min());
  EXPECT_DOUBLE_EQ(42.0, h.Max());
}

TEST(HistogramTest, AverageAndStdDev) {
  Histogram h;
  for (double v : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) h.Add(v);
  EXPECT_EQ(8u, h.Count());
  EXPECT_DOUBLE_EQ(5.0, h.Average());
  EXPECT_NEAR(2.0, h.StandardDeviation(), 1e-9);
  EXPECT_DOUBLE_EQ(2.0, h.Min());
  EXPECT_DOUBLE_EQ(9.0, h.Max());
}

TEST(HistogramTest, PercentilesOfUniform) {
  Histogram h;
  for (int i = 1; i <= 10000; ++i) h.Add(i);
  // Buckets are ~20 % wide at this scale: estimates within that.
  EXPECT_NEAR(5000, h.Median(), 5000 * 0.2);
  EXPECT_NEAR(9000, h.Percentile(90), 9000 * 0.2);
  EXPECT_NEAR(9900, h.Percentile(99), 9900 * 0.2);
  EXPECT_LE(h.Percentile(99.9), 10000);
  EXPECT_GE(h.Percentile(0), 1);
  // Monotonic in p.
  double prev = 0;
  for (double p = 0; p <= 100; p += 0.5) {
    const double v = h.Percentile(p);
    ASSERT_GE(v, prev) << p;
    prev = v;
  }
}

TEST(HistogramTest, SmallIntegersAreExact) {
  // Values below 10 each have their own bucket.
  Histogram h;
  for (int i = 0; i < 100; ++i) h.Add(3);
  for (int i = 0; i < 100; ++i) h.Add(7);
  EXPECT_GE(h.Percentile(25), 3.0);
  EXPECT_LT(h.Percentile(25), 4.0);
  EXPECT_GE(h.Percentile(75), 7.0);
  EXPECT_LE(h.Percentile(75), 7.0);
}

TEST(HistogramTest, LargeAndNegativeValues) {
  Histogram h;
  h.Add(1e20);  // Beyond the last finite bucket.
  h.Add(-5);    // Counted as 0.
  EXPECT_EQ(2u, h.Count());
  EXPECT_DOUBLE_EQ(0.0, h.Min());
  EXPECT_DOUBLE_EQ(1e20, h.Max());
  EXPECT_DOUBLE_EQ(1e20, h.Percentile(100));
  EXPECT_FALSE(h.ToString().empty());
}

TEST(HistogramTest, MergeEqualsAddingAll) {
  Random rnd(9);
  Histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const double v = rnd.Skewed(16);
    (i % 3 == 0 ? a : b).Add(v);
    all.Add(v);
  }
  a.Merge(b);
  EXPECT_EQ(all.Count(), a.Count());
  EXPECT_NEAR(all.Average(), a.Average(), 1e-9);
  EXPECT_NEAR(all.StandardDeviation(), a.StandardDeviation(), 1e-6);
  EXPECT_DOUBLE_EQ(all.Min(), a.Min());
  EXPECT_DOUBLE_EQ(all.Max(), a.Max());
  for (double p : {1.0, 50.0, 90.0, 99.0}) {
    EXPECT_DOUBLE_EQ(all.Percentile(p), a.Percentile(p)) << p;
  }
  EXPECT_EQ(all.ToString(), a.ToString());

  Histogram empty;
  a.Merge(empty);
  EXPECT_EQ(all.Count(), a.Count());
  EXPECT_DOUBLE_EQ(all.Min(), a.Min());
  empty.Merge(all);
  EXPECT_DOUBLE_EQ(all.Min(), empty.Min());
}

TEST(HistogramTest, Clear) {
  Histogram h;
  h.Add(10);
  h.Add(20);
  h.Clear();
  EXPECT_EQ(0u, h.Count());
  EXPECT_EQ(0.0, h.Max());
  h.Add(5);
  EXPECT_DOUBLE_EQ(5.0, h.Min());
  EXPECT_DOUBLE_EQ(5.0, h.Median());
}

TEST(HistogramTest, ToStringMentionsFigures) {
  Histogram h;
  for (int i = 0; i < 100; ++i) h.Add(100);
  const std::string s = h.ToString();
  EXPECT_NE(std::string::npos, s.find("Count: 100"));
  EXPECT_NE(std::string::npos, s.find("Average: 100.0000"));
  EXPECT_NE(std::string::npos, s.find("100.000%"));
  EXPECT_NE(std::string::npos, s.find("####################"));
}

}  // namespace
}  // namespace ldb
