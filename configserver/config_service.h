// ConfigService: the config server's RPCs and its one piece of mutable state (the
// membership, the published table, the admin membership changes).
//
// RPCs (every response, error or not, carries table_version = the published
// table's version, 0 before the first table):
//   get_table   the table when newer than known_version (no body otherwise);
//               UNAVAILABLE "no table yet" before the first table.
//   heartbeat   records the sender's heartbeat (address, table version, readiness,
//               stats); the response carries the table when newer than the
//               heartbeat's table_version. Non-members are recorded too (list_nodes
//               shows them) but never join the table. INVALID_ARGUMENT on a bad address.
//   list_nodes  every known server: address, UP/DOWN, member, ms since its last
//               heartbeat (since the config server started, for a server not heard
//               since), its table version, the copies and masters it holds, its stats.
//   admin       add_node / remove_node "host:port". The token must equal cluster.conf
//               admin_token (PERMISSION_DENIED); a bad address is INVALID_ARGUMENT;
//               adding a member or removing a non-member is a no-op (OK); removing
//               a member that would leave fewer members than copy_count is refused
//               (INVALID_ARGUMENT). The change is persisted before it is answered;
//               INTERNAL if it cannot be (the change is then undone).
//   anything else: INVALID_ARGUMENT.
//
// Tables. Whenever the membership or a member's UP/DOWN state changes, the table is
// rebuilt with BuildTable (the current assignment as input: few moves, a down member
// keeps its buckets, with copy_count > 1 a live replica replaces a down master). The
// table lists every member (sorted by address) with its state. If anything differs
// from the published table, the new table gets version + 1 and is persisted FIRST,
// then served; if it cannot be persisted it is not served (the rebuild is retried by
// Tick). No table is built until min_data_server_count members have sent a heartbeat.
//
// Versions are fencing tokens: they only grow, across restarts too (the version
// is persisted with the table before any server sees it). A standby config server
// (later) would mirror the primary's persisted ConfigServerState; on takeover it
// publishes its first table with a version above every version the old primary
// could have published (e.g. the mirrored version plus a safety margin, or the
// maximum version seen in heartbeats + 1), so data servers and clients, which accept
// only newer tables, ignore a stale primary that comes back.
//
// Thread-safe: Handle runs on the RPC io threads and Tick on the ticker; one mutex
// serializes them (persisting under it: tables change rarely).
#ifndef TESSERA_CONFIGSERVER_CONFIG_SERVICE_H_
#define TESSERA_CONFIGSERVER_CONFIG_SERVICE_H_

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/proto/cluster.pb.h"
#include "common/rpc_server.h"
#include "common/status.h"
#include "configserver/clock.h"
#include "configserver/membership.h"
#include "configserver/table_builder.h"
#include "configserver/table_store.h"

namespace tessera::cs {

struct ConfigServiceOptions {
  proto::ClusterConfig config;  // validated (ValidateClusterConfig)
  const Clock* clock = nullptr; // must outlive the service
  TableStore* store = nullptr;  // must outlive the service
  size_t max_non_members = 1024;
};

class ConfigService : public RpcService {
 public:
  explicit ConfigService(ConfigServiceOptions options);
  ~ConfigService() override;
  ConfigService(const ConfigService&) = delete;
  ConfigService& operator=(const ConfigService&) = delete;

  // Loads the persisted state, computes the members (cluster.conf data_servers +
  // added - removed), restores the table (members it marked DOWN start DOWN, the
  // others get a grace period) and rebuilds it if the config changed it. Errors: a
  // corrupt state file; a persisted table whose bucket_count or copy_count differs
  // from cluster.conf (InvalidArgument); a table that cannot be persisted.
  // REQUIRES: called once, before Handle and Tick.
  Status Init();

  void Handle(std::unique_ptr<ServerCall> call) override;

  // Down detection, and a retry of a rebuild that could not be persisted. Call every
  // ~100 ms.
  void Tick();

  // The published table (nullptr before the first one) and its version (0).
  std::shared_ptr<const proto::Table> table() const;
  uint64_t table_version() const;

  // The RPCs without the transport (Handle calls these; tests may too). Each fills
  // its response body; the returned status is the response code.
  Status GetTable(const proto::GetTableRequest& req, proto::GetTableResponse* resp);
  Status Heartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatResponse* resp);
  Status ListNodes(proto::ListNodesResponse* resp);
  Status Admin(const proto::AdminRequest& req, proto::AdminResponse* resp);

 private:
  uint64_t VersionLocked() const { return table_ ? table_->version() : 0; }
  std::vector<std::string> ComputeMembersLocked() const;
  // Rebuilds the table from the membership; persists (the table and the admin
  // changes, when either differs from what is on disk) and publishes. Sets dirty_
  // on failure so that Tick retries.
  Status PublishLocked(const std::string& reason);
  Status AddNodeLocked(const std::string& address);
  Status RemoveNodeLocked(const std::string& address);
  void LogTableLocked(const proto::Table& table, const Assignment& before,
                      const Assignment& after, const std::string& reason) const;

  // Constant after construction.
  const ConfigServiceOptions options_;

  mutable std::mutex mu_;
  // Protected by mu_:
  Membership membership_;
  std::set<std::string> added_;    // admin adds (not in cluster.conf)
  std::set<std::string> removed_;  // admin removes (of cluster.conf members)
  proto::ConfigServerState persisted_;          // what is on disk
  std::shared_ptr<const proto::Table> table_;   // published; same as persisted_.table
  Assignment assignment_;                       // table_ as an Assignment
  bool dirty_ = false;                          // a rebuild is pending
  uint64_t last_persist_error_log_ms_ = 0;
  bool initialized_ = false;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_CONFIG_SERVICE_H_
