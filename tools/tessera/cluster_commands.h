// Cluster commands of the `tessera` CLI: nodes, table, stats. They talk to the config
// servers directly over the wire protocol (common/rpc_channel.h).
#ifndef TESSERA_TOOLS_TESSERA_CLUSTER_COMMANDS_H_
#define TESSERA_TOOLS_TESSERA_CLUSTER_COMMANDS_H_

#include <string>
#include <vector>

#include "cli.h"

namespace tessera::cli {

bool IsClusterCommand(const std::string& command);
int RunClusterCommand(const Context& ctx, const std::string& command,
                      const std::vector<std::string>& args);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_CLUSTER_COMMANDS_H_
