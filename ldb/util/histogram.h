// Histogram: distribution of latencies (or any non-negative values) in
// exponentially growing buckets, for benchmarks and statistics.
//
// Thread-compatible.
#ifndef LDB_UTIL_HISTOGRAM_H_
#define LDB_UTIL_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ldb {

class Histogram {
 public:
  Histogram();

  void Clear();
  // Records one value (typically microseconds). Negative values count as 0.
  void Add(double value);
  // Adds every value recorded in other.
  void Merge(const Histogram& other);

  // Estimated from the buckets (linear interpolation inside a bucket), and
  // clamped to [min, max] of the recorded values. 0 when empty.
  double Median() const { return Percentile(50.0); }
  // REQUIRES: 0 <= p <= 100.
  double Percentile(double p) const;
  double Average() const;
  double StandardDeviation() const;
  double Min() const { return count_ == 0 ? 0.0 : min_; }
  double Max() const { return count_ == 0 ? 0.0 : max_; }
  uint64_t Count() const { return count_; }

  // Multi-line summary: count, average, stddev, min/median/max, percentiles
  // and a bar per non-empty bucket.
  std::string ToString() const;

 private:
  double min_;
  double max_;
  uint64_t count_;
  double sum_;
  double sum_squares_;
  std::vector<uint64_t> buckets_;  // Same size as the bucket limits table.
};

}  // namespace ldb

#endif  // LDB_UTIL_HISTOGRAM_H_
