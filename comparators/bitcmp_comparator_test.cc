#include "comparators/bitcmp_comparator.h"

#include <memory>
#include <string>

#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "gtest/gtest.h"

namespace tessera::comparators {
namespace {

std::string K(uint32_t expire, uint32_t bucket, uint16_t area,
              const std::string& user) {
  return EncodeStoredKey(expire, bucket, area, user);
}

TEST(BitcmpComparatorTest, NameIsStable) {
  EXPECT_STREQ("tessera.BitcmpComparator", BitcmpComparator().Name());
}

TEST(BitcmpComparatorTest, ExpireIsIgnored) {
  BitcmpComparator cmp;
  EXPECT_EQ(0, cmp.Compare(K(0, 1, 2, "key"), K(0xffffffff, 1, 2, "key")));
  EXPECT_LT(cmp.Compare(K(0xffffffff, 1, 2, "a"), K(0, 1, 2, "b")), 0);
  EXPECT_GT(cmp.Compare(K(0, 1, 2, "b"), K(0xffffffff, 1, 2, "a")), 0);
}

TEST(BitcmpComparatorTest, BucketThenAreaThenUserKey) {
  BitcmpComparator cmp;
  EXPECT_LT(cmp.Compare(K(9, 1, 0xffff, "zzz"), K(0, 2, 0, "")), 0);
  EXPECT_LT(cmp.Compare(K(9, 0x0000ff, 0, ""), K(0, 0x000100, 0, "")), 0);
  EXPECT_LT(cmp.Compare(K(9, 5, 1, "zzz"), K(0, 5, 2, "a")), 0);
  EXPECT_LT(cmp.Compare(K(9, 5, 0x00ff, ""), K(0, 5, 0x0100, "")), 0);
  EXPECT_LT(cmp.Compare(K(9, 5, 1, "a"), K(0, 5, 1, std::string("a\0", 2))), 0);
  // Bytewise, not numeric.
  EXPECT_GT(cmp.Compare(K(9, 5, 1, "item:9"), K(0, 5, 1, "item:10")), 0);
}

TEST(BitcmpComparatorTest, ShortKeysNeverCrash) {
  BitcmpComparator cmp;
  EXPECT_EQ(0, cmp.Compare("", ""));
  EXPECT_LT(cmp.Compare("", "a"), 0);
  EXPECT_LT(cmp.Compare("ab", "abc"), 0);
  EXPECT_LT(cmp.Compare("\xff\xff\xff", std::string(4, '\0')),
            0);  // short first
  EXPECT_GT(cmp.Compare(K(0, 0, 0, ""), "zzz"), 0);
  EXPECT_EQ(0, cmp.Compare("abcd", "wxyz"));  // only expire bytes: equal
}

TEST(BitcmpComparatorTest, ShouldDropFollowsRegistry) {
  std::unique_ptr<GcRegistry> registry = GcRegistry::NewVolatile();
  BitcmpComparator cmp(registry.get());
  BitcmpComparator no_registry;
  GcEntry bucket;
  bucket.kind = GcKind::kBucket;
  bucket.bucket = 7;
  bucket.sequence = 100;
  ASSERT_TRUE(registry->Add(bucket).ok());
  GcEntry area;
  area.kind = GcKind::kArea;
  area.bucket = 8;
  area.area = 3;
  area.sequence = 50;
  ASSERT_TRUE(registry->Add(area).ok());

  EXPECT_TRUE(cmp.ShouldDrop(K(0, 7, 0, "k"), 100, 0));
  EXPECT_TRUE(cmp.ShouldDrop(K(5, 7, 9, ""), 1, 0));
  EXPECT_FALSE(cmp.ShouldDrop(K(0, 7, 0, "k"), 101, 0));
  EXPECT_FALSE(no_registry.ShouldDrop(K(0, 7, 0, "k"), 1, 0));
  EXPECT_TRUE(cmp.ShouldDrop(K(0, 8, 3, "k"), 50, 0));
  EXPECT_FALSE(cmp.ShouldDrop(K(0, 8, 3, "k"), 51, 0));
  EXPECT_FALSE(cmp.ShouldDrop(K(0, 8, 4, "k"), 1, 0));
  EXPECT_FALSE(cmp.ShouldDrop(K(0, 6, 0, "k"), 1, 0));
  // Truncated keys: a bucket entry still applies when the bucket is there.
  const std::string full = K(0, 7, 3, "");
  EXPECT_TRUE(cmp.ShouldDrop(ldb::Slice(full.data(), 7), 1, 0));
  EXPECT_TRUE(cmp.ShouldDrop(ldb::Slice(full.data(), 8), 1, 0));
  EXPECT_FALSE(cmp.ShouldDrop(ldb::Slice(full.data(), 6), 1, 0));
  EXPECT_FALSE(cmp.ShouldDrop("", 1, 0));
  const std::string area_key = K(0, 8, 3, "");
  EXPECT_FALSE(cmp.ShouldDrop(ldb::Slice(area_key.data(), 8), 1, 0));
}

TEST(BitcmpComparatorTest, ShouldDropMaybeUsesInjectedNow) {
  BitcmpComparator cmp;
  const uint64_t now = 1'700'000'000;
  EXPECT_FALSE(cmp.ShouldDropMaybe(K(0, 1, 1, "k"), 1, now));  // never
  EXPECT_FALSE(cmp.ShouldDropMaybe(K(now + 1, 1, 1, "k"), 1, now));
  EXPECT_TRUE(cmp.ShouldDropMaybe(K(now, 1, 1, "k"), 1, now));
  EXPECT_TRUE(cmp.ShouldDropMaybe(K(now - 1, 1, 1, "k"), 1, now));
  EXPECT_TRUE(cmp.ShouldDropMaybe(K(1, 1, 1, "k"), 1, now));
  EXPECT_FALSE(cmp.ShouldDropMaybe(K(5, 1, 1, "k"), 1, 4));
  EXPECT_TRUE(cmp.ShouldDropMaybe(K(5, 1, 1, "k"), 1, 5));
  EXPECT_FALSE(cmp.ShouldDropMaybe("abc", 1, now));
  EXPECT_FALSE(cmp.ShouldDropMaybe(K(0xffffffff, 1, 1, ""), 1, now));
}

TEST(BitcmpComparatorTest, ShouldStopBeforeAtBucketChange) {
  BitcmpComparator cmp;
  EXPECT_FALSE(cmp.ShouldStopBefore(K(0, 1, 0, "a"), K(9, 1, 5, "z")));
  EXPECT_TRUE(cmp.ShouldStopBefore(K(0, 1, 0xffff, "z"), K(0, 2, 0, "")));
  EXPECT_FALSE(cmp.ShouldStopBefore("ab", K(0, 2, 0, "")));
  EXPECT_FALSE(cmp.ShouldStopBefore(K(0, 2, 0, ""), "ab"));
}

TEST(BitcmpComparatorTest, ShouldDropRange) {
  std::unique_ptr<GcRegistry> registry = GcRegistry::NewVolatile();
  BitcmpComparator cmp(registry.get());
  GcEntry bucket;
  bucket.kind = GcKind::kBucket;
  bucket.bucket = 7;
  bucket.sequence = 100;
  ASSERT_TRUE(registry->Add(bucket).ok());
  GcEntry area;
  area.kind = GcKind::kArea;
  area.bucket = 8;
  area.area = 3;
  area.sequence = 50;
  ASSERT_TRUE(registry->Add(area).ok());

  EXPECT_TRUE(cmp.ShouldDropRange(K(0, 7, 0, "a"), K(0, 7, 9, "z"), 100));
  EXPECT_FALSE(cmp.ShouldDropRange(K(0, 7, 0, "a"), K(0, 7, 9, "z"), 101));
  EXPECT_FALSE(cmp.ShouldDropRange(K(0, 7, 0, "a"), K(0, 8, 0, ""), 1));
  EXPECT_FALSE(cmp.ShouldDropRange(K(0, 6, 0, "a"), K(0, 7, 0, ""), 1));
  EXPECT_TRUE(cmp.ShouldDropRange(K(0, 8, 3, "a"), K(0, 8, 3, "z"), 50));
  EXPECT_FALSE(cmp.ShouldDropRange(K(0, 8, 3, "a"), K(0, 8, 3, "z"), 51));
  EXPECT_FALSE(cmp.ShouldDropRange(K(0, 8, 3, "a"), K(0, 8, 4, ""), 1));
  EXPECT_FALSE(cmp.ShouldDropRange(K(0, 8, 2, "a"), K(0, 8, 3, "z"), 1));
  EXPECT_FALSE(cmp.ShouldDropRange("a", K(0, 7, 0, ""), 1));
  EXPECT_FALSE(
      BitcmpComparator().ShouldDropRange(K(0, 7, 0, "a"), K(0, 7, 0, "b"), 1));
}

TEST(BitcmpComparatorTest, SeparatorKeepsExpireAndStaysDecodable) {
  BitcmpComparator cmp;
  // Different buckets far apart: shortened to a bucket boundary.
  std::string start = K(0xabcdef01, 1, 2, "some long user key");
  const std::string limit = K(0, 9, 0, "x");
  cmp.FindShortestSeparator(&start, limit);
  EXPECT_EQ(K(0xabcdef01, 2, 0, ""), start);
  // Same bucket/area: shortened inside the user key.
  start = K(7, 1, 2, "apple pie");
  cmp.FindShortestSeparator(&start, K(0, 1, 2, "cherry"));
  EXPECT_EQ(K(7, 1, 2, "b"), start);
  // A prefix of the limit: unchanged.
  start = K(7, 1, 2, "app");
  cmp.FindShortestSeparator(&start, K(0, 1, 2, "apple"));
  EXPECT_EQ(K(7, 1, 2, "app"), start);
  // Equal under the comparator (another expire): unchanged.
  start = K(7, 1, 2, "same");
  cmp.FindShortestSeparator(&start, K(8, 1, 2, "same"));
  EXPECT_EQ(K(7, 1, 2, "same"), start);
  // Short keys: unchanged.
  start = "ab";
  cmp.FindShortestSeparator(&start, "zz");
  EXPECT_EQ("ab", start);
}

TEST(BitcmpComparatorTest, SuccessorKeepsExpireAndStaysDecodable) {
  BitcmpComparator cmp;
  std::string key = K(0x01020304, 5, 6, "user");
  cmp.FindShortSuccessor(&key);
  EXPECT_EQ(K(0x01020304, 0x010000, 0, ""), key);
  key = K(3, kMaxBucket, 0xffff, "\xff\xff");
  cmp.FindShortSuccessor(&key);
  EXPECT_EQ(K(3, kMaxBucket, 0xffff, "\xff\xff"), key);
  key = "ab";
  cmp.FindShortSuccessor(&key);
  EXPECT_EQ("ab", key);
}

}  // namespace
}  // namespace tessera::comparators
