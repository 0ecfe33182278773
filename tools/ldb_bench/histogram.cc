#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <limits>

namespace tessera::ldb_bench {

void Histogram::Clear() {
  count_ = 0;
  min_ = std::numeric_limits<uint64_t>::max();
  max_ = 0;
  sum_ = 0;
  buckets_.fill(0);
}

int Histogram::BucketFor(uint64_t nanos) {
  if (nanos < kSub) return static_cast<int>(nanos);
  const int e = 63 - std::countl_zero(nanos);    // e >= kSubBits
  const uint64_t top = nanos >> (e - kSubBits);  // in [kSub, 2 * kSub)
  return (e - kSubBits + 1) * kSub + static_cast<int>(top - kSub);
}

uint64_t Histogram::BucketLower(int b) {
  if (b < kSub) return static_cast<uint64_t>(b);
  const int e = b / kSub + kSubBits - 1;
  const uint64_t top = kSub + static_cast<uint64_t>(b % kSub);
  return top << (e - kSubBits);
}

uint64_t Histogram::BucketUpper(int b) {
  if (b < kSub) return static_cast<uint64_t>(b) + 1;
  const int e = b / kSub + kSubBits - 1;
  const uint64_t top = kSub + static_cast<uint64_t>(b % kSub) + 1;
  if (e == 63 && top == 2 * kSub) return std::numeric_limits<uint64_t>::max();
  return top << (e - kSubBits);
}

void Histogram::Add(uint64_t nanos) {
  buckets_[BucketFor(nanos)]++;
  count_++;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
  sum_ += static_cast<double>(nanos);
}

void Histogram::Merge(const Histogram& other) {
  for (int b = 0; b < kNumBuckets; b++) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double Histogram::MinMicros() const {
  return count_ == 0 ? 0.0 : static_cast<double>(min_) / 1000.0;
}

double Histogram::MaxMicros() const {
  return count_ == 0 ? 0.0 : static_cast<double>(max_) / 1000.0;
}

double Histogram::AverageMicros() const {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_) / 1000.0;
}

double Histogram::PercentileMicros(double p) const {
  if (count_ == 0) return 0.0;
  p = std::clamp(p, 0.0, 100.0);
  const double rank = p / 100.0 * static_cast<double>(count_);
  double cumulative = 0;
  for (int b = 0; b < kNumBuckets; b++) {
    if (buckets_[b] == 0) continue;
    const double next = cumulative + static_cast<double>(buckets_[b]);
    if (next >= rank) {
      const double lower = static_cast<double>(BucketLower(b));
      const double upper = static_cast<double>(BucketUpper(b));
      const double fraction =
          (rank - cumulative) / static_cast<double>(buckets_[b]);
      double nanos = lower + (upper - lower) * fraction;
      nanos = std::clamp(nanos, static_cast<double>(min_),
                         static_cast<double>(max_));
      return nanos / 1000.0;
    }
    cumulative = next;
  }
  return static_cast<double>(max_) / 1000.0;
}

std::string Histogram::ToString() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line),
                "Count: %" PRIu64 "  Average: %.3f us  Min: %.3f  Max: %.3f\n",
                count_, AverageMicros(), MinMicros(), MaxMicros());
  out += line;
  if (count_ == 0) return out;
  std::snprintf(line, sizeof(line),
                "Percentiles (us): P50: %.3f  P75: %.3f  P90: %.3f  P99: %.3f"
                "  P99.9: %.3f  P99.99: %.3f\n",
                PercentileMicros(50), PercentileMicros(75),
                PercentileMicros(90), PercentileMicros(99),
                PercentileMicros(99.9), PercentileMicros(99.99));
  out += line;
  out += "------------------------------------------------------\n";
  // One row per power of two of nanoseconds: buckets [0, 32) first, then the
  // kSub buckets of each power.
  double cumulative = 0;
  int b = 0;
  while (b < kNumBuckets) {
    const int end = b < kSub ? kSub : b + kSub;
    uint64_t n = 0;
    for (int i = b; i < end; i++) n += buckets_[i];
    if (n > 0) {
      cumulative += static_cast<double>(n);
      const double pct = 100.0 * static_cast<double>(n) / count_;
      std::snprintf(line, sizeof(line),
                    "[ %10.3f, %10.3f ) us %10" PRIu64 " %7.3f%% %7.3f%% ",
                    static_cast<double>(BucketLower(b)) / 1000.0,
                    static_cast<double>(BucketUpper(end - 1)) / 1000.0, n, pct,
                    100.0 * cumulative / count_);
      out += line;
      out.append(static_cast<size_t>(pct / 5.0 + 0.5), '#');
      out += '\n';
    }
    b = end;
  }
  return out;
}

}  // namespace tessera::ldb_bench
