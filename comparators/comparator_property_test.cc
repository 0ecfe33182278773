// Randomized checks that both comparators are total orders consistent with
// sorting, and that their key shortening keeps the ldb::Comparator contract.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "comparators/bitcmp_comparator.h"
#include "comparators/key_codec.h"
#include "comparators/numeric_comparator.h"
#include "gtest/gtest.h"
#include "util/random.h"

namespace tessera::comparators {
namespace {

constexpr uint64_t kSeed = 20240601;
constexpr int kNumKeys = 10000;

// Keys that collide a lot: few buckets/areas, a small alphabet rich in
// delimiters and digits, random expires, and a few truncated keys.
std::string RandomKey(ldb::Random* rnd) {
  static const char kAlphabet[] = {'a', 'b', ':', ':',  '/',    '0', '0',
                                   '1', '5', '9', '\0', '\xff', 'z'};
  const uint32_t buckets[] = {0, 1, 0xff, 0x100, 0xffff, kMaxBucket};
  const uint16_t areas[] = {0, 1, 0xff, 0x100, 0xffff};
  const uint32_t expire = rnd->OneIn(2) ? 0 : rnd->Next();
  std::string user;
  const int len = static_cast<int>(rnd->Uniform(12));
  for (int i = 0; i < len; ++i) {
    user.push_back(kAlphabet[rnd->Uniform(sizeof(kAlphabet))]);
  }
  std::string key = EncodeStoredKey(expire, buckets[rnd->Uniform(6)],
                                    areas[rnd->Uniform(5)], user);
  if (rnd->OneIn(50)) key.resize(rnd->Uniform(kKeyHeaderSize));
  return key;
}

// Same key for the comparators: equal after the expire bytes (or equal whole
// when shorter than the expire prefix).
bool SameLogicalKey(const std::string& a, const std::string& b) {
  if (a.size() < kExpireSize || b.size() < kExpireSize) return a == b;
  return StripExpire(a) == StripExpire(b);
}

int Sign(int x) { return (x > 0) - (x < 0); }

class ComparatorPropertyTest
    : public testing::TestWithParam<const ldb::Comparator*> {};

TEST_P(ComparatorPropertyTest, StrictWeakOrderConsistentWithSorting) {
  const ldb::Comparator* cmp = GetParam();
  std::fprintf(stderr, "seed %llu\n", static_cast<unsigned long long>(kSeed));
  ldb::Random rnd(kSeed);
  std::vector<std::string> keys;
  for (int i = 0; i < kNumKeys; ++i) keys.push_back(RandomKey(&rnd));

  // Antisymmetry, reflexivity, and equality = same logical key.
  for (int i = 0; i < 50000; ++i) {
    const std::string& a = keys[rnd.Uniform(kNumKeys)];
    const std::string& b = keys[rnd.Uniform(kNumKeys)];
    ASSERT_EQ(0, cmp->Compare(a, a));
    const int ab = Sign(cmp->Compare(a, b));
    ASSERT_EQ(ab, -Sign(cmp->Compare(b, a)));
    ASSERT_EQ(ab == 0, SameLogicalKey(a, b));
  }
  // Transitivity on random triples.
  for (int i = 0; i < 50000; ++i) {
    const std::string& a = keys[rnd.Uniform(kNumKeys)];
    const std::string& b = keys[rnd.Uniform(kNumKeys)];
    const std::string& c = keys[rnd.Uniform(kNumKeys)];
    if (cmp->Compare(a, b) <= 0 && cmp->Compare(b, c) <= 0) {
      ASSERT_LE(cmp->Compare(a, c), 0);
    }
  }
  // After sorting, every pair (not just neighbours) is in order.
  std::sort(keys.begin(), keys.end(),
            [cmp](const std::string& a, const std::string& b) {
              return cmp->Compare(a, b) < 0;
            });
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    ASSERT_LE(cmp->Compare(keys[i], keys[i + 1]), 0) << i;
  }
  for (int i = 0; i < 50000; ++i) {
    size_t x = rnd.Uniform(kNumKeys);
    size_t y = rnd.Uniform(kNumKeys);
    if (x > y) std::swap(x, y);
    ASSERT_LE(cmp->Compare(keys[x], keys[y]), 0) << x << " " << y;
  }
}

void CheckSeparator(const ldb::Comparator* cmp, const std::string& start,
                    const std::string& limit, int* shortened) {
  std::string s = start;
  cmp->FindShortestSeparator(&s, limit);
  ASSERT_LE(cmp->Compare(start, s), 0);
  ASSERT_LT(cmp->Compare(s, limit), 0);
  if (start.size() >= kExpireSize) {
    ASSERT_EQ(start.substr(0, kExpireSize), s.substr(0, kExpireSize));
  }
  if (start.size() >= kKeyHeaderSize) {
    KeyParts parts;
    ASSERT_TRUE(DecodeStoredKey(s, &parts));
  }
  if (s.size() < start.size()) ++*shortened;
}

TEST_P(ComparatorPropertyTest, SeparatorAndSuccessorKeepContract) {
  const ldb::Comparator* cmp = GetParam();
  ldb::Random rnd(kSeed + 1);
  std::vector<std::string> keys;
  for (int i = 0; i < kNumKeys; ++i) keys.push_back(RandomKey(&rnd));
  std::sort(keys.begin(), keys.end(),
            [cmp](const std::string& a, const std::string& b) {
              return cmp->Compare(a, b) < 0;
            });
  int shortened = 0;
  // Neighbours (close keys) and random ordered pairs.
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    if (cmp->Compare(keys[i], keys[i + 1]) < 0) {
      CheckSeparator(cmp, keys[i], keys[i + 1], &shortened);
    }
  }
  for (int i = 0; i < 20000; ++i) {
    const std::string& a = keys[rnd.Uniform(kNumKeys)];
    const std::string& b = keys[rnd.Uniform(kNumKeys)];
    if (cmp->Compare(a, b) < 0) CheckSeparator(cmp, a, b, &shortened);
  }
  EXPECT_GT(shortened, 0) << "never shortened anything";

  for (const std::string& key : keys) {
    std::string s = key;
    cmp->FindShortSuccessor(&s);
    ASSERT_LE(cmp->Compare(key, s), 0);
    if (key.size() >= kKeyHeaderSize) {
      KeyParts parts;
      ASSERT_TRUE(DecodeStoredKey(s, &parts));
      ASSERT_EQ(key.substr(0, kExpireSize), s.substr(0, kExpireSize));
    }
  }
}

const BitcmpComparator kBitcmp;
const NumericComparator kNumeric(':');

INSTANTIATE_TEST_SUITE_P(
    Both, ComparatorPropertyTest, testing::Values(&kBitcmp, &kNumeric),
    [](const testing::TestParamInfo<const ldb::Comparator*>& info) {
      return info.param == &kBitcmp ? std::string("Bitcmp")
                                    : std::string("Numeric");
    });

}  // namespace
}  // namespace tessera::comparators
