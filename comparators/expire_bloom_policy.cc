// Bloom filter over keys stripped of their expire prefix.
#include "comparators/expire_bloom_policy.h"

#include <string>
#include <vector>

#include "comparators/key_codec.h"

namespace tessera::comparators {

namespace {

// Thread-safe: the wrapped policy is.
class ExpireBloomFilterPolicy final : public ldb::FilterPolicy {
 public:
  explicit ExpireBloomFilterPolicy(int bits_per_key)
      : bloom_(ldb::NewBloomFilterPolicy(bits_per_key)),
        name_(std::string("tessera.ExpireBloomFilter:") + bloom_->Name()) {}

  const char* Name() const override { return name_.c_str(); }

  void CreateFilter(const ldb::Slice* keys, int n,
                    std::string* dst) const override {
    std::vector<ldb::Slice> stripped;
    stripped.reserve(n > 0 ? static_cast<size_t>(n) : 0);
    for (int i = 0; i < n; ++i) stripped.push_back(StripExpire(keys[i]));
    bloom_->CreateFilter(stripped.data(), n, dst);
  }

  bool KeyMayMatch(const ldb::Slice& key,
                   const ldb::Slice& filter) const override {
    return bloom_->KeyMayMatch(StripExpire(key), filter);
  }

 private:
  const std::unique_ptr<const ldb::FilterPolicy> bloom_;
  const std::string name_;
};

}  // namespace

std::unique_ptr<const ldb::FilterPolicy> NewExpireBloomFilterPolicy(
    int bits_per_key) {
  return std::make_unique<ExpireBloomFilterPolicy>(bits_per_key);
}

}  // namespace tessera::comparators
