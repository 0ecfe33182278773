// Small string helpers for messages, file names and properties.
#ifndef LDB_UTIL_LOGGING_H_
#define LDB_UTIL_LOGGING_H_

#include <cstdarg>
#include <cstdint>
#include <string>

#include "ldb/slice.h"

namespace ldb {

void AppendNumberTo(std::string* str, uint64_t num);
// Printable form of value: non-printable bytes as \xNN.
void AppendEscapedStringTo(std::string* str, const Slice& value);
std::string NumberToString(uint64_t num);
std::string EscapeString(const Slice& value);
// Parses leading decimal digits of *in into *val and advances *in; false on
// overflow or when there is no digit.
bool ConsumeDecimalNumber(Slice* in, uint64_t* val);

// One info-log line: "YYYY/MM/DD-HH:MM:SS.uuuuuu <thread id> <message>\n"
// (local wall-clock time, a newline added when the message lacks one). The
// format shared by the POSIX and in-memory loggers.
std::string FormatLogLine(const char* format, std::va_list ap);

}  // namespace ldb

#endif  // LDB_UTIL_LOGGING_H_
