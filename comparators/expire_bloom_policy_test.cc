#include "comparators/expire_bloom_policy.h"

#include <string>
#include <vector>

#include "comparators/key_codec.h"
#include "gtest/gtest.h"

namespace tessera::comparators {
namespace {

TEST(ExpireBloomPolicyTest, NameDiffersFromPlainBloom) {
  auto policy = NewExpireBloomFilterPolicy(10);
  auto plain = ldb::NewBloomFilterPolicy(10);
  EXPECT_STRNE(plain->Name(), policy->Name());
}

TEST(ExpireBloomPolicyTest, MatchesSameKeyWithAnyExpire) {
  auto policy = NewExpireBloomFilterPolicy(10);
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back(
        EncodeStoredKey(1000 + i, i % 50, i % 3, "user" + std::to_string(i)));
  }
  std::vector<ldb::Slice> slices(keys.begin(), keys.end());
  std::string filter;
  policy->CreateFilter(slices.data(), static_cast<int>(slices.size()), &filter);

  for (int i = 0; i < 1000; ++i) {
    for (uint32_t expire : {0u, 1u, 0xffffffffu, 1000u + i}) {
      EXPECT_TRUE(policy->KeyMayMatch(
          EncodeStoredKey(expire, i % 50, i % 3, "user" + std::to_string(i)),
          filter))
          << i << " " << expire;
    }
  }
  int false_positives = 0;
  for (int i = 0; i < 10000; ++i) {
    if (policy->KeyMayMatch(
            EncodeStoredKey(7, i % 50, i % 3, "other" + std::to_string(i)),
            filter)) {
      ++false_positives;
    }
  }
  EXPECT_LT(false_positives, 500);  // ~1% expected at 10 bits per key
}

TEST(ExpireBloomPolicyTest, ShortKeysAreHashedWhole) {
  auto policy = NewExpireBloomFilterPolicy(10);
  const ldb::Slice keys[] = {"", "a", "abc"};
  std::string filter;
  policy->CreateFilter(keys, 3, &filter);
  for (const ldb::Slice& k : keys) EXPECT_TRUE(policy->KeyMayMatch(k, filter));
}

}  // namespace
}  // namespace tessera::comparators
