#include "comparators/numeric_comparator.h"

#include <algorithm>
#include <string>
#include <vector>

#include "comparators/key_codec.h"
#include "gtest/gtest.h"

namespace tessera::comparators {
namespace {

std::string K(const std::string& user, uint32_t expire = 0, uint32_t bucket = 1,
              uint16_t area = 2) {
  return EncodeStoredKey(expire, bucket, area, user);
}

// Asserts that `keys` is strictly increasing under cmp, pairwise.
void ExpectStrictlyIncreasing(const NumericComparator& cmp,
                              const std::vector<std::string>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(0, cmp.Compare(K(keys[i]), K(keys[i], 12345)));
    for (size_t j = i + 1; j < keys.size(); ++j) {
      EXPECT_LT(cmp.Compare(K(keys[i]), K(keys[j])), 0)
          << keys[i] << " vs " << keys[j];
      EXPECT_GT(cmp.Compare(K(keys[j]), K(keys[i])), 0)
          << keys[j] << " vs " << keys[i];
    }
  }
}

TEST(NumericComparatorTest, NameCarriesDelimiter) {
  EXPECT_STREQ("tessera.NumericComparator(0x3a)", NumericComparator().Name());
  EXPECT_STREQ("tessera.NumericComparator(0x2f)",
               NumericComparator('/').Name());
  EXPECT_STRNE(NumericComparator(':').Name(), NumericComparator('/').Name());
}

TEST(NumericComparatorTest, NumbersCompareByValue) {
  NumericComparator cmp;
  ExpectStrictlyIncreasing(
      cmp, {"item:", "item:0", "item:1", "item:2", "item:9", "item:10",
            "item:11", "item:99", "item:100", "item:101", "item:1000"});
}

TEST(NumericComparatorTest, RestAfterNumberIsBytewise) {
  NumericComparator cmp;
  ExpectStrictlyIncreasing(cmp, {"item:9", "item:9:a", "item:9:b", "item:9x",
                                 "item:10", "item:10:a"});
}

TEST(NumericComparatorTest, LeadingZerosCompareByValueThenLength) {
  NumericComparator cmp;
  ExpectStrictlyIncreasing(cmp, {"n:0", "n:00", "n:000", "n:7", "n:07", "n:007",
                                 "n:8", "n:10x", "n:010", "n:0010"});
  // 07 and 7 are different keys, however they compare.
  EXPECT_NE(0, cmp.Compare(K("n:07"), K("n:7")));
}

TEST(NumericComparatorTest, LongDigitRunsDoNotOverflow) {
  NumericComparator cmp;
  const std::string big(60, '9');
  const std::string bigger = "1" + std::string(60, '0');
  const std::string padded = std::string(100, '0') + big;
  ExpectStrictlyIncreasing(cmp, {"k:" + std::string("18446744073709551615"),
                                 "k:" + std::string("18446744073709551616"),
                                 "k:" + big, "k:" + padded, "k:" + bigger});
}

TEST(NumericComparatorTest, PrefixComparesFirst) {
  NumericComparator cmp;
  ExpectStrictlyIncreasing(cmp, {"a:99x", "a:100", "b:1", "b:2"});
  // Only the first delimiter splits.
  ExpectStrictlyIncreasing(cmp, {"a:1:10", "a:1:9", "a:2:1"});
}

TEST(NumericComparatorTest, KeysWithoutDelimiterOrDigitsAreBytewise) {
  NumericComparator cmp;
  const std::vector<std::string> plain = {"",      "10",  "9",   "a", "item10",
                                          "item9", "x:a", "x:b", "zz"};
  ExpectStrictlyIncreasing(cmp, plain);
  for (const std::string& a : plain) {
    for (const std::string& b : plain) {
      const int expected = ldb::Slice(a).compare(ldb::Slice(b));
      const int got = cmp.CompareUserKeys(a, b);
      EXPECT_EQ(expected < 0, got < 0) << a << " vs " << b;
      EXPECT_EQ(expected == 0, got == 0) << a << " vs " << b;
    }
  }
}

TEST(NumericComparatorTest, CustomDelimiter) {
  NumericComparator slash('/');
  EXPECT_LT(slash.Compare(K("dir/9"), K("dir/10")), 0);
  EXPECT_GT(slash.Compare(K("dir:9"), K("dir:10")), 0);  // ':' is plain here
}

TEST(NumericComparatorTest, BucketAndAreaComeFirst) {
  NumericComparator cmp;
  EXPECT_LT(cmp.Compare(K("item:100", 9, 1, 2), K("item:9", 0, 1, 3)), 0);
  EXPECT_LT(cmp.Compare(K("item:100", 9, 1, 0xffff), K("", 0, 2, 0)), 0);
  EXPECT_LT(cmp.Compare(K("z", 9, 0x0000ff, 0), K("", 0, 0x000100, 0)), 0);
  // The empty user key is the smallest of its bucket|area.
  EXPECT_LT(cmp.Compare(K("", 9), K(std::string(1, '\0'))), 0);
  EXPECT_LT(cmp.Compare(K(""), K(":")), 0);
}

TEST(NumericComparatorTest, TruncatedAndShortKeys) {
  NumericComparator cmp;
  const std::string full = K("item:5");
  for (size_t n = 0; n <= full.size(); ++n) {
    for (size_t m = 0; m <= full.size(); ++m) {
      const ldb::Slice a(full.data(), n);
      const ldb::Slice b(full.data(), m);
      const int r = cmp.Compare(a, b);
      if (n == m) {
        EXPECT_EQ(0, r);
      } else {
        // A prefix sorts first.
        EXPECT_EQ(n < m, r < 0) << n << " vs " << m;
      }
    }
  }
}

TEST(NumericComparatorTest, SeparatorAndSuccessorKeepOrder) {
  NumericComparator cmp;
  // Numerically adjacent: shortening bytewise would break the order, so the
  // key is left alone.
  std::string start = K("item:100", 77);
  cmp.FindShortestSeparator(&start, K("item:205"));
  EXPECT_LE(cmp.Compare(K("item:100"), start), 0);
  EXPECT_LT(cmp.Compare(start, K("item:205")), 0);
  EXPECT_EQ(K("item:100", 77), start);
  // Different buckets: shortened to a bucket boundary, expire kept.
  start = K("item:100", 77, 1, 2);
  cmp.FindShortestSeparator(&start, K("a", 0, 5, 0));
  EXPECT_EQ(K("", 77, 2, 0), start);
  // Different prefixes: shortened inside the user key when that is safe.
  start = K("apple:100");
  cmp.FindShortestSeparator(&start, K("cherry:1"));
  EXPECT_EQ(K("b"), start);

  std::string key = K("item:100", 5, 3, 4);
  cmp.FindShortSuccessor(&key);
  EXPECT_EQ(K("", 5, 0x010000, 0), key);
  key = K("item:100", 5, kMaxBucket, 0xffff);
  cmp.FindShortSuccessor(&key);
  EXPECT_LE(cmp.Compare(K("item:100", 5, kMaxBucket, 0xffff), key), 0);
}

}  // namespace
}  // namespace tessera::comparators
