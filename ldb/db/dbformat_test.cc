#include "db/dbformat.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "util/coding.h"
#include "util/random.h"

namespace ldb {
namespace {

std::string IKey(const std::string& user_key, uint64_t seq, ValueType vt) {
  std::string encoded;
  AppendInternalKey(&encoded, ParsedInternalKey(user_key, seq, vt));
  return encoded;
}

std::string Shorten(const std::string& s, const std::string& l) {
  std::string result = s;
  InternalKeyComparator(BytewiseComparator()).FindShortestSeparator(&result, l);
  return result;
}

std::string ShortSuccessor(const std::string& s) {
  std::string result = s;
  InternalKeyComparator(BytewiseComparator()).FindShortSuccessor(&result);
  return result;
}

void CheckRoundTrip(const std::string& key, uint64_t seq, ValueType vt) {
  const std::string encoded = IKey(key, seq, vt);
  EXPECT_EQ(key.size() + 8, encoded.size());
  ParsedInternalKey decoded("bogus", 0, kTypeValue);
  ASSERT_TRUE(ParseInternalKey(encoded, &decoded));
  EXPECT_EQ(key, decoded.user_key.ToString());
  EXPECT_EQ(seq, decoded.sequence);
  EXPECT_EQ(vt, decoded.type);
  EXPECT_EQ(key, ExtractUserKey(encoded).ToString());
}

TEST(DBFormatTest, InternalKeyRoundTrip) {
  const std::vector<std::string> keys = {
      "", "k", "hello", "longggggggggggggggg", std::string("\0\xff\x01", 3)};
  const std::vector<uint64_t> seqs = {0,
                                      1,
                                      2,
                                      10,
                                      (1ull << 8) - 1,
                                      1ull << 8,
                                      (1ull << 32) + 1,
                                      (1ull << 55),
                                      kMaxSequenceNumber};
  for (const auto& k : keys) {
    for (uint64_t s : seqs) {
      CheckRoundTrip(k, s, kTypeValue);
      CheckRoundTrip(k, s, kTypeDeletion);
    }
  }
}

TEST(DBFormatTest, ParseRejectsDamage) {
  ParsedInternalKey parsed;
  EXPECT_FALSE(ParseInternalKey(Slice(""), &parsed));
  EXPECT_FALSE(ParseInternalKey(Slice("1234567"), &parsed));
  // Type byte 2 and 0xff are not value types.
  std::string bad = "foo";
  PutFixed64(&bad, (5ull << 8) | 2);
  EXPECT_FALSE(ParseInternalKey(bad, &parsed));
  bad = "foo";
  PutFixed64(&bad, (5ull << 8) | 0xff);
  EXPECT_FALSE(ParseInternalKey(bad, &parsed));
  // Exactly 8 bytes is an empty user key.
  std::string empty_user;
  PutFixed64(&empty_user, (7ull << 8) | kTypeValue);
  ASSERT_TRUE(ParseInternalKey(empty_user, &parsed));
  EXPECT_TRUE(parsed.user_key.empty());
  EXPECT_EQ(7u, parsed.sequence);
}

TEST(DBFormatTest, Ordering) {
  InternalKeyComparator icmp(BytewiseComparator());
  EXPECT_STREQ("ldb.InternalKeyComparator", icmp.Name());
  // User key ascending.
  EXPECT_LT(icmp.Compare(IKey("a", 1, kTypeValue), IKey("b", 100, kTypeValue)),
            0);
  EXPECT_GT(icmp.Compare(IKey("b", 1, kTypeValue), IKey("a", 100, kTypeValue)),
            0);
  EXPECT_LT(icmp.Compare(IKey("a", 1, kTypeValue), IKey("ab", 1, kTypeValue)),
            0);
  // Sequence descending.
  EXPECT_LT(icmp.Compare(IKey("a", 100, kTypeValue), IKey("a", 99, kTypeValue)),
            0);
  EXPECT_GT(
      icmp.Compare(IKey("a", 99, kTypeDeletion), IKey("a", 100, kTypeValue)),
      0);
  // Type descending at equal sequence.
  EXPECT_LT(
      icmp.Compare(IKey("a", 100, kTypeValue), IKey("a", 100, kTypeDeletion)),
      0);
  EXPECT_EQ(
      icmp.Compare(IKey("a", 100, kTypeValue), IKey("a", 100, kTypeValue)), 0);
  // InternalKey overload.
  EXPECT_LT(icmp.Compare(InternalKey("a", 5, kTypeValue),
                         InternalKey("a", 4, kTypeValue)),
            0);
}

TEST(DBFormatTest, OrderingWithRandomKeys) {
  InternalKeyComparator icmp(BytewiseComparator());
  Random rnd(301);
  struct Entry {
    std::string user_key;
    uint64_t seq;
    ValueType type;
  };
  std::vector<Entry> entries;
  for (int i = 0; i < 500; i++) {
    std::string k;
    const int len = static_cast<int>(rnd.Uniform(4));
    for (int j = 0; j < len; j++) {
      k.push_back(static_cast<char>('a' + rnd.Uniform(3)));
    }
    entries.push_back(
        {k, rnd.Uniform(50), rnd.OneIn(2) ? kTypeValue : kTypeDeletion});
  }
  std::vector<std::string> encoded;
  for (const auto& e : entries) {
    encoded.push_back(IKey(e.user_key, e.seq, e.type));
  }
  std::sort(encoded.begin(), encoded.end(),
            [&](const std::string& a, const std::string& b) {
              return icmp.Compare(a, b) < 0;
            });
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.user_key != b.user_key) return a.user_key < b.user_key;
    if (a.seq != b.seq) return a.seq > b.seq;
    return a.type > b.type;
  });
  for (size_t i = 0; i < entries.size(); i++) {
    EXPECT_EQ(IKey(entries[i].user_key, entries[i].seq, entries[i].type),
              encoded[i]);
  }
}

