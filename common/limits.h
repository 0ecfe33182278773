// Request limits shared by servers and the client (each can be lowered by options).
#ifndef TESSERA_COMMON_LIMITS_H_
#define TESSERA_COMMON_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace tessera {

inline constexpr size_t kMaxKeyBytes = 1024;                  // user key
inline constexpr size_t kDefaultMaxValueBytes = 1u << 20;     // user value (configurable)
inline constexpr size_t kMaxBatchKeys = 1024;                 // mget / mput entries
inline constexpr uint32_t kMaxAreaId = 65535;

// The checks both the client (before sending) and the data server (on receipt) make.
// Each returns InvalidArgument with a message naming the limit. Pure, thread-safe.
Status CheckKey(std::string_view key);                        // 1..kMaxKeyBytes bytes
Status CheckArea(uint32_t area);                              // <= kMaxAreaId
Status CheckValue(std::string_view value, size_t max_value_bytes);
Status CheckBatchSize(size_t n);                              // <= kMaxBatchKeys

}  // namespace tessera

#endif  // TESSERA_COMMON_LIMITS_H_
