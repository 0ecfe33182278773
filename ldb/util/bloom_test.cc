#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ldb/filter_policy.h"
#include "util/coding.h"
#include "util/logging.h"
#include "util/random.h"

namespace ldb {
namespace {

// prefix followed by n in decimal.
std::string Numbered(const char* prefix, uint64_t n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

Slice Key(int i, char* buffer) {
  EncodeFixed32(buffer, static_cast<uint32_t>(i));
  return Slice(buffer, sizeof(uint32_t));
}

class BloomTest : public testing::Test {
 public:
  BloomTest() : policy_(NewBloomFilterPolicy(10)) {}

  void Reset() {
    keys_.clear();
    filter_.clear();
  }

  void Add(const Slice& s) { keys_.push_back(s.ToString()); }

  void Build() {
    std::vector<Slice> key_slices;
    for (const std::string& k : keys_) key_slices.emplace_back(k);
    filter_.clear();
    policy_->CreateFilter(key_slices.data(),
                          static_cast<int>(key_slices.size()), &filter_);
    keys_.clear();
  }

  size_t FilterSize() const { return filter_.size(); }

  bool Matches(const Slice& s) {
    if (!keys_.empty()) Build();
    return policy_->KeyMayMatch(s, filter_);
  }

  double FalsePositiveRate() {
    char buffer[sizeof(int)];
    int result = 0;
    for (int i = 0; i < 10000; i++) {
      if (Matches(Key(i + 1000000000, buffer))) result++;
    }
    return result / 10000.0;
  }

 protected:
  std::unique_ptr<const FilterPolicy> policy_;
  std::string filter_;
  std::vector<std::string> keys_;
};

TEST_F(BloomTest, Name) {
  EXPECT_STREQ("ldb.BuiltinBloomFilter", policy_->Name());
}

TEST_F(BloomTest, EmptyFilter) {
  // A filter built from no keys matches nothing.
  Build();
  EXPECT_FALSE(Matches("hello"));
  EXPECT_FALSE(Matches("world"));
  // So does a zero-length filter.
  EXPECT_FALSE(policy_->KeyMayMatch("hello", Slice()));
}

TEST_F(BloomTest, Small) {
  Add("hello");
  Add("world");
  EXPECT_TRUE(Matches("hello"));
  EXPECT_TRUE(Matches("world"));
  EXPECT_FALSE(Matches("x"));
  EXPECT_FALSE(Matches("foo"));
}

TEST_F(BloomTest, AppendsToDst) {
  std::string dst = "prefix";
  const Slice keys[] = {Slice("a"), Slice("b")};
  policy_->CreateFilter(keys, 2, &dst);
  ASSERT_GT(dst.size(), 6u);
  EXPECT_EQ("prefix", dst.substr(0, 6));
  const Slice filter(dst.data() + 6, dst.size() - 6);
  EXPECT_TRUE(policy_->KeyMayMatch("a", filter));
  EXPECT_TRUE(policy_->KeyMayMatch("b", filter));
}

// The filter format is persisted in tables: pin the bytes of one filter so
// that an accidental change of the hash, the probe sequence or the layout
// fails here. Do not "fix" the expectation.
TEST_F(BloomTest, PinnedFormat) {
  const Slice keys[] = {Slice("hello"), Slice("world")};
  std::string dst;
  policy_->CreateFilter(keys, 2, &dst);
  EXPECT_EQ(
      "\\x00\\x02\\x00\\x08\\x00@\\x00\\x08\\x11 "
      "D\\x80\\x10\\x01\\x82\\x00\\x07",
      EscapeString(dst));
}

int NextLength(int length) {
  if (length < 10) {
    length += 1;
  } else if (length < 100) {
    length += 10;
  } else if (length < 1000) {
    length += 100;
  } else {
    length += 1000;
  }
  return length;
}

TEST_F(BloomTest, VaryingLengths) {
  char buffer[sizeof(int)];
  // Count how many filters have a significant false-positive rate.
  int mediocre_filters = 0;
  int good_filters = 0;
  for (int length = 1; length <= 10000; length = NextLength(length)) {
    Reset();
    for (int i = 0; i < length; i++) Add(Key(i, buffer));
    Build();
    ASSERT_LE(FilterSize(), static_cast<size_t>((length * 10 / 8) + 40))
        << length;
    // No false negatives, ever.
    for (int i = 0; i < length; i++) {
      ASSERT_TRUE(Matches(Key(i, buffer)))
          << "Length " << length << "; key " << i;
    }
    const double rate = FalsePositiveRate();
    // At 10 bits/key the theoretical rate is ~0.8 %.
    ASSERT_LE(rate, 0.02) << "length " << length;
    if (rate > 0.0125) {
      mediocre_filters++;
    } else {
      good_filters++;
    }
  }
  EXPECT_LE(mediocre_filters, good_filters / 5);
}

TEST_F(BloomTest, NoFalseNegativesEverySize) {
  // Every size from 1 to 10000 keys, random variable-length keys.
  Random rnd(1234);
  std::vector<std::string> keys;
  for (int n = 1; n <= 10000; ++n) {
    std::string k;
    const int len = 1 + rnd.Uniform(24);
    for (int j = 0; j < len; ++j) k.push_back(static_cast<char>(rnd.Next()));
    keys.push_back(std::move(k));
    // Rebuilding for every n would be quadratic; check all small sizes and
    // a spread of larger ones.
    if (n > 300 && n % 97 != 0 && n != 10000) continue;
    std::vector<Slice> slices(keys.begin(), keys.end());
    std::string filter;
    policy_->CreateFilter(slices.data(), n, &filter);
    for (const Slice& s : slices) {
      ASSERT_TRUE(policy_->KeyMayMatch(s, filter)) << "n=" << n;
    }
  }
}

TEST_F(BloomTest, FalsePositiveRateForSeveralKeyCounts) {
  for (int n : {100, 1000, 5000, 20000}) {
    Random rnd(n);
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i) keys.push_back(Numbered("key", i));
    std::vector<Slice> slices(keys.begin(), keys.end());
    std::string filter;
    policy_->CreateFilter(slices.data(), n, &filter);
    int false_positives = 0;
    constexpr int kProbes = 10000;
    for (int i = 0; i < kProbes; ++i) {
      const std::string probe = Numbered("other", rnd.Next64());
      if (policy_->KeyMayMatch(probe, filter)) ++false_positives;
    }
    const double rate = static_cast<double>(false_positives) / kProbes;
    EXPECT_LT(rate, 0.02) << "n=" << n;
  }
}

TEST(BloomPolicyTest, BitsPerKeyControlsRate) {
  // More bits per key: fewer false positives.
  double previous = 1.0;
  for (int bits : {2, 5, 10, 20}) {
    auto policy = NewBloomFilterPolicy(bits);
    std::vector<std::string> keys;
    for (int i = 0; i < 2000; ++i) keys.push_back(Numbered("k", i));
    std::vector<Slice> slices(keys.begin(), keys.end());
    std::string filter;
    policy->CreateFilter(slices.data(), 2000, &filter);
    for (const Slice& s : slices) ASSERT_TRUE(policy->KeyMayMatch(s, filter));
    int fp = 0;
    for (int i = 0; i < 10000; ++i) {
      if (policy->KeyMayMatch(Numbered("x", i), filter)) ++fp;
    }
    const double rate = fp / 10000.0;
    EXPECT_LT(rate, previous) << bits;
    previous = rate;
  }
}

TEST(BloomPolicyTest, ExtremeBitsPerKey) {
  // k is clamped to [1, 30]; both ends must still work.
  for (int bits : {0, 1, 100}) {
    auto policy = NewBloomFilterPolicy(bits);
    const Slice keys[] = {Slice("a"), Slice("bb"), Slice("ccc")};
    std::string filter;
    policy->CreateFilter(keys, 3, &filter);
    ASSERT_GE(filter.size(), 2u);
    const int k = static_cast<uint8_t>(filter.back());
    EXPECT_GE(k, 1);
    EXPECT_LE(k, 30);
    for (const Slice& s : keys) EXPECT_TRUE(policy->KeyMayMatch(s, filter));
  }
}

TEST(BloomPolicyTest, DamagedFiltersDoNotCrash) {
  auto policy = NewBloomFilterPolicy(10);
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back(Numbered("key", i));
  std::vector<Slice> slices(keys.begin(), keys.end());
  std::string filter;
  policy->CreateFilter(slices.data(), 100, &filter);

  // A one-byte filter cannot have been built by us: it must not rule keys
  // out.
  EXPECT_TRUE(policy->KeyMayMatch("key1", Slice("\x06", 1)));
  EXPECT_TRUE(policy->KeyMayMatch("key1", Slice("\x00", 1)));

  // Unknown probe counts (reserved encodings) always match.
  for (int k : {0, 31, 200, 255}) {
    std::string f = filter;
    f.back() = static_cast<char>(k);
    EXPECT_TRUE(policy->KeyMayMatch("nope", f)) << k;
  }

  // Every truncation and random damage: no crash (run under ASan for
  // out-of-bounds reads), and keys never read past the slice.
  Random rnd(77);
  for (size_t len = 0; len <= filter.size(); ++len) {
    // Copy into an exactly sized heap buffer so an overread is detectable.
    std::unique_ptr<char[]> buf(new char[len == 0 ? 1 : len]);
    std::memcpy(buf.get(), filter.data(), len);
    const Slice truncated(buf.get(), len);
    for (const Slice& s : slices) {
      policy->KeyMayMatch(s, truncated);
    }
  }
  for (int trial = 0; trial < 1000; ++trial) {
    std::string f = filter;
    const int flips = 1 + rnd.Uniform(8);
    for (int i = 0; i < flips; ++i) {
      f[rnd.Uniform(f.size())] = static_cast<char>(rnd.Next());
    }
    for (int i = 0; i < 10; ++i) {
      policy->KeyMayMatch(slices[rnd.Uniform(100)], f);
    }
  }
}

}  // namespace
}  // namespace ldb
