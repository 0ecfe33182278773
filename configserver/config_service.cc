#include "configserver/config_service.h"

#include <glog/logging.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace tessera::cs {
namespace {

// Reads a validated table into an Assignment.
Assignment ToAssignment(const proto::Table& table) {
  Assignment a;
  a.bucket_count = table.bucket_count();
  a.copy_count = table.copy_count();
  a.servers.resize(a.bucket_count);
  const size_t copies = a.copy_count;
  for (uint32_t b = 0; b < a.bucket_count; ++b) {
    a.servers[b].reserve(copies);
    for (size_t c = 0; c < copies; ++c) {
      const uint32_t index = table.owners(static_cast<int>(b * copies + c));
      a.servers[b].push_back(table.servers(static_cast<int>(index)).address());
    }
  }
  return a;
}

// The table for `a`: servers = `members` (sorted) with their states.
proto::Table ToTable(const Assignment& a, const std::vector<std::string>& members,
                     const std::set<std::string>& down, const proto::ClusterConfig& config) {
  proto::Table t;
  t.set_bucket_count(a.bucket_count);
  t.set_copy_count(a.copy_count);
  t.set_cluster_name(config.cluster_name());
  *t.mutable_area_quotas() = config.area_quotas();
  std::map<std::string, uint32_t> index;
  for (const std::string& m : members) {
    proto::TableServer* s = t.add_servers();
    s->set_address(m);
    s->set_state(down.count(m) ? proto::SERVER_DOWN : proto::SERVER_UP);
    index[m] = static_cast<uint32_t>(index.size());
  }
  t.mutable_owners()->Reserve(static_cast<int>(a.bucket_count * a.copy_count));
  for (const auto& holders : a.servers) {
    for (const std::string& h : holders) t.add_owners(index.at(h));
  }
  return t;
}

bool SameExceptVersion(const proto::Table& x, const proto::Table& y) {
  proto::Table a = x, b = y;
  a.set_version(0);
  b.set_version(0);
  return a.SerializeAsString() == b.SerializeAsString();
}

bool TokenMatches(const std::string& given, const std::string& expected) {
  // Constant time in the token's contents.
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return diff == 0;
}

}  // namespace

ConfigService::ConfigService(ConfigServiceOptions options)
    : options_(std::move(options)),
      membership_(Membership::Options{options_.config.server_down_time_ms(),
                                      options_.max_non_members, 4096},
                  options_.clock) {}

ConfigService::~ConfigService() = default;

std::vector<std::string> ConfigService::ComputeMembersLocked() const {
  std::set<std::string> members;
  for (const std::string& s : options_.config.data_servers()) {
    std::string canonical;
    if (CanonicalAddress(s, &canonical).ok()) members.insert(canonical);
  }
  members.insert(added_.begin(), added_.end());
  for (const std::string& r : removed_) members.erase(r);
  return {members.begin(), members.end()};
}

