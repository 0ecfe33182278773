// Status: see ldb/status.h.
#include "ldb/status.h"

namespace ldb {

Status::Status(Code code, const Slice& msg, const Slice& msg2)
    : state_(std::make_unique<State>()) {
  state_->code = code;
  state_->msg.reserve(msg.size() + (msg2.empty() ? 0 : msg2.size() + 2));
  state_->msg.append(msg.data(), msg.size());
  if (!msg2.empty()) {
    state_->msg.append(": ");
    state_->msg.append(msg2.data(), msg2.size());
  }
}

std::string Status::ToString() const {
  if (state_ == nullptr) return "OK";
  const char* prefix;
  switch (state_->code) {
    case kOk:
      prefix = "OK";
      break;
    case kNotFound:
      prefix = "NotFound: ";
      break;
    case kCorruption:
      prefix = "Corruption: ";
      break;
    case kNotSupported:
      prefix = "Not implemented: ";
      break;
    case kInvalidArgument:
      prefix = "Invalid argument: ";
      break;
    case kIOError:
      prefix = "IO error: ";
      break;
    case kBusy:
      prefix = "Busy: ";
      break;
    default:
      prefix = "Unknown code: ";
      break;
  }
  std::string result(prefix);
  result.append(state_->msg);
  return result;
}

}  // namespace ldb
