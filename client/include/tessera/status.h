// tessera::client::Status: the result of a client call.
//
// Public header of the Tessera client SDK: includes only the standard library.
// The codes are distinct so callers can tell "the key is not there" (NotFound) from
// "the answer could not be obtained" (Timeout, Unavailable): a call never reports
// NotFound unless the key's owner said so. OK is cheap (no allocation).
// Thread-compatible (a value type).
#ifndef TESSERA_CLIENT_INCLUDE_TESSERA_STATUS_H_
#define TESSERA_CLIENT_INCLUDE_TESSERA_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace tessera::client {

enum class Code : int {
  kOk = 0,
  kNotFound = 1,         // the key does not exist (or expired)
  kVersionMismatch = 2,  // CAS: the stored version differs from CallOptions::version
  kQuotaExceeded = 3,    // the area's quota is full; the write was not applied
  kInvalidArgument = 4,  // bad key / value / options (checked before sending when possible)
  kTimeout = 5,          // no answer in time; a write may or may not have been applied
  kUnavailable = 6,      // owner down, no route, retries exhausted, connection lost
  kPermissionDenied = 8,
  kInternal = 9,         // a server-side storage error or a malformed response
};

// "OK", "NotFound", "VersionMismatch", ... (stable names, used by the CLI).
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
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsVersionMismatch() const { return code_ == Code::kVersionMismatch; }
  bool IsQuotaExceeded() const { return code_ == Code::kQuotaExceeded; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsTimeout() const { return code_ == Code::kTimeout; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_INCLUDE_TESSERA_STATUS_H_
