// Histogram: a latency histogram with about 3 % relative resolution, for
// percentiles of per-operation times.
//
// Values are nanoseconds. Buckets are log-linear: values below 32 get a bucket
// each; above, every power of two is split into 32 equal buckets. Percentiles
// interpolate linearly inside a bucket and are clamped to [min, max].
//
// Thread-compatible: give each thread its own Histogram and Merge them after.
#ifndef TESSERA_TOOLS_LDB_BENCH_HISTOGRAM_H_
#define TESSERA_TOOLS_LDB_BENCH_HISTOGRAM_H_

#include <array>
#include <cstdint>
#include <string>

namespace tessera::ldb_bench {

class Histogram {
 public:
  Histogram() { Clear(); }

  void Clear();
  void Add(uint64_t nanos);
  void Merge(const Histogram& other);

  uint64_t Count() const { return count_; }
  // The statistics below are in microseconds; 0 when empty.
  double MinMicros() const;
  double MaxMicros() const;
  double AverageMicros() const;
  // p in [0, 100].
  double PercentileMicros(double p) const;

  // A multi-line summary: count, average, min/max, percentiles, and a coarse
  // table with one row per power of two.
  std::string ToString() const;

  // Exposed for tests and for ToString.
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kNumBuckets = (64 - kSubBits + 1) * kSub;
  static int BucketFor(uint64_t nanos);
  // [lower, upper) of bucket b, in nanoseconds.
  static uint64_t BucketLower(int b);
  static uint64_t BucketUpper(int b);

 private:
  uint64_t count_;
  uint64_t min_;
  uint64_t max_;
  double sum_;
  std::array<uint64_t, kNumBuckets> buckets_;
};

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_HISTOGRAM_H_
