// `tessera cleanup ...`: online control of the cleanup compactions that purge the
// buckets a data server gave away (issue 5; the data server's cleanup RPC, see
// dataserver/data_server.h HandleCleanup). No admin token: cleanup only drops data
// the GC registry already reclaims.
//   cleanup status [--node ADDR]                 per node: paused, pending, bytes
//                                                freed / rewritten, db size, buckets
//   cleanup run [--node ADDR] [--bucket B[,B..]] [--wait]
//                                                compact those buckets (default: every
//                                                reclaimed one) now, ignoring the
//                                                cleanup window; --wait polls until
//                                                done and prints db bytes before/after
//   cleanup pause | resume [--node ADDR]
// Without --node every data server the config servers list is asked. Exit codes as
// cli.h (0 ok, 2 usage, 3 any node failed). Thread-compatible.
#ifndef TESSERA_TOOLS_TESSERA_CLEANUP_COMMANDS_H_
#define TESSERA_TOOLS_TESSERA_CLEANUP_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli.h"

namespace tessera::cli {

struct CleanupCliOptions {
  std::string node;      // --node: one data server "host:port"; empty = all
  std::string buckets;   // --bucket: comma-separated bucket numbers (run)
  bool wait = false;     // run --wait
  uint32_t poll_interval_ms = 200;
  uint32_t wait_timeout_ms = 3600 * 1000;
};

// `args` are the words after "cleanup".
int RunCleanupCommand(const Context& ctx, const CleanupCliOptions& options,
                      const std::vector<std::string>& args);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_CLEANUP_COMMANDS_H_
