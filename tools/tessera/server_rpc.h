// The CLI's RPCs to config and data servers (the commands that the SDK does not
// cover: nodes, table, stats, migrate, cleanup), with the SDK's status codes.
// Functions are thread-compatible; `io` must be running.
#ifndef TESSERA_TOOLS_TESSERA_SERVER_RPC_H_
#define TESSERA_TOOLS_TESSERA_SERVER_RPC_H_

#include <string>

#include "cli.h"
#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "common/status.h"
#include "tessera/status.h"

namespace tessera::cli {

// A common status as the SDK's (codes the CLI reports; anything else is Internal).
client::Status ToClient(const tessera::Status& s);

// One RPC to `address`. A reachable server's error code comes back as an error; every
// error message starts with "<address>: ".
client::Status CallServer(const Context& ctx, IoThread* io, const std::string& address,
                          const proto::Request& request, proto::Response* response);

// What AskConfigServers does when a reachable config server answers with an error.
enum class OnServerError {
  kTryNext,  // ask the next one (it may have a table the first one lacks)
  kFinal,    // stop: another server would say the same (admin and migration RPCs)
};

// Sends `request` to each of ctx.config_servers in turn until one answers OK. On
// failure the messages of every attempt are joined with "; ", with the last code.
client::Status AskConfigServers(const Context& ctx, IoThread* io, const proto::Request& request,
                                proto::Response* response, OnServerError on_error);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_SERVER_RPC_H_
