#include "util/coding.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

TEST(CodingTest, Fixed32RoundTrip) {
  std::string s;
  for (uint32_t v = 0; v < 100000; ++v) PutFixed32(&s, v);
  ASSERT_EQ(s.size(), 100000u * 4);
  Slice in(s);
  for (uint32_t v = 0; v < 100000; ++v) {
    uint32_t actual;
    ASSERT_TRUE(GetFixed32(&in, &actual));
    ASSERT_EQ(v, actual);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, Fixed64RoundTrip) {
  std::string s;
  std::vector<uint64_t> values;
  for (int power = 0; power <= 63; ++power) {
    const uint64_t v = uint64_t{1} << power;
    values.push_back(v - 1);
    values.push_back(v);
    values.push_back(v + 1);
  }
  for (uint64_t v : values) PutFixed64(&s, v);
  Slice in(s);
  for (uint64_t v : values) {
    uint64_t actual;
    ASSERT_TRUE(GetFixed64(&in, &actual));
    ASSERT_EQ(v, actual);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, FixedIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  ASSERT_EQ(std::string("\x01\x02\x03\x04", 4), s);
  s.clear();
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8), s);
}

TEST(CodingTest, FixedTruncated) {
  std::string s("\x01\x02\x03", 3);
  Slice in(s);
  uint32_t v32;
  EXPECT_FALSE(GetFixed32(&in, &v32));
  uint64_t v64;
  s.append("\x04\x05\x06\x07", 4);
  in = Slice(s);
  EXPECT_FALSE(GetFixed64(&in, &v64));
  EXPECT_EQ(7u, in.size());  // Not consumed on failure.
}

// Every value at and around each 7-bit boundary.
std::vector<uint64_t> BoundaryValues64() {
  std::vector<uint64_t> values = {0, 1, std::numeric_limits<uint64_t>::max()};
  for (int bits = 7; bits < 64; bits += 7) {
    const uint64_t b = uint64_t{1} << bits;
    values.push_back(b - 1);
    values.push_back(b);
    values.push_back(b + 1);
  }
  return values;
}

