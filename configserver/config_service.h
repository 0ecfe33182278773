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
//               shows them) but never become members. INVALID_ARGUMENT on a bad address.
//   list_nodes  every known server: address, UP/DOWN, member, ms since its last
//               heartbeat (since the config server started, for a server not heard
//               since), its table version, the copies and masters it holds, its stats.
//   admin       add_node / remove_node "host:port", move_bucket {bucket, to},
//               pause_migration, resume_migration. The token must equal cluster.conf
//               admin_token (PERMISSION_DENIED); a bad address is INVALID_ARGUMENT;
//               adding a member or removing a non-member is a no-op (OK); removing
//               a member that would leave fewer members than copy_count is refused
//               (INVALID_ARGUMENT). move_bucket: the bucket must exist and `to` be an
//               UP member (INVALID_ARGUMENT); OK no-op when `to` is already its
//               (planned) master. pause with no migration running is
//               INVALID_ARGUMENT; pausing a paused / resuming a running one is a
//               no-op. Every change is persisted before it is answered; INTERNAL if
//               it cannot be (the change is then undone).
//   bucket_done a source reports a bucket migrated (after its fenced drain). See
//               "Migration" below. The answer always carries the current table
//               (also with STALE_TABLE, so that the source can adopt it).
//   migration_status  migrating, paused, migration_id, buckets_total (moving when
//               the plan was made; persisted), buckets_done (total - still moving),
//               the sources' in-flight buckets and keys/bytes sent (summed from the
//               latest heartbeats' ServerStats.migration of this migration_id), the
//               plan's start time.
//   anything else: INVALID_ARGUMENT.
//
// Tables. The layout (owners) never jumps: membership changes are MIGRATIONS. When
// the plan inputs change (the member set: admin add/remove, a cluster.conf reloaded
// at restart; or a member's UP/DOWN state; but see "a member that neither holds nor
// receives a moving bucket" below), the target layout is rebuilt with
// BuildTable (the current owners as input: fewest moves; a down member keeps its
// buckets and gets no new copy, with copy_count > 1 a live replica is promoted).
// What moves no data is applied to owners at once: a bucket whose holders are the
// same set takes the target's order, and a bucket whose master is not UP gets its
// target master promoted when that node already holds an UP replica. If some bucket
// still differs, the table gets destination_owners = target and, when the target
// differs from the running plan's destination, a new migration_id (ids only grow);
// owners are unchanged. If nothing differs, no migration: just the state change.
// Without a change of inputs the running plan is kept as it is (a restart with the
// same members carries on with the same migration_id; the plan inputs, the members,
// are persisted with it). move_bucket edits the destination (the running plan's, or
// the owners when none runs) for one bucket, under a new migration_id; a later
// change of inputs rebuilds from the owners and may undo it (the builder balances).
// The table lists every member (sorted by address) and every node still holding a
// copy in owners (a removed node stays a source until its buckets left), with
// UP/DOWN (a non-member: UP while it heartbeats).
//
// Migration (migration/README.md). bucket_done(source, b, migration_id), stamped
// with the source's table version (Request.table_version), is accepted only when
// that version is the current one (else STALE_TABLE), a migration runs with that id
// (else INVALID_ARGUMENT), b exists and still moves (else INVALID_ARGUMENT), and
// the source is b's current master (else WRONG_OWNER). Then owners[b] :=
// destination_owners[b] with version + 1, persisted before the OK answer. When no
// bucket moves any more, destination_owners is cleared in another version and
// "migration N finished" is logged. Start, every 10% of progress and the finish are
// logged. Paused migrations still accept bucket_done (sources finish what is in
// flight). The paused flag survives a replan; a finished migration clears it.
//
// A member that goes DOWN during a migration (or comes back UP) changes the plan
// inputs: the plan is rebuilt from the current owners (flipped buckets stay
// flipped). A down destination is thus excluded (BuildTable gives a down node no
// new copy), and a down source keeps the buckets it masters (copy_count 1: it
// cannot send them; with copy_count > 1 an UP replica is promoted and becomes the
// source). The new plan gets a new migration_id when its destination differs, so
// sources drop work for buckets whose plan changed. A member that neither holds nor
// receives a moving bucket changes nothing while buckets still move: the plan stands
// under the same migration_id (with an UP copy promoted where its master is down, as
// BuildTable would), so a restart of an unrelated node neither undoes a move_bucket
// nor restarts a bucket in flight. Such a plan keeps the inputs it was built for
// (plan_down): once no bucket moves any more, the layout is rebuilt if they differ
// from the current ones, or if masters were promoted (rebuild_when_done). A removed
// node that goes down while still holding buckets stays their source (with
// copy_count 1 nothing else holds the data): those buckets wait for it.
//
// Persisted state (ConfigServerState): the table (owners = progress, destination,
// migration_id, paused), the admin changes, the plan's members and DOWN members,
// rebuild_when_done, buckets_total and start time. Every new table is persisted
// before it is served.
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
  // table() never waits for mu_, which is held while a new state is persisted (an
  // fsync, up to tens of ms): clients refreshing their table after a flip, which
  // come in bursts during a migration, are answered meanwhile.
  std::shared_ptr<const proto::Table> table() const;
  uint64_t table_version() const;

  // The RPCs without the transport (Handle calls these; tests may too). Each fills
  // its response body; the returned status is the response code.
  Status GetTable(const proto::GetTableRequest& req, proto::GetTableResponse* resp);
  Status Heartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatResponse* resp);
  Status ListNodes(proto::ListNodesResponse* resp);
  Status Admin(const proto::AdminRequest& req, proto::AdminResponse* resp);
  // `table_version` is the request envelope's (the source's table version).
  Status BucketDone(uint64_t table_version, const proto::BucketDoneRequest& req,
                    proto::BucketDoneResponse* resp);
  Status MigrationStatus(proto::MigrationStatusResponse* resp);

 private:
  uint64_t VersionLocked() const { return table_ ? table_->version() : 0; }
  bool MigratingLocked() const { return table_ && table_->destination_owners_size() > 0; }
  // A migration runs and some bucket has not flipped yet.
  bool StillMovingLocked() const;
  std::vector<std::string> ComputeMembersLocked() const;
  // Recomputes the table from the membership (see "Tables"); `target`, when set,
  // is the destination to plan (move_bucket) instead of a rebuild. Persists and
  // publishes through CommitLocked. Sets dirty_ on failure so that Tick retries.
  Status PublishLocked(const std::string& reason, const Assignment* target = nullptr);
  // Whether a change of the plan inputs to (members, down) leaves the running plan
  // as it is: a migration still moves buckets, the members are the plan's, and no
  // node whose UP/DOWN state changed holds or receives a moving bucket.
  bool KeepsThePlanLocked(const std::vector<std::string>& members,
                          const std::set<std::string>& down) const;
  // Persists `next` (when it differs from what is on disk) and publishes its table;
  // `members` / `down` are the plan inputs it was computed from. `quiet`: the new
  // table is logged at VLOG(1) instead of INFO (bucket flips).
  Status CommitLocked(proto::ConfigServerState next, const std::string& reason,
                      const std::vector<std::string>& members, const std::set<std::string>& down,
                      bool quiet = false);
  bool IsUpLocked(const std::string& address) const;
  Status AddNodeLocked(const std::string& address);
  Status RemoveNodeLocked(const std::string& address);
  Status MoveBucketLocked(const proto::MoveBucket& move);
  Status SetPausedLocked(bool paused);
  // Copies table_ to published_ (table()). mu_ held.
  void PublishLockedTable();
  void LogTableLocked(const proto::Table& table, const Assignment& before,
                      const Assignment& after, const std::string& reason) const;

  // Constant after construction.
  const ConfigServiceOptions options_;

  // A copy of table_ for table(), set under mu_ then published_mu_ (a leaf lock).
  mutable std::mutex published_mu_;
  std::shared_ptr<const proto::Table> published_;  // guarded by published_mu_

  mutable std::mutex mu_;
  // Protected by mu_:
  Membership membership_;
  std::set<std::string> added_;    // admin adds (not in cluster.conf)
  std::set<std::string> removed_;  // admin removes (of cluster.conf members)
  proto::ConfigServerState persisted_;          // what is on disk
  std::shared_ptr<const proto::Table> table_;   // published; same as persisted_.table
  Assignment assignment_;                       // table_'s owners
  Assignment destination_;                      // table_'s destination (empty: none)
  std::vector<std::string> plan_members_;       // the inputs table_ was computed from
  std::set<std::string> plan_down_;
  bool dirty_ = false;                          // a rebuild is pending
  uint64_t last_persist_error_log_ms_ = 0;
  bool initialized_ = false;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_CONFIG_SERVICE_H_