Status ConfigService::Init() {
  std::lock_guard<std::mutex> l(mu_);
  CHECK(!initialized_) << "ConfigService::Init called twice";
  bool found = false;
  Status s = options_.store->Load(&persisted_, &found);
  if (!s.ok()) return s;
  const proto::ClusterConfig& conf = options_.config;
  const std::string path = options_.store->state_path();
  for (const std::string& a : persisted_.added()) {
    std::string canonical;
    if (!CanonicalAddress(a, &canonical).ok()) {
      return Status::Internal("corrupt config server state " + path + ": bad added member " + a);
    }
    added_.insert(canonical);
  }
  for (const std::string& r : persisted_.removed()) {
    std::string canonical;
    if (!CanonicalAddress(r, &canonical).ok()) {
      return Status::Internal("corrupt config server state " + path + ": bad removed member " + r);
    }
    removed_.insert(canonical);
  }
  std::set<std::string> start_down;
  if (persisted_.has_table()) {
    const proto::Table& t = persisted_.table();
    if (t.bucket_count() != conf.bucket_count() || t.copy_count() != conf.copy_count()) {
      return Status::InvalidArgument(
          "the persisted table in " + path + " has bucket_count " +
          std::to_string(t.bucket_count()) + " and copy_count " + std::to_string(t.copy_count()) +
          " but cluster.conf says " + std::to_string(conf.bucket_count()) + " and " +
          std::to_string(conf.copy_count()) +
          " (these cannot change on a running cluster; fix cluster.conf)");
    }
    for (const proto::TableServer& server : t.servers()) {
      if (server.state() == proto::SERVER_DOWN) start_down.insert(server.address());
    }
    table_ = std::make_shared<const proto::Table>(t);
    assignment_ = ToAssignment(t);
    LOG(INFO) << "configserver: restored table version " << t.version() << " from " << path;
  } else {
    LOG(INFO) << "configserver: no table in " << path << (found ? "" : " (fresh start)");
  }
  const std::vector<std::string> members = ComputeMembersLocked();
  if (table_) {
    std::set<std::string> now(members.begin(), members.end());
    for (const proto::TableServer& server : table_->servers()) {
      if (!now.count(server.address())) {
        LOG(WARNING) << "configserver: " << server.address()
                     << " is in the persisted table but no longer a member (removed from "
                        "cluster.conf): its buckets will be reassigned";
      }
    }
  }
  membership_.Reset(members, start_down);
  initialized_ = true;
  if (!table_) {
    LOG(INFO) << "configserver: " << members.size() << " members; waiting for "
              << conf.min_data_server_count() << " of them to heartbeat before the first table";
    return Status::OK();
  }
  return PublishLocked("start");
}

Status ConfigService::PublishLocked(const std::string& reason) {
  dirty_ = false;
  const proto::ClusterConfig& conf = options_.config;
  proto::ConfigServerState next_state;
  for (const std::string& a : added_) next_state.add_added(a);
  for (const std::string& r : removed_) next_state.add_removed(r);

  std::shared_ptr<const proto::Table> next_table = table_;
  Assignment next_assignment;
  const bool may_build =
      table_ != nullptr || membership_.HeardMemberCount() >= conf.min_data_server_count();
  if (may_build) {
    const std::vector<std::string> members = membership_.Members();
    const std::set<std::string> down = membership_.DownMembers();
    if (members.size() < conf.copy_count()) {
      LOG(ERROR) << "configserver: only " << members.size() << " members for copy_count "
                 << conf.copy_count() << ": cannot build a table";
      return Status::Unavailable("fewer members than copy_count");
    }
    BuildRequest req;
    req.bucket_count = conf.bucket_count();
    req.copy_count = conf.copy_count();
    req.members = members;
    req.down = down;
    req.current = table_ ? &assignment_ : nullptr;
    std::string error;
    if (!BuildTable(req, &next_assignment, &error)) {
      LOG(ERROR) << "configserver: cannot build a table: " << error;
      return Status::Internal("table build failed: " + error);
    }
    proto::Table t = ToTable(next_assignment, members, down, conf);
    if (!table_ || !SameExceptVersion(t, *table_)) {
      t.set_version(VersionLocked() + 1);
      next_table = std::make_shared<const proto::Table>(std::move(t));
    }
  }
  if (next_table) *next_state.mutable_table() = *next_table;
  const bool table_changed = next_table != table_;
  const bool membership_changed = next_state.added_size() != persisted_.added_size() ||
                                  next_state.removed_size() != persisted_.removed_size() ||
                                  !std::equal(next_state.added().begin(), next_state.added().end(),
                                              persisted_.added().begin()) ||
                                  !std::equal(next_state.removed().begin(),
                                              next_state.removed().end(),
                                              persisted_.removed().begin());
  if (!table_changed && !membership_changed) return Status::OK();

  // Persist first: a table is served only once a restart would find it (or a newer one).
  Status s = options_.store->Save(next_state);
  if (!s.ok()) {
    // Tick retries every ~100 ms: log once a second, not at every retry.
    const uint64_t now = options_.clock->NowMs();
    if (last_persist_error_log_ms_ == 0 || now - last_persist_error_log_ms_ >= 1000) {
      last_persist_error_log_ms_ = now;
      LOG(ERROR) << "configserver: cannot persist the state (" << reason
                 << "); not publishing: " << s.ToString();
    }
    dirty_ = true;
    return s;
  }
  last_persist_error_log_ms_ = 0;
  persisted_ = std::move(next_state);
  if (table_changed) {
    LogTableLocked(*next_table, assignment_, next_assignment, reason);
    table_ = next_table;
    assignment_ = std::move(next_assignment);
  }
  return Status::OK();
}

