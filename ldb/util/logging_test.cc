#include "util/logging.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace ldb {
namespace {

TEST(LoggingTest, NumberToString) {
  EXPECT_EQ("0", NumberToString(0));
  EXPECT_EQ("1", NumberToString(1));
  EXPECT_EQ("9", NumberToString(9));
  EXPECT_EQ("10", NumberToString(10));
  EXPECT_EQ("12345678", NumberToString(12345678));
  EXPECT_EQ("18446744073709551615",
            NumberToString(std::numeric_limits<uint64_t>::max()));
  std::string s = "x=";
  AppendNumberTo(&s, 42);
  EXPECT_EQ("x=42", s);
}

void ConsumeDecimalNumberRoundtripTest(uint64_t number,
                                       const std::string& padding = "") {
  const std::string decimal_number = NumberToString(number);
  const std::string input_string = decimal_number + padding;
  Slice input(input_string);
  Slice output = input;
  uint64_t result;
  ASSERT_TRUE(ConsumeDecimalNumber(&output, &result));
  ASSERT_EQ(number, result);
  ASSERT_EQ(decimal_number.size(), output.data() - input.data());
  ASSERT_EQ(padding.size(), output.size());
}

TEST(LoggingTest, ConsumeDecimalNumberRoundtrip) {
  ConsumeDecimalNumberRoundtripTest(0);
  uint64_t power_of_two = 1;
  for (int i = 0; i < 64; ++i, power_of_two <<= 1) {
    ConsumeDecimalNumberRoundtripTest(power_of_two - 1);
    ConsumeDecimalNumberRoundtripTest(power_of_two);
    ConsumeDecimalNumberRoundtripTest(power_of_two + 1);
  }
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  ConsumeDecimalNumberRoundtripTest(max);
  ConsumeDecimalNumberRoundtripTest(max - 1);
  ConsumeDecimalNumberRoundtripTest(max - 9);
  ConsumeDecimalNumberRoundtripTest(max - 10);
}

TEST(LoggingTest, ConsumeDecimalNumberRoundtripWithPadding) {
  ConsumeDecimalNumberRoundtripTest(0, " ");
  ConsumeDecimalNumberRoundtripTest(1, "abc");
  ConsumeDecimalNumberRoundtripTest(123, ".log");
  ConsumeDecimalNumberRoundtripTest(std::numeric_limits<uint64_t>::max(), "x");
  ConsumeDecimalNumberRoundtripTest(7, std::string("\0", 1));
}

void ConsumeDecimalNumberFails(const std::string& input_string) {
  Slice input(input_string);
  Slice output = input;
  uint64_t result = 12345;
  ASSERT_FALSE(ConsumeDecimalNumber(&output, &result)) << input_string;
  EXPECT_EQ(12345u, result) << "result untouched on failure";
}

TEST(LoggingTest, ConsumeDecimalNumberOverflow) {
  ConsumeDecimalNumberFails("18446744073709551616");  // max + 1
  ConsumeDecimalNumberFails("18446744073709551617");
  ConsumeDecimalNumberFails("18446744073709551620");  // max + 5, last digit
  ConsumeDecimalNumberFails("18446744073709551700");
  ConsumeDecimalNumberFails("18446744073709552000");
  ConsumeDecimalNumberFails("18446744073709560000");
  ConsumeDecimalNumberFails("18446744073709600000");
  ConsumeDecimalNumberFails("18446744073710000000");
  ConsumeDecimalNumberFails("18446744073800000000");
  ConsumeDecimalNumberFails("18446744080000000000");
  ConsumeDecimalNumberFails("18446744100000000000");
  ConsumeDecimalNumberFails("18446745000000000000");
  ConsumeDecimalNumberFails("18446750000000000000");
  ConsumeDecimalNumberFails("18446800000000000000");
  ConsumeDecimalNumberFails("18447000000000000000");
  ConsumeDecimalNumberFails("18450000000000000000");
  ConsumeDecimalNumberFails("18500000000000000000");
  ConsumeDecimalNumberFails("19000000000000000000");
  ConsumeDecimalNumberFails("20000000000000000000");
  ConsumeDecimalNumberFails("99999999999999999999");
  ConsumeDecimalNumberFails("184467440737095516150");  // 21 digits
}

TEST(LoggingTest, ConsumeDecimalNumberNoDigits) {
  ConsumeDecimalNumberFails("");
  ConsumeDecimalNumberFails(" ");
  ConsumeDecimalNumberFails("a");
  ConsumeDecimalNumberFails(" 123");
  ConsumeDecimalNumberFails("-123");
  ConsumeDecimalNumberFails("\x0f");
  ConsumeDecimalNumberFails(std::string("\0", 1));
  ConsumeDecimalNumberFails("\xff");
}

TEST(LoggingTest, LeadingZeros) {
  Slice in("000123abc");
  uint64_t v;
  ASSERT_TRUE(ConsumeDecimalNumber(&in, &v));
  EXPECT_EQ(123u, v);
  EXPECT_EQ("abc", in.ToString());
}

TEST(LoggingTest, EscapeString) {
  EXPECT_EQ("", EscapeString(""));
  EXPECT_EQ("hello world ~!", EscapeString("hello world ~!"));
  EXPECT_EQ("a\\x00b", EscapeString(Slice("a\0b", 3)));
  EXPECT_EQ("\\x01\\x1f\\x7f\\x80\\xff",
            EscapeString(Slice("\x01\x1f\x7f\x80\xff", 5)));
  EXPECT_EQ("tab\\x09nl\\x0a", EscapeString("tab\tnl\n"));
  // A literal backslash is escaped, so output is unambiguous.
  EXPECT_EQ("\\x5cx00", EscapeString("\\x00"));
  std::string s = "key=";
  AppendEscapedStringTo(&s, Slice("\xfe", 1));
  EXPECT_EQ("key=\\xfe", s);
}

}  // namespace
}  // namespace ldb