TEST(CodingTest, Varint32Boundaries) {
  std::vector<uint32_t> values = {0, 1, std::numeric_limits<uint32_t>::max(),
                                  std::numeric_limits<uint32_t>::max() - 1};
  for (int bits = 7; bits < 32; bits += 7) {
    const uint32_t b = uint32_t{1} << bits;
    values.push_back(b - 1);
    values.push_back(b);
    values.push_back(b + 1);
  }
  std::string s;
  for (uint32_t v : values) {
    const size_t before = s.size();
    PutVarint32(&s, v);
    int expected_len = 1;
    for (uint64_t x = v; x >= 128; x >>= 7) ++expected_len;
    ASSERT_EQ(static_cast<size_t>(expected_len), s.size() - before) << v;
    ASSERT_EQ(expected_len, VarintLength(v)) << v;
  }
  Slice in(s);
  for (uint32_t v : values) {
    uint32_t actual;
    ASSERT_TRUE(GetVarint32(&in, &actual));
    ASSERT_EQ(v, actual);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, Varint32Exhaustive) {
  std::string s;
  for (uint32_t i = 0; i < (32 * 32); i++) {
    const uint32_t v = (i / 32) << (i % 32);
    PutVarint32(&s, v);
  }
  const char* p = s.data();
  const char* limit = p + s.size();
  for (uint32_t i = 0; i < (32 * 32); i++) {
    const uint32_t expected = (i / 32) << (i % 32);
    uint32_t actual;
    const char* start = p;
    p = GetVarint32Ptr(p, limit, &actual);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(expected, actual);
    ASSERT_EQ(VarintLength(actual), p - start);
  }
  ASSERT_EQ(p, limit);
}

TEST(CodingTest, Varint64Boundaries) {
  const std::vector<uint64_t> values = BoundaryValues64();
  std::string s;
  for (uint64_t v : values) {
    const size_t before = s.size();
    PutVarint64(&s, v);
    ASSERT_EQ(static_cast<size_t>(VarintLength(v)), s.size() - before);
  }
  EXPECT_EQ(10, VarintLength(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(1, VarintLength(127));
  EXPECT_EQ(2, VarintLength(128));
  const char* p = s.data();
  const char* limit = p + s.size();
  for (uint64_t v : values) {
    uint64_t actual;
    const char* start = p;
    p = GetVarint64Ptr(p, limit, &actual);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(v, actual);
    ASSERT_EQ(VarintLength(actual), p - start);
  }
  ASSERT_EQ(p, limit);
}

TEST(CodingTest, EncodeVarintReturnsEnd) {
  char buf[10];
  EXPECT_EQ(buf + 1, EncodeVarint32(buf, 127));
  EXPECT_EQ(buf + 5, EncodeVarint32(buf, 0xffffffffu));
  EXPECT_EQ(buf + 10, EncodeVarint64(buf, ~uint64_t{0}));
  EXPECT_EQ(buf + 2, EncodeVarint64(buf, 300));
  EXPECT_EQ('\xac', buf[0]);
  EXPECT_EQ('\x02', buf[1]);
}

TEST(CodingTest, Varint32TruncatedRejected) {
  const uint32_t large_value = (1u << 31) + 100;
  std::string s;
  PutVarint32(&s, large_value);
  for (size_t len = 0; len + 1 < s.size(); len++) {
    uint32_t result;
    EXPECT_EQ(nullptr, GetVarint32Ptr(s.data(), s.data() + len, &result));
    Slice in(s.data(), len);
    EXPECT_FALSE(GetVarint32(&in, &result));
    EXPECT_EQ(len, in.size());
  }
  uint32_t result;
  ASSERT_NE(nullptr, GetVarint32Ptr(s.data(), s.data() + s.size(), &result));
  EXPECT_EQ(large_value, result);
}

TEST(CodingTest, Varint64TruncatedRejected) {
  const uint64_t large_value = (1ull << 63) + 100ull;
  std::string s;
  PutVarint64(&s, large_value);
  for (size_t len = 0; len + 1 < s.size(); len++) {
    uint64_t result;
    EXPECT_EQ(nullptr, GetVarint64Ptr(s.data(), s.data() + len, &result));
  }
  uint64_t result;
  ASSERT_NE(nullptr, GetVarint64Ptr(s.data(), s.data() + s.size(), &result));
  EXPECT_EQ(large_value, result);
}

TEST(CodingTest, Varint32OverflowRejected) {
  uint32_t result;
  // 2^32 needs 33 bits.
  const std::string too_big("\x80\x80\x80\x80\x10", 5);
  EXPECT_EQ(nullptr, GetVarint32Ptr(too_big.data(),
                                    too_big.data() + too_big.size(), &result));
  // Six bytes: continuation bit on the fifth byte.
  const std::string too_long("\x81\x80\x80\x80\x80\x00", 6);
  EXPECT_EQ(nullptr,
            GetVarint32Ptr(too_long.data(), too_long.data() + too_long.size(),
                           &result));
  // The largest value fits.
  const std::string max("\xff\xff\xff\xff\x0f", 5);
  ASSERT_NE(nullptr,
            GetVarint32Ptr(max.data(), max.data() + max.size(), &result));
  EXPECT_EQ(0xffffffffu, result);
  // A varint64 value above 32 bits is not a varint32.
  std::string s;
  PutVarint64(&s, uint64_t{1} << 40);
  Slice in(s);
  EXPECT_FALSE(GetVarint32(&in, &result));
}

TEST(CodingTest, Varint64OverflowRejected) {
  uint64_t result;
  // Bit 64 set in the tenth byte.
  const std::string too_big("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
  EXPECT_EQ(nullptr, GetVarint64Ptr(too_big.data(),
                                    too_big.data() + too_big.size(), &result));
  // Eleven bytes.
  const std::string too_long("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00",
                             11);
  EXPECT_EQ(nullptr,
            GetVarint64Ptr(too_long.data(), too_long.data() + too_long.size(),
                           &result));
  const std::string max("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  ASSERT_NE(nullptr,
            GetVarint64Ptr(max.data(), max.data() + max.size(), &result));
  EXPECT_EQ(std::numeric_limits<uint64_t>::max(), result);
}

TEST(CodingTest, LengthPrefixedSlices) {
  std::string s;
  PutLengthPrefixedSlice(&s, Slice(""));
  PutLengthPrefixedSlice(&s, Slice("foo"));
  PutLengthPrefixedSlice(&s, Slice("bar"));
  PutLengthPrefixedSlice(&s, Slice(std::string(200, 'x')));
  Slice input(s);
  Slice v;
  ASSERT_TRUE(GetLengthPrefixedSlice(&input, &v));
  EXPECT_EQ("", v.ToString());
  ASSERT_TRUE(GetLengthPrefixedSlice(&input, &v));
  EXPECT_EQ("foo", v.ToString());
  ASSERT_TRUE(GetLengthPrefixedSlice(&input, &v));
  EXPECT_EQ("bar", v.ToString());
  ASSERT_TRUE(GetLengthPrefixedSlice(&input, &v));
  EXPECT_EQ(std::string(200, 'x'), v.ToString());
  EXPECT_EQ("", input.ToString());
  EXPECT_FALSE(GetLengthPrefixedSlice(&input, &v));
}

TEST(CodingTest, LengthPrefixedSliceTruncated) {
  std::string s;
  PutLengthPrefixedSlice(&s, Slice("hello world"));
  for (size_t len = 0; len < s.size(); ++len) {
    Slice input(s.data(), len);
    Slice v;
    EXPECT_FALSE(GetLengthPrefixedSlice(&input, &v)) << len;
    EXPECT_EQ(len, input.size()) << "input must not move on failure";
  }
}

TEST(CodingTest, RandomMixedRoundTrip) {
  Random rnd(301);
  std::vector<uint64_t> v64;
  std::vector<uint32_t> v32;
  std::string s;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t a = rnd.Next64() >> rnd.Uniform(64);
    const uint32_t b = rnd.Next() >> rnd.Uniform(32);
    v64.push_back(a);
    v32.push_back(b);
    PutVarint64(&s, a);
    PutVarint32(&s, b);
  }
  Slice in(s);
  for (int i = 0; i < 10000; ++i) {
    uint64_t a;
    uint32_t b;
    ASSERT_TRUE(GetVarint64(&in, &a));
    ASSERT_TRUE(GetVarint32(&in, &b));
    ASSERT_EQ(v64[i], a);
    ASSERT_EQ(v32[i], b);
  }
  EXPECT_TRUE(in.empty());
}

}  // namespace
}  // namespace ldb
