// Request limits shared by servers and the client (each can be lowered by options).
#ifndef TESSERA_COMMON_LIMITS_H_
#define TESSERA_COMMON_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace tessera {

inline constexpr size_t kMaxKeyBytes = 1024;                  // user key
inline constexpr size_t kDefaultMaxValueBytes = 1u << 20;     // user value (configurable)
inline constexpr size_t kMaxBatchKeys = 1024;                 // mget / mput entries
inline constexpr uint32_t kMaxAreaId = 65535;

}  // namespace tessera

#endif  // TESSERA_COMMON_LIMITS_H_