void ConfigService::LogTableLocked(const proto::Table& table, const Assignment& before,
                                   const Assignment& after, const std::string& reason) const {
  std::map<std::string, std::pair<uint32_t, uint32_t>> counts;  // copies, masters
  for (const auto& holders : after.servers) {
    for (size_t c = 0; c < holders.size(); ++c) {
      auto& entry = counts[holders[c]];
      ++entry.first;
      if (c == 0) ++entry.second;
    }
  }
  std::ostringstream out;
  out << "configserver: table version " << table.version() << " (" << reason << "): ";
  for (const proto::TableServer& s : table.servers()) {
    const auto& entry = counts[s.address()];
    out << s.address() << " " << (s.state() == proto::SERVER_UP ? "UP" : "DOWN") << " "
        << entry.first << " buckets " << entry.second << " masters; ";
  }
  if (before.empty()) {
    out << "first table";
  } else {
    out << CountChangedBuckets(before, after) << " buckets change holders, "
        << CountMasterChanges(before, after) << " change master";
  }
  LOG(INFO) << out.str();
}

std::shared_ptr<const proto::Table> ConfigService::table() const {
  std::lock_guard<std::mutex> l(mu_);
  return table_;
}

uint64_t ConfigService::table_version() const {
  std::lock_guard<std::mutex> l(mu_);
  return VersionLocked();
}

void ConfigService::Tick() {
  std::lock_guard<std::mutex> l(mu_);
  if (!initialized_) return;
  const bool changed = membership_.CheckTimeouts();
  if (changed || dirty_) PublishLocked(changed ? "member down" : "retry").IgnoreError();
}

Status ConfigService::GetTable(const proto::GetTableRequest& req, proto::GetTableResponse* resp) {
  std::shared_ptr<const proto::Table> t = table();
  if (!t) return Status::Unavailable("no table yet");
  if (t->version() > req.known_version()) *resp->mutable_table() = *t;
  return Status::OK();
}

Status ConfigService::Heartbeat(const proto::HeartbeatRequest& req,
                                proto::HeartbeatResponse* resp) {
  std::string address;
  Status s = CanonicalAddress(req.address(), &address);
  if (!s.ok()) return Status::InvalidArgument("heartbeat: bad address: " + s.message());
  std::shared_ptr<const proto::Table> t;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!initialized_) return Status::Unavailable("config server starting");
    const NodeState* before = membership_.Find(address);
    const bool first = before == nullptr || !before->heard;
    const bool changed = membership_.RecordHeartbeat(address, req);
    VLOG(2) << "configserver: heartbeat from " << address << " version " << req.table_version()
            << (req.ready() ? " ready" : " not ready");
    if (changed || (first && !table_ && membership_.IsMember(address))) {
      PublishLocked(changed ? "member up" : "heartbeat").IgnoreError();
    }
    t = table_;
  }
  if (t && t->version() > req.table_version()) *resp->mutable_table() = *t;
  return Status::OK();
}

Status ConfigService::ListNodes(proto::ListNodesResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, std::pair<uint32_t, uint32_t>> counts;  // copies, masters
  for (const auto& holders : assignment_.servers) {
    for (size_t c = 0; c < holders.size(); ++c) {
      auto& entry = counts[holders[c]];
      ++entry.first;
      if (c == 0) ++entry.second;
    }
  }
  const uint64_t now = membership_.now_ms();
  for (const NodeState& n : membership_.Nodes()) {
    proto::NodeInfo* info = resp->add_nodes();
    info->set_address(n.address);
    info->set_state(n.up ? proto::SERVER_UP : proto::SERVER_DOWN);
    info->set_member(n.member);
    info->set_last_heartbeat_ms_ago(now > n.last_heard_ms ? now - n.last_heard_ms : 0);
    info->set_table_version(n.table_version);
    auto it = counts.find(n.address);
    if (it != counts.end()) {
      info->set_buckets(it->second.first);
      info->set_masters(it->second.second);
    }
    *info->mutable_stats() = n.stats;
  }
  resp->set_table_version(VersionLocked());
  return Status::OK();
}

