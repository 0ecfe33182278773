#include "common/bucket_hash.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera {
namespace {

// Published XXH64 values (seed 0), from the xxHash specification and its bindings.
TEST(XxHash64Test, KnownValues) {
  EXPECT_EQ(XxHash64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(XxHash64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(XxHash64("abc"), 0x44BC2CF5AD770999ULL);
  // 39 bytes: exercises the 32-byte stripes, an 8-byte lane... and the tail bytes.
  EXPECT_EQ(XxHash64("Nobody inspects the spammish repetition"), 0xFBCEA83C8A378BF1ULL);
}

TEST(XxHash64Test, SeedChangesHash) { EXPECT_NE(XxHash64("abc", 0), XxHash64("abc", 1)); }

TEST(XxHash64Test, EveryLengthDiffers) {
  // All tail paths (0..7 bytes, 4-byte lane, 8-byte lanes, stripes) give distinct values.
  std::string s;
  std::vector<uint64_t> seen;
  for (int len = 0; len < 80; ++len) {
    uint64_t h = XxHash64(s);
    for (uint64_t x : seen) ASSERT_NE(x, h) << len;
    seen.push_back(h);
    s.push_back(static_cast<char>('a' + len % 26));
  }
}

TEST(BucketOfTest, StableAndSpread) {
  constexpr uint32_t kBuckets = 1023;
  std::vector<int> counts(kBuckets);
  constexpr int kKeys = 200000;
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "user:" + std::to_string(i);
    uint32_t b = BucketOf(key, kBuckets);
    ASSERT_LT(b, kBuckets);
    ASSERT_EQ(b, BucketOf(key, kBuckets));
    counts[b]++;
  }
  // Expect ~195.5 per bucket; a uniform hash stays well within +-50%.
  for (uint32_t b = 0; b < kBuckets; ++b) {
    EXPECT_GT(counts[b], 100) << b;
    EXPECT_LT(counts[b], 300) << b;
  }
}

}  // namespace
}  // namespace tessera
