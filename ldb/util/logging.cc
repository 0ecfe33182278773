// String helpers for messages, file names and properties. See logging.h.
#include "util/logging.h"

#include <charconv>
#include <limits>

namespace ldb {

void AppendNumberTo(std::string* str, uint64_t num) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), num);
  str->append(buf, result.ptr);
}

void AppendEscapedStringTo(std::string* str, const Slice& value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= ' ' && c <= '~' && c != '\\') {
      str->push_back(static_cast<char>(c));
    } else {
      // Backslash is escaped too, so that the output is unambiguous.
      str->append("\\x");
      str->push_back(kHex[c >> 4]);
      str->push_back(kHex[c & 0xf]);
    }
  }
}

std::string NumberToString(uint64_t num) {
  std::string r;
  AppendNumberTo(&r, num);
  return r;
}

std::string EscapeString(const Slice& value) {
  std::string r;
  AppendEscapedStringTo(&r, value);
  return r;
}

bool ConsumeDecimalNumber(Slice* in, uint64_t* val) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  size_t digits = 0;
  while (digits < in->size()) {
    const char c = (*in)[digits];
    if (c < '0' || c > '9') break;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (kMax - d) / 10) {
      return false;  // v * 10 + d would overflow.
    }
    v = v * 10 + d;
    ++digits;
  }
  if (digits == 0) return false;
  in->remove_prefix(digits);
  *val = v;
  return true;
}

}  // namespace ldb
