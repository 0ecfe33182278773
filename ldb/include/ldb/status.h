// Status: the result of an operation, OK or an error code with a message.
//
// OK is cheap (a null pointer). Thread-compatible.
#ifndef LDB_INCLUDE_STATUS_H_
#define LDB_INCLUDE_STATUS_H_

#include <memory>
#include <string>

#include "ldb/slice.h"

namespace ldb {

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(const Status& rhs);
  Status& operator=(const Status& rhs);
  Status(Status&& rhs) noexcept = default;
  Status& operator=(Status&& rhs) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(kNotFound, msg, msg2);
  }
  static Status Corruption(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(kCorruption, msg, msg2);
  }
  static Status NotSupported(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(kNotSupported, msg, msg2);
  }
  static Status InvalidArgument(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(kInvalidArgument, msg, msg2);
  }
  static Status IOError(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(kIOError, msg, msg2);
  }
  static Status Busy(const Slice& msg, const Slice& msg2 = Slice()) {
    return Status(kBusy, msg, msg2);
  }

  bool ok() const { return state_ == nullptr; }
  bool IsNotFound() const { return code() == kNotFound; }
  bool IsCorruption() const { return code() == kCorruption; }
  bool IsNotSupported() const { return code() == kNotSupported; }
  bool IsInvalidArgument() const { return code() == kInvalidArgument; }
  bool IsIOError() const { return code() == kIOError; }
  bool IsBusy() const { return code() == kBusy; }

  // "OK", or "<Code>: <message>".
  std::string ToString() const;

  // Explicitly ignores a status (for best-effort cleanup paths).
  void IgnoreError() const {}

 private:
  enum Code {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kBusy = 6,
  };
  struct State {
    Code code;
    std::string msg;
  };

  Status(Code code, const Slice& msg, const Slice& msg2);
  Code code() const { return state_ == nullptr ? kOk : state_->code; }

  std::unique_ptr<State> state_;
};

inline Status::Status(const Status& rhs)
    : state_(rhs.state_ ? std::make_unique<State>(*rhs.state_) : nullptr) {}

inline Status& Status::operator=(const Status& rhs) {
  if (this != &rhs) {
    state_ = rhs.state_ ? std::make_unique<State>(*rhs.state_) : nullptr;
  }
  return *this;
}

}  // namespace ldb

#endif  // LDB_INCLUDE_STATUS_H_
