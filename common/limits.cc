#include "common/limits.h"

#include <string>

namespace tessera {

Status CheckKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  if (key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("key of " + std::to_string(key.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxKeyBytes));
  }
  return Status::OK();
}

Status CheckArea(uint32_t area) {
  if (area > kMaxAreaId) {
    return Status::InvalidArgument("area " + std::to_string(area) + " is above " +
                                   std::to_string(kMaxAreaId));
  }
  return Status::OK();
}

Status CheckValue(std::string_view value, size_t max_value_bytes) {
  if (value.size() > max_value_bytes) {
    return Status::InvalidArgument("value of " + std::to_string(value.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(max_value_bytes));
  }
  return Status::OK();
}

Status CheckBatchSize(size_t n) {
  if (n > kMaxBatchKeys) {
    return Status::InvalidArgument("batch of " + std::to_string(n) + " keys exceeds the limit of " +
                                   std::to_string(kMaxBatchKeys));
  }
  return Status::OK();
}

}  // namespace tessera
