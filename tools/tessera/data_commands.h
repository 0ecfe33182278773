// Data commands of the `tessera` CLI: put get del incr decr ttl expire mget mput.
#ifndef TESSERA_TOOLS_TESSERA_DATA_COMMANDS_H_
#define TESSERA_TOOLS_TESSERA_DATA_COMMANDS_H_

#include <string>
#include <vector>

#include "cli.h"

namespace tessera::cli {

// True when `command` is one of the data commands.
bool IsDataCommand(const std::string& command);
// Runs it; `args` are the words after the command. Returns the exit code.
int RunDataCommand(const Context& ctx, const std::string& command,
                   const std::vector<std::string>& args);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_DATA_COMMANDS_H_
