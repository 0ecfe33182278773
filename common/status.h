// tessera::Status: the result of an operation across Tessera's server-side modules.
//
// The codes are the wire codes of common/proto/rpc.proto (same numbers), so a status
// travels in a Response unchanged. OK is cheap (no allocation). Thread-compatible.
#ifndef TESSERA_COMMON_STATUS_H_
#define TESSERA_COMMON_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace tessera {

// Same values as tessera.proto.Code. DO NOT RENUMBER.
enum class Code : int {
  kOk = 0,
  kNotFound = 1,
  kVersionMismatch = 2,
  kQuotaExceeded = 3,
  kInvalidArgument = 4,
  kTimeout = 5,
  kUnavailable = 6,
  kWrongOwner = 7,
  kPermissionDenied = 8,
  kInternal = 9,
  kStaleTable = 10,
};

// "OK", "NotFound", ... (stable names, used in CLI output and logs).
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string m = "") { return {Code::kNotFound, std::move(m)}; }
  static Status VersionMismatch(std::string m) { return {Code::kVersionMismatch, std::move(m)}; }
  static Status QuotaExceeded(std::string m) { return {Code::kQuotaExceeded, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status WrongOwner(std::string m) { return {Code::kWrongOwner, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status StaleTable(std::string m) { return {Code::kStaleTable, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool Is(Code c) const { return code_ == c; }

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_STATUS_H_
