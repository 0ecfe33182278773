#include "ldb/comparator.h"

#include <string>

#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

std::string Separator(const std::string& start, const std::string& limit) {
  std::string s = start;
  BytewiseComparator()->FindShortestSeparator(&s, limit);
  return s;
}

std::string Successor(const std::string& key) {
  std::string s = key;
  BytewiseComparator()->FindShortSuccessor(&s);
  return s;
}

TEST(BytewiseComparatorTest, NameAndOrder) {
  const Comparator* c = BytewiseComparator();
  EXPECT_STREQ("ldb.BytewiseComparator", c->Name());
  EXPECT_EQ(c, BytewiseComparator());
  EXPECT_LT(c->Compare("a", "b"), 0);
  EXPECT_GT(c->Compare("b", "a"), 0);
  EXPECT_EQ(c->Compare("abc", "abc"), 0);
  EXPECT_LT(c->Compare("ab", "abc"), 0);
  EXPECT_LT(c->Compare("", "a"), 0);
  // Unsigned bytes: 0xff sorts after 'a'.
  EXPECT_LT(c->Compare("a", "\xff"), 0);
  EXPECT_LT(c->Compare(Slice("\0", 1), Slice("\x01", 1)), 0);
}

TEST(BytewiseComparatorTest, TairHooksDefaultToNo) {
  const Comparator* c = BytewiseComparator();
  EXPECT_FALSE(c->ShouldDrop("k", 1, 100));
  EXPECT_FALSE(c->ShouldDropMaybe("k", 1, 100));
  EXPECT_FALSE(c->ShouldStopBefore("a", "z"));
  EXPECT_FALSE(c->ShouldDropRange("a", "z", 100));
}

TEST(BytewiseComparatorTest, ShortestSeparator) {
  EXPECT_EQ("abd", Separator("abcdef", "abzzz"));
  EXPECT_EQ("b", Separator("a123", "c"));
  // Adjacent differing bytes: keep start[d], bump a later byte.
  EXPECT_EQ("abc2", Separator("abc1xyz", "abd"));
  EXPECT_EQ("abc\xff\x01", Separator(std::string("abc\xff\x00zz", 7), "abd"));
  // One a prefix of the other: unchanged.
  EXPECT_EQ("abc", Separator("abc", "abcdef"));
  EXPECT_EQ("abcdef", Separator("abcdef", "abc"));
  // Nothing shorter exists.
  EXPECT_EQ("abc\xff\xff", Separator("abc\xff\xff", "abd"));
  EXPECT_EQ("a", Separator("a", "b"));
  EXPECT_EQ("", Separator("", "b"));
  // start == limit: unchanged.
  EXPECT_EQ("abc", Separator("abc", "abc"));
}

TEST(BytewiseComparatorTest, ShortSuccessor) {
  EXPECT_EQ("b", Successor("abcd"));
  EXPECT_EQ("\x01", Successor(std::string("\0\xff", 2)));
  EXPECT_EQ("\xff\xff\x01", Successor(std::string("\xff\xff\x00\x05", 4)));
  EXPECT_EQ("\xff\xff", Successor("\xff\xff"));
  EXPECT_EQ("", Successor(""));
}

TEST(BytewiseComparatorTest, RandomSeparatorsAreValid) {
  const Comparator* c = BytewiseComparator();
  Random rnd(31);
  const char alphabet[] = {'\0', '\x01', 'a', 'b', '\xfe', '\xff'};
  auto random_key = [&] {
    std::string k;
    const int len = rnd.Uniform(8);
    for (int i = 0; i < len; ++i) k.push_back(alphabet[rnd.Uniform(6)]);
    return k;
  };
  for (int i = 0; i < 100000; ++i) {
    std::string a = random_key();
    std::string b = random_key();
    if (c->Compare(a, b) > 0) std::swap(a, b);
    const std::string sep = Separator(a, b);
    ASSERT_LE(c->Compare(a, sep), 0);
    ASSERT_LE(sep.size(), a.size());
    if (c->Compare(a, b) < 0) {
      ASSERT_LT(c->Compare(sep, b), 0) << i;
    }
    const std::string succ = Successor(a);
    ASSERT_LE(c->Compare(a, succ), 0);
    ASSERT_LE(succ.size(), a.size());
  }
}

}  // namespace
}  // namespace ldb