Status ConfigService::Admin(const proto::AdminRequest& req, proto::AdminResponse* resp) {
  if (!TokenMatches(req.token(), options_.config.admin_token())) {
    return Status::PermissionDenied("admin: wrong admin token");
  }
  std::string address;
  Status s;
  std::lock_guard<std::mutex> l(mu_);
  if (!initialized_) return Status::Unavailable("config server starting");
  switch (req.op_case()) {
    case proto::AdminRequest::kAddNode:
      s = CanonicalAddress(req.add_node(), &address);
      if (!s.ok()) return Status::InvalidArgument("add_node: bad address: " + s.message());
      s = AddNodeLocked(address);
      break;
    case proto::AdminRequest::kRemoveNode:
      s = CanonicalAddress(req.remove_node(), &address);
      if (!s.ok()) return Status::InvalidArgument("remove_node: bad address: " + s.message());
      s = RemoveNodeLocked(address);
      break;
    default:
      return Status::InvalidArgument("admin: no operation");
  }
  resp->set_table_version(VersionLocked());
  return s;
}

Status ConfigService::AddNodeLocked(const std::string& address) {
  if (membership_.IsMember(address)) return Status::OK();
  const bool was_removed = removed_.erase(address) > 0;
  bool in_conf = false;
  for (const std::string& c : options_.config.data_servers()) {
    std::string canonical;
    if (CanonicalAddress(c, &canonical).ok() && canonical == address) in_conf = true;
  }
  const bool was_added = !in_conf && added_.insert(address).second;
  membership_.AddMember(address);
  Status s = PublishLocked("add " + address);
  if (!s.ok()) {
    // Not persisted: undo, so that memory and disk agree (Tick retries the rest).
    membership_.RemoveMember(address);
    if (was_removed) removed_.insert(address);
    if (was_added) added_.erase(address);
    dirty_ = true;
    return Status::Internal("add_node " + address + ": " + s.message());
  }
  LOG(INFO) << "configserver: admin added member " << address;
  return Status::OK();
}

Status ConfigService::RemoveNodeLocked(const std::string& address) {
  if (!membership_.IsMember(address)) return Status::OK();
  const uint32_t copy_count = options_.config.copy_count();
  if (membership_.MemberCount() <= 1 || membership_.MemberCount() - 1 < copy_count) {
    return Status::InvalidArgument("remove_node " + address + ": would leave " +
                                   std::to_string(membership_.MemberCount() - 1) +
                                   " members, fewer than copy_count " +
                                   std::to_string(copy_count));
  }
  const bool was_added = added_.erase(address) > 0;
  const bool was_removed = !was_added && removed_.insert(address).second;
  membership_.RemoveMember(address);
  Status s = PublishLocked("remove " + address);
  if (!s.ok()) {
    membership_.AddMember(address);
    if (was_added) added_.insert(address);
    if (was_removed) removed_.erase(address);
    dirty_ = true;
    return Status::Internal("remove_node " + address + ": " + s.message());
  }
  LOG(INFO) << "configserver: admin removed member " << address;
  return Status::OK();
}

void ConfigService::Handle(std::unique_ptr<ServerCall> call) {
  const proto::Request& req = call->request();
  proto::Response resp;
  Status s;
  switch (req.body_case()) {
    case proto::Request::kGetTable:
      s = GetTable(req.get_table(), resp.mutable_get_table());
      break;
    case proto::Request::kHeartbeat:
      s = Heartbeat(req.heartbeat(), resp.mutable_heartbeat());
      break;
    case proto::Request::kListNodes:
      s = ListNodes(resp.mutable_list_nodes());
      break;
    case proto::Request::kAdmin:
      s = Admin(req.admin(), resp.mutable_admin());
      break;
    default:
      s = Status::InvalidArgument("not a config server request");
      break;
  }
  const uint64_t version = table_version();
  if (!s.ok()) {
    call->ReplyError(s, version);
    return;
  }
  resp.set_code(proto::OK);
  resp.set_table_version(version);
  call->Reply(&resp);
}

}  // namespace tessera::cs