TEST(DBFormatTest, FindShortestSeparator) {
  // When user keys are the same.
  EXPECT_EQ(IKey("foo", 100, kTypeValue),
            Shorten(IKey("foo", 100, kTypeValue), IKey("foo", 99, kTypeValue)));
  EXPECT_EQ(
      IKey("foo", 100, kTypeValue),
      Shorten(IKey("foo", 100, kTypeValue), IKey("foo", 101, kTypeValue)));
  EXPECT_EQ(
      IKey("foo", 100, kTypeValue),
      Shorten(IKey("foo", 100, kTypeValue), IKey("foo", 100, kTypeDeletion)));
  // When user keys are misordered.
  EXPECT_EQ(IKey("foo", 100, kTypeValue),
            Shorten(IKey("foo", 100, kTypeValue), IKey("bar", 99, kTypeValue)));
  // When user keys are different, but correctly ordered.
  EXPECT_EQ(
      IKey("g", kMaxSequenceNumber, kValueTypeForSeek),
      Shorten(IKey("foo", 100, kTypeValue), IKey("hello", 200, kTypeValue)));
  // When start user key is a prefix of limit user key.
  EXPECT_EQ(
      IKey("foo", 100, kTypeValue),
      Shorten(IKey("foo", 100, kTypeValue), IKey("foobar", 200, kTypeValue)));
  // When limit user key is a prefix of start user key.
  EXPECT_EQ(
      IKey("foobar", 100, kTypeValue),
      Shorten(IKey("foobar", 100, kTypeValue), IKey("foo", 200, kTypeValue)));
  // Too short to be internal keys: left alone, no crash.
  EXPECT_EQ("abc", Shorten("abc", IKey("zzz", 1, kTypeValue)));
}

TEST(DBFormatTest, FindShortSuccessor) {
  EXPECT_EQ(IKey("g", kMaxSequenceNumber, kValueTypeForSeek),
            ShortSuccessor(IKey("foo", 100, kTypeValue)));
  EXPECT_EQ(IKey("\xff\xff", 100, kTypeValue),
            ShortSuccessor(IKey("\xff\xff", 100, kTypeValue)));
  EXPECT_EQ("ab", ShortSuccessor("ab"));
}

