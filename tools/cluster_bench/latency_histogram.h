// LatencyHistogram: log-linear histogram of latencies in microseconds (exact below
// 256 us, then 128 sub-buckets per power of two: under 1% relative error).
// Thread-compatible: one writer at a time; Merge() others in when they are done.
#ifndef TESSERA_TOOLS_CLUSTER_BENCH_LATENCY_HISTOGRAM_H_
#define TESSERA_TOOLS_CLUSTER_BENCH_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tessera::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();
  void Add(uint64_t micros);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double Average() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The latency under which fraction q (0..1) of the samples fall (bucket upper edge).
  uint64_t Percentile(double q) const;

 private:
  static size_t Index(uint64_t v);
  static uint64_t UpperEdge(size_t index);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace tessera::bench

#endif  // TESSERA_TOOLS_CLUSTER_BENCH_LATENCY_HISTOGRAM_H_
