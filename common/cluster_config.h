// cluster.conf: the cluster's configuration, in protobuf text format
// (message tessera.proto.ClusterConfig in common/proto/cluster.proto). Example:
//
//   cluster_name: "local"
//   bucket_count: 1023
//   copy_count: 1
//   data_servers: "127.0.0.1:7101"
//   data_servers: "127.0.0.1:7102"
//   heartbeat_interval_ms: 1000
//   server_down_time_ms: 4000
//   area_quotas { area: 7 quota_bytes: 1048576 }
//   admin_token: "secret"
//
// Parsing fills every optional field with its default and validates the whole
// config; an error names the file, line and field. Pure functions, thread-safe.
#ifndef TESSERA_COMMON_CLUSTER_CONFIG_H_
#define TESSERA_COMMON_CLUSTER_CONFIG_H_

#include <string>
#include <string_view>

#include "common/proto/cluster.pb.h"
#include "common/status.h"

namespace tessera {

inline constexpr uint32_t kDefaultBucketCount = 1023;
inline constexpr uint32_t kMaxBucketCount = (1u << 24) - 1;  // 3 bytes in the key codec
inline constexpr uint32_t kMaxCopyCount = 8;
inline constexpr uint64_t kMaxTableCopies = 1u << 20;  // bucket_count * copy_count
inline constexpr uint32_t kDefaultHeartbeatIntervalMs = 1000;
inline constexpr uint32_t kDefaultServerDownTimeMs = 4000;
inline constexpr uint32_t kMaxArea = 65535;

// Parses and validates `text`; `origin` names it in error messages (e.g. the path).
Status ParseClusterConfig(std::string_view text, std::string_view origin,
                          proto::ClusterConfig* out);

// Reads `path` and parses it as above.
Status LoadClusterConfig(const std::string& path, proto::ClusterConfig* out);

// Validates an already-parsed config and fills its defaults (used by both of the
// above, and by the config server after an admin change).
Status ValidateClusterConfig(proto::ClusterConfig* config);

}  // namespace tessera

#endif  // TESSERA_COMMON_CLUSTER_CONFIG_H_
