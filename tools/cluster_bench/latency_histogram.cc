#include "latency_histogram.h"

#include <algorithm>
#include <bit>

namespace tessera::bench {

namespace {
constexpr uint64_t kExact = 256;   // values below are their own bucket
constexpr int kSubBits = 7;        // 128 sub-buckets per power of two above
constexpr size_t kBuckets = kExact + (64 - 8) * (size_t{1} << kSubBits);
}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

size_t LatencyHistogram::Index(uint64_t v) {
  if (v < kExact) return static_cast<size_t>(v);
  const int e = 63 - std::countl_zero(v);  // >= 8
  const uint64_t sub = (v >> (e - kSubBits)) & ((uint64_t{1} << kSubBits) - 1);
  return kExact + static_cast<size_t>(e - 8) * (size_t{1} << kSubBits) + sub;
}

uint64_t LatencyHistogram::UpperEdge(size_t index) {
  if (index < kExact) return index;
  const size_t i = index - kExact;
  const int e = static_cast<int>(i >> kSubBits) + 8;
  const uint64_t sub = i & ((size_t{1} << kSubBits) - 1);
  const uint64_t low = (uint64_t{1} << e) | (sub << (e - kSubBits));
  return low + (uint64_t{1} << (e - kSubBits)) - 1;
}

void LatencyHistogram::Add(uint64_t micros) {
  ++buckets_[Index(micros)];
  ++count_;
  sum_ += micros;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t want = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= want) return std::min(UpperEdge(i), max_);
  }
  return max_;
}

}  // namespace tessera::bench