// Separators and successors keep the order for random keys, including keys
// that share long prefixes and keys that differ only in sequence.
TEST(DBFormatTest, SeparatorAndSuccessorKeepOrderRandom) {
  InternalKeyComparator icmp(BytewiseComparator());
  Random rnd(1234);
  auto random_user_key = [&]() {
    std::string k;
    const int len = static_cast<int>(rnd.Uniform(6));
    for (int j = 0; j < len; j++) {
      // A tiny alphabet with the extremes to hit 0xff runs and equal keys.
      static const char kAlphabet[] = {'\0', 'a', 'b', '\xfe', '\xff'};
      k.push_back(kAlphabet[rnd.Uniform(5)]);
    }
    return k;
  };
  int shortened = 0;
  for (int i = 0; i < 20000; i++) {
    std::string a = IKey(random_user_key(), rnd.Uniform(1000),
                         rnd.OneIn(2) ? kTypeValue : kTypeDeletion);
    std::string b = IKey(random_user_key(), rnd.Uniform(1000),
                         rnd.OneIn(2) ? kTypeValue : kTypeDeletion);
    if (icmp.Compare(a, b) > 0) std::swap(a, b);
    if (icmp.Compare(a, b) == 0) continue;
    std::string sep = a;
    icmp.FindShortestSeparator(&sep, b);
    ASSERT_LE(icmp.Compare(a, sep), 0) << i;
    ASSERT_LT(icmp.Compare(sep, b), 0) << i;
    ParsedInternalKey parsed;
    ASSERT_TRUE(ParseInternalKey(sep, &parsed));
    if (sep != a) shortened++;

    std::string succ = a;
    icmp.FindShortSuccessor(&succ);
    ASSERT_LE(icmp.Compare(a, succ), 0) << i;
    ASSERT_TRUE(ParseInternalKey(succ, &parsed));
  }
  EXPECT_GT(shortened, 0);  // the test did exercise the shortening path
}

TEST(DBFormatTest, LookupKey) {
  for (size_t len : {0, 1, 10, 180, 187, 188, 200, 1000}) {
    const std::string user_key(len, 'x');
    LookupKey lkey(user_key, 77);
    EXPECT_EQ(user_key, lkey.user_key().ToString());
    ParsedInternalKey parsed;
    ASSERT_TRUE(ParseInternalKey(lkey.internal_key(), &parsed));
    EXPECT_EQ(user_key, parsed.user_key.ToString());
    EXPECT_EQ(77u, parsed.sequence);
    EXPECT_EQ(kValueTypeForSeek, parsed.type);
    Slice mkey = lkey.memtable_key();
    Slice inner;
    ASSERT_TRUE(GetLengthPrefixedSlice(&mkey, &inner));
    EXPECT_TRUE(mkey.empty());
    EXPECT_EQ(lkey.internal_key(), inner);
  }
}

// Records the keys it sees; matches any key it was given.
class RecordingPolicy : public FilterPolicy {
 public:
  const char* Name() const override { return "test.Recording"; }
  void CreateFilter(const Slice* keys, int n, std::string* dst) const override {
    for (int i = 0; i < n; i++) {
      PutLengthPrefixedSlice(dst, keys[i]);
    }
  }
  bool KeyMayMatch(const Slice& key, const Slice& filter) const override {
    Slice in = filter;
    Slice k;
    while (GetLengthPrefixedSlice(&in, &k)) {
      if (k == key) return true;
    }
    return false;
  }
};

TEST(DBFormatTest, InternalFilterPolicyUsesUserKeys) {
  RecordingPolicy user_policy;
  InternalFilterPolicy policy(&user_policy);
  EXPECT_STREQ("test.Recording", policy.Name());
  const std::vector<std::string> ikeys = {IKey("apple", 5, kTypeValue),
                                          IKey("pear", 9, kTypeDeletion)};
  std::vector<Slice> slices(ikeys.begin(), ikeys.end());
  std::string filter;
  policy.CreateFilter(slices.data(), static_cast<int>(slices.size()), &filter);
  std::string expected;
  PutLengthPrefixedSlice(&expected, "apple");
  PutLengthPrefixedSlice(&expected, "pear");
  EXPECT_EQ(expected, filter);
  // Any sequence of the same user key matches.
  EXPECT_TRUE(policy.KeyMayMatch(IKey("apple", 1000, kTypeValue), filter));
  EXPECT_TRUE(policy.KeyMayMatch(IKey("pear", 1, kTypeValue), filter));
  EXPECT_FALSE(policy.KeyMayMatch(IKey("plum", 5, kTypeValue), filter));
}

TEST(DBFormatTest, DebugStrings) {
  EXPECT_EQ("'foo' @ 100 : 1",
            ParsedInternalKey("foo", 100, kTypeValue).DebugString());
  EXPECT_EQ("'foo' @ 100 : 1",
            InternalKey("foo", 100, kTypeValue).DebugString());
  InternalKey bad;
  ASSERT_TRUE(bad.DecodeFrom(Slice("abc")));
  EXPECT_EQ(0u, bad.DebugString().find("(bad)"));
}

}  // namespace
}  // namespace ldb
