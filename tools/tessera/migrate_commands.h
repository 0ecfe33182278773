// `tessera migrate ...`: the operator's bucket migration commands (issue 5). They
// talk to the config servers over the wire protocol (admin and migration_status
// RPCs; see configserver/config_service.h for what the server does):
//   migrate add-node ADDR | remove-node ADDR   membership change: plans a migration
//   migrate move-bucket B --to ADDR            one bucket to a member
//   migrate pause | resume                     sources start no new bucket / go on
//   migrate status [--watch]                   progress bar: buckets done/total, keys,
//                                              bytes, rate, ETA (--watch: every second
//                                              until the migration is over)
// Admin commands need the cluster's admin token (MigrateOptions::admin_token).
// Thread-compatible.
#ifndef TESSERA_TOOLS_TESSERA_MIGRATE_COMMANDS_H_
#define TESSERA_TOOLS_TESSERA_MIGRATE_COMMANDS_H_

#include <string>
#include <vector>

#include "cli.h"

namespace tessera::cli {

struct MigrateOptions {
  // Empty: $TESSERA_ADMIN_TOKEN, else "local-admin" (the token of the local cluster
  // started by scripts/cluster).
  std::string admin_token;
  std::string to;       // move-bucket's destination (--to)
  bool watch = false;   // status --watch
  uint32_t watch_interval_ms = 1000;
};

// `args` are the words after "migrate".
int RunMigrateCommand(const Context& ctx, const MigrateOptions& options,
                      const std::vector<std::string>& args);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_MIGRATE_COMMANDS_H_
