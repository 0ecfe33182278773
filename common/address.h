// "host:port" network addresses, as written in cluster.conf and flags.
// Pure functions, thread-safe.
#ifndef TESSERA_COMMON_ADDRESS_H_
#define TESSERA_COMMON_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// Parses "host:port" (host non-empty, no spaces; port 1..65535). An IPv6 host is
// written in brackets: "[::1]:7000".
Status ParseHostPort(std::string_view text, HostPort* out);

// Parses a comma-separated list of "host:port" (empty items are an error).
Status ParseHostPortList(std::string_view text, std::vector<HostPort>* out);

}  // namespace tessera

#endif  // TESSERA_COMMON_ADDRESS_H_
