// Random: a small, fast, deterministic pseudo-random generator for tests,
// benchmarks and the skiplist. Thread-compatible.
#ifndef LDB_UTIL_RANDOM_H_
#define LDB_UTIL_RANDOM_H_

#include <cstdint>

namespace ldb {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed ^ 0x9e3779b97f4a7c15ull) {}

  // Uniform over 64 bits (splitmix64).
  uint64_t Next64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t Next() { return static_cast<uint32_t>(Next64() >> 32); }
  // REQUIRES: n > 0. Uniform in [0, n).
  uint32_t Uniform(uint32_t n) { return Next() % n; }
  // True about once in n calls. REQUIRES: n > 0.
  bool OneIn(uint32_t n) { return Uniform(n) == 0; }
  // Picks a base uniformly from [0, max_log], then a value in [0, 2^base).
  uint32_t Skewed(int max_log) { return Uniform(1u << Uniform(max_log + 1)); }

 private:
  uint64_t state_;
};

}  // namespace ldb

#endif  // LDB_UTIL_RANDOM_H_
