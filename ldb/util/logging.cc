// String helpers for messages, file names and properties. See logging.h.
#include "util/logging.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <sstream>
#include <thread>

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


std::string FormatLogLine(const char* format, std::va_list ap) {
  const auto micros_since_epoch =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::time_t seconds =
      static_cast<std::time_t>(micros_since_epoch / 1000000);
  std::tm t;
  ::localtime_r(&seconds, &t);
  std::ostringstream thread_id;
  thread_id << std::this_thread::get_id();

  char header[128];
  const int header_len = std::snprintf(
      header, sizeof(header), "%04d/%02d/%02d-%02d:%02d:%02d.%06d %s ",
      t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
      static_cast<int>(micros_since_epoch % 1000000), thread_id.str().c_str());
  std::string line;
  if (header_len > 0) {
    line.assign(header,
                std::min<size_t>(static_cast<size_t>(header_len),
                                 sizeof(header) - 1));
  }

  // The message, formatted once to measure it, then into place.
  std::va_list ap_copy;
  va_copy(ap_copy, ap);
  const int msg_len = std::vsnprintf(nullptr, 0, format, ap_copy);
  va_end(ap_copy);
  if (msg_len > 0) {
    const size_t start = line.size();
    line.resize(start + static_cast<size_t>(msg_len) + 1);
    std::vsnprintf(line.data() + start, static_cast<size_t>(msg_len) + 1,
                   format, ap);
    line.resize(start + static_cast<size_t>(msg_len));
  }
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  return line;
}

}  // namespace ldb
