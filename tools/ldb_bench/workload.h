// The pieces a benchmark workload is made of: a random generator, the key
// format, compressible values and the set of keys written so far.
#ifndef TESSERA_TOOLS_LDB_BENCH_WORKLOAD_H_
#define TESSERA_TOOLS_LDB_BENCH_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tessera::ldb_bench {

// A fast deterministic generator (splitmix64). Thread-compatible.
class Random64 {
 public:
  explicit Random64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (multiply-shift; the bias is below 2^-32 for any n
  // used here). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >>
                                 64);
  }

 private:
  uint64_t state_;
};

// Keys are the key index in zero-padded decimal, key_size bytes long; a
// "missing" key replaces the last digit with '.', so it sorts among the real
// keys but equals none of them. Thread-compatible (const methods safe).
class KeyFormat {
 public:
  // REQUIRES: key_size >= 1.
  explicit KeyFormat(size_t key_size) : key_size_(key_size) {}

  size_t key_size() const { return key_size_; }
  // Writes the key of `index` into *key (resized to key_size).
  void Existing(uint64_t index, std::string* key) const;
  void Missing(uint64_t index, std::string* key) const;

 private:
  size_t key_size_;
};

// A buffer of value bytes built so that each value compresses to about
// `compression_ratio` of its size: every 100-byte piece is
// ratio * 100 random printable bytes repeated. Values are windows into it.
// Immutable after construction, so thread-safe.
class ValueData {
 public:
  ValueData(size_t value_size, double compression_ratio, uint64_t seed);
  // The i-th value: successive i give successive disjoint windows, wrapping
  // around at the end of the buffer (at least 1 MiB).
  std::string_view Get(uint64_t i) const;

 private:
  size_t value_size_;
  std::string data_;
  uint64_t windows_;
};

// The set of key indices known to be in the DB, for readrandom. Set and Clear
// are thread-safe (atomic words); reads race benignly with writers and are
// used between benchmarks.
class KeySet {
 public:
  explicit KeySet(uint64_t num);

  void Set(uint64_t index);
  void Clear(uint64_t index);
  bool Contains(uint64_t index) const;
  void ClearAll();
  uint64_t CountSet() const;
  // A key index drawn uniformly from the set (rejection sampling, then the
  // next member after a random start). REQUIRES: the set is not empty.
  uint64_t Sample(Random64* rng) const;

 private:
  uint64_t num_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  uint64_t num_words_;
};

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_WORKLOAD_H_
