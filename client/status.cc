#include "tessera/status.h"

#include "common/status.h"

namespace tessera::client {

// The client's codes are the wire codes (a subset of tessera::Code), so the names are
// common's.
static_assert(static_cast<int>(Code::kNotFound) == static_cast<int>(tessera::Code::kNotFound));
static_assert(static_cast<int>(Code::kUnavailable) == static_cast<int>(tessera::Code::kUnavailable));
static_assert(static_cast<int>(Code::kPermissionDenied) ==
              static_cast<int>(tessera::Code::kPermissionDenied));
static_assert(static_cast<int>(Code::kInternal) == static_cast<int>(tessera::Code::kInternal));

std::string_view CodeName(Code code) {
  return tessera::CodeName(static_cast<tessera::Code>(static_cast<int>(code)));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(CodeName(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace tessera::client
