// ClusterAdmin: the control-plane RPCs the migration benchmark needs, over common's
// RpcChannel: admin add_node, migration_status and list_nodes at the config servers
// (tried in order until one answers), and the cleanup status of one data server.
// Thread-safety: thread-safe (each call opens its own channel on a shared io thread).
#ifndef TESSERA_TOOLS_MIGRATION_BENCH_CLUSTER_ADMIN_H_
#define TESSERA_TOOLS_MIGRATION_BENCH_CLUSTER_ADMIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "common/status.h"

namespace tessera::mbench {

class ClusterAdmin {
 public:
  ClusterAdmin(std::vector<std::string> config_servers, uint32_t timeout_ms);

  Status AddNode(const std::string& address, const std::string& token,
                 uint64_t* table_version);
  Status MigrationStatus(proto::MigrationStatusResponse* out);
  Status ListNodes(proto::ListNodesResponse* out);
  // The cleanup status of the data server at `address`. An error when the server does
  // not serve the cleanup RPC (older data servers).
  Status CleanupStatus(const std::string& address, proto::CleanupResponse* out);

 private:
  // Sends to one address; an error answer becomes a Status.
  Status CallOne(const std::string& address, const proto::Request& request,
                 proto::Response* response);
  // Sends to each config server in turn until one answers.
  Status CallConfig(const proto::Request& request, proto::Response* response);

  const std::vector<std::string> config_servers_;
  const uint32_t timeout_ms_;
  IoThread io_;
};

}  // namespace tessera::mbench

#endif  // TESSERA_TOOLS_MIGRATION_BENCH_CLUSTER_ADMIN_H_
