// Bloom filter policy.
//
// Filter layout (persisted in tables): a bit array of
// bytes = ceil(max(n * bits_per_key, 128) / 8) bytes, then one byte holding
// k, the number of probes. Bit i is bit (i % 8) of byte i / 8. Probe
// positions come from double hashing of one 32-bit Hash (seed kBloomSeed):
// h, h + delta, h + 2 * delta, ... (mod 2^32) modulo bytes * 8, with
// delta = (h rotated right by 17) | 1. Values of k outside [1, 30] are
// reserved for other encodings and always match.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ldb/filter_policy.h"
#include "util/hash.h"

namespace ldb {

FilterPolicy::~FilterPolicy() = default;

namespace {

constexpr uint32_t kBloomSeed = 0x5bd1e995u;
constexpr int kMaxProbes = 30;
// Small filters get at least this many bits: with fewer, a handful of keys
// fills the array unevenly and the false-positive rate swings past 2 %.
constexpr size_t kMinBits = 128;
constexpr double kLn2 = 0.69314718055994530942;

uint32_t BloomHash(const Slice& key) {
  return Hash(key.data(), key.size(), kBloomSeed);
}

// Step between probes. Odd, so that on a power-of-two bit count (such as
// the 128-bit minimum filter) the k probes hit k distinct bits.
uint32_t ProbeDelta(uint32_t h) { return ((h >> 17) | (h << 15)) | 1u; }

// Thread-safe: immutable after construction.
class BloomFilterPolicy final : public FilterPolicy {
 public:
  explicit BloomFilterPolicy(int bits_per_key)
      : bits_per_key_(std::max(bits_per_key, 1)),
        k_(std::clamp(static_cast<int>(std::lround(bits_per_key_ * kLn2)), 1,
                      kMaxProbes)) {}

  const char* Name() const override { return "ldb.BuiltinBloomFilter"; }

  void CreateFilter(const Slice* keys, int n, std::string* dst) const override {
    const size_t num_keys = n > 0 ? static_cast<size_t>(n) : 0;
    size_t bits =
        std::max(num_keys * static_cast<size_t>(bits_per_key_), kMinBits);
    const size_t bytes = (bits + 7) / 8;
    bits = bytes * 8;

    const size_t start = dst->size();
    dst->resize(start + bytes, '\0');
    dst->push_back(static_cast<char>(k_));
    char* array = dst->data() + start;
    for (size_t i = 0; i < num_keys; ++i) {
      uint32_t h = BloomHash(keys[i]);
      const uint32_t delta = ProbeDelta(h);
      for (int j = 0; j < k_; ++j) {
        const size_t pos = h % bits;
        array[pos / 8] |= static_cast<char>(1u << (pos % 8));
        h += delta;
      }
    }
  }

  bool KeyMayMatch(const Slice& key, const Slice& filter) const override {
    const size_t len = filter.size();
    if (len == 0) return false;  // Empty filter: summarizes no key.
    if (len < 2) return true;    // Damaged: cannot rule anything out.
    const int k = static_cast<uint8_t>(filter[len - 1]);
    if (k < 1 || k > kMaxProbes) return true;  // Unknown encoding.
    const size_t bits = (len - 1) * 8;
    const char* array = filter.data();
    uint32_t h = BloomHash(key);
    const uint32_t delta = ProbeDelta(h);
    for (int j = 0; j < k; ++j) {
      const size_t pos = h % bits;
      if ((array[pos / 8] & (1u << (pos % 8))) == 0) return false;
      h += delta;
    }
    return true;
  }

 private:
  const int bits_per_key_;
  const int k_;
};

}  // namespace

std::unique_ptr<const FilterPolicy> NewBloomFilterPolicy(int bits_per_key) {
  return std::make_unique<BloomFilterPolicy>(bits_per_key);
}

}  // namespace ldb
