// Histogram with exponential buckets. See histogram.h.
#include "util/histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ldb {

namespace {

// Upper bounds (exclusive) of the buckets: every integer up to 10, then
// values growing by ~20 % rounded to two significant digits, up to 1e13;
// the last bucket is unbounded.
std::vector<double> MakeLimits() {
  std::vector<double> limits;
  for (int i = 1; i <= 10; ++i) limits.push_back(i);
  double v = 10;
  while (v < 1e13) {
    double next = v * 1.2;
    const double scale = std::pow(10.0, std::floor(std::log10(next)) - 1);
    next = std::round(next / scale) * scale;
    if (next <= v) next = v + scale;
    limits.push_back(next);
    v = next;
  }
  limits.push_back(std::numeric_limits<double>::infinity());
  return limits;
}

const std::vector<double>& Limits() {
  static const std::vector<double>* const kLimits =
      new std::vector<double>(MakeLimits());
  return *kLimits;
}

size_t BucketFor(double value) {
  const std::vector<double>& limits = Limits();
  // First limit strictly above value.
  const auto it = std::upper_bound(limits.begin(), limits.end(), value);
  return it == limits.end() ? limits.size() - 1
                            : static_cast<size_t>(it - limits.begin());
}

}  // namespace

Histogram::Histogram() { Clear(); }

void Histogram::Clear() {
  min_ = std::numeric_limits<double>::infinity();
  max_ = 0;
  count_ = 0;
  sum_ = 0;
  sum_squares_ = 0;
  buckets_.assign(Limits().size(), 0);
}

void Histogram::Add(double value) {
  if (!(value > 0)) value = 0;  // Also maps NaN to 0.
  buckets_[BucketFor(value)]++;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  count_++;
  sum_ += value;
  sum_squares_ += value * value;
}

void Histogram::Merge(const Histogram& other) {
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
}

double Histogram::Percentile(double p) const {
  assert(p >= 0 && p <= 100);
  if (count_ == 0) return 0;
  const std::vector<double>& limits = Limits();
  const double threshold = static_cast<double>(count_) * (p / 100.0);
  double cumulative = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (buckets_[b] == 0) continue;
    const double in_bucket = static_cast<double>(buckets_[b]);
    if (cumulative + in_bucket >= threshold) {
      // Interpolate inside [left, right), the part of the bucket that holds
      // recorded values.
      const double left = std::max(b == 0 ? 0.0 : limits[b - 1], min_);
      const double right = std::min(limits[b], max_);
      const double pos = (threshold - cumulative) / in_bucket;
      const double r = left + (right - left) * pos;
      return std::clamp(r, min_, max_);
    }
    cumulative += in_bucket;
  }
  return max_;
}

double Histogram::Average() const {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

double Histogram::StandardDeviation() const {
  if (count_ == 0) return 0;
  const double n = static_cast<double>(count_);
  const double variance = (sum_squares_ * n - sum_ * sum_) / (n * n);
  return variance <= 0 ? 0.0 : std::sqrt(variance);
}

std::string Histogram::ToString() const {
  std::string r;
  char buf[200];
  std::snprintf(buf, sizeof(buf), "Count: %llu  Average: %.4f  StdDev: %.2f\n",
                static_cast<unsigned long long>(count_), Average(),
                StandardDeviation());
  r.append(buf);
  std::snprintf(buf, sizeof(buf), "Min: %.4f  Median: %.4f  Max: %.4f\n", Min(),
                Median(), Max());
  r.append(buf);
  std::snprintf(buf, sizeof(buf), "P90: %.4f  P99: %.4f  P99.9: %.4f\n",
                Percentile(90), Percentile(99), Percentile(99.9));
  r.append(buf);
  r.append("------------------------------------------------------\n");
  if (count_ == 0) return r;
  const std::vector<double>& limits = Limits();
  const double n = static_cast<double>(count_);
  uint64_t cumulative = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (buckets_[b] == 0) continue;
    cumulative += buckets_[b];
    const double left = b == 0 ? 0.0 : limits[b - 1];
    const double pct = 100.0 * static_cast<double>(buckets_[b]) / n;
    std::snprintf(buf, sizeof(buf), "[ %10.0f, %10.0f ) %8llu %7.3f%% %7.3f%% ",
                  left, limits[b], static_cast<unsigned long long>(buckets_[b]),
                  pct, 100.0 * static_cast<double>(cumulative) / n);
    r.append(buf);
    // One '#' per 5 %, rounded.
    r.append(static_cast<size_t>(pct / 5.0 + 0.5), '#');
    r.push_back('\n');
  }
  return r;
}

}  // namespace ldb
