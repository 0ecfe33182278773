#include "util/hash.h"

#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

uint32_t H(const std::string& s, uint32_t seed) {
  return Hash(s.data(), s.size(), seed);
}

// Published MurmurHash3_x86_32 test vectors: our function has that shape, and
// matching them shows it is exactly that function.
TEST(HashTest, MatchesMurmur3Vectors) {
  EXPECT_EQ(0x00000000u, Hash("", 0, 0));
  EXPECT_EQ(0x514e28b7u, Hash("", 0, 1));
  EXPECT_EQ(0x81f16f39u, Hash("", 0, 0xffffffffu));
  EXPECT_EQ(0xba6bd213u, H("test", 0));
  EXPECT_EQ(0xfaf6cdb3u, H("Hello, world!", 1234));
  EXPECT_EQ(0x2e4ff723u, H("The quick brown fox jumps over the lazy dog", 0));
}

// Hash values are persisted in bloom filters. These values were computed
// once from this implementation; if this test fails, the function changed
// and every existing filter became wrong. Do not "fix" the expectations.
TEST(HashTest, PinnedValues) {
  const uint8_t data1[1] = {0x62};
  const uint8_t data2[2] = {0xc3, 0x97};
  const uint8_t data3[3] = {0xe2, 0x99, 0xa5};
  const uint8_t data4[4] = {0xe1, 0x80, 0xb9, 0x32};
  const uint8_t data5[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  auto h = [](const uint8_t* d, size_t n, uint32_t seed) {
    return Hash(reinterpret_cast<const char*>(d), n, seed);
  };
  constexpr uint32_t kSeed = 0xbc9f1d34u;
  EXPECT_EQ(0x3f177186u, Hash(nullptr, 0, kSeed));
  EXPECT_EQ(0xcf97146cu, h(data1, sizeof(data1), kSeed));
  EXPECT_EQ(0x757885a4u, h(data2, sizeof(data2), kSeed));
  EXPECT_EQ(0xaccd4583u, h(data3, sizeof(data3), kSeed));
  EXPECT_EQ(0x24649460u, h(data4, sizeof(data4), kSeed));
  EXPECT_EQ(0x6e9ef236u, h(data5, sizeof(data5), kSeed));
  EXPECT_EQ(0x016e60a5u, h(data5, 47, 0x5bd1e995u));  // The bloom filter seed.
}

TEST(HashTest, SeedChangesValue) { EXPECT_NE(H("key", 0), H("key", 1)); }

TEST(HashTest, HighBitsSpread) {
  // The cache picks its shard from the top 4 bits: sequential keys must
  // reach every shard.
  std::set<uint32_t> shards;
  for (int i = 0; i < 1000; ++i) shards.insert(H(std::to_string(i), 0) >> 28);
  EXPECT_EQ(16u, shards.size());
}

TEST(HashTest, FewCollisions) {
  Random rnd(42);
  std::set<uint32_t> seen;
  std::set<std::string> keys;
  for (int i = 0; i < 20000; ++i) {
    std::string k;
    const int len = 1 + rnd.Uniform(16);
    for (int j = 0; j < len; ++j) k.push_back(static_cast<char>(rnd.Next()));
    if (keys.insert(k).second) seen.insert(H(k, 0));
  }
  // 20000 random 32-bit values collide with probability ~5 %; allow a few.
  EXPECT_GE(seen.size() + 3, keys.size());
}

}  // namespace
}  // namespace ldb
