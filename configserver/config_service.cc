#include "configserver/config_service.h"

#include "configserver/migration_plan.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <sstream>

namespace tessera::cs {
namespace {

uint64_t UnixNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
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
    PublishLockedTable();
    assignment_ = TableOwners(t);
    destination_ = TableDestination(t);
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
  // The plan inputs the persisted table was computed from: a restart with the same
  // members (and the same down members, restored above) keeps the plan.
  plan_members_.assign(persisted_.plan_members().begin(), persisted_.plan_members().end());
  if (persisted_.plan_down_recorded()) {
    plan_down_ = std::set<std::string>(persisted_.plan_down().begin(), persisted_.plan_down().end());
  } else {
    plan_down_ = membership_.DownMembers();
  }
  if (table_ && table_->destination_owners_size() > 0) {
    LOG(INFO) << "configserver: migration " << table_->migration_id() << " in progress: "
              << CountMoving(assignment_, destination_) << " of "
              << persisted_.migration_buckets_total() << " buckets still moving"
              << (table_->migration_paused() ? " (paused)" : "");
  }
  initialized_ = true;
  if (!table_) {
    LOG(INFO) << "configserver: " << members.size() << " members; waiting for "
              << conf.min_data_server_count() << " of them to heartbeat before the first table";
    return Status::OK();
  }
  return PublishLocked("start");
}

bool ConfigService::IsUpLocked(const std::string& address) const {
  const NodeState* n = membership_.Find(address);
  return n != nullptr && n->up;
}

Status ConfigService::PublishLocked(const std::string& reason, const Assignment* target_in) {
  dirty_ = false;
  const proto::ClusterConfig& conf = options_.config;
  proto::ConfigServerState next = persisted_;
  next.clear_added();
  next.clear_removed();
  for (const std::string& a : added_) next.add_added(a);
  for (const std::string& r : removed_) next.add_removed(r);

  const std::vector<std::string> members = membership_.Members();
  const std::set<std::string> down = membership_.DownMembers();
  const bool may_build =
      table_ != nullptr || membership_.HeardMemberCount() >= conf.min_data_server_count();
  if (!may_build) return CommitLocked(std::move(next), reason, plan_members_, plan_down_);
  if (members.size() < conf.copy_count()) {
    LOG(ERROR) << "configserver: only " << members.size() << " members for copy_count "
               << conf.copy_count() << ": cannot build a table";
    return Status::Unavailable("fewer members than copy_count");
  }

  const std::set<std::string> member_set(members.begin(), members.end());
  auto is_up = [&](const std::string& a) {
    return member_set.count(a) ? down.count(a) == 0 : IsUpLocked(a);
  };
  // The target layout: rebuilt when the plan inputs changed, else the running plan's
  // destination (or the owners: nothing to do).
  const bool inputs_changed = !table_ || members != plan_members_ || down != plan_down_ ||
                              (persisted_.rebuild_when_done() && !StillMovingLocked());
  Assignment owners = assignment_;
  Assignment target;
  // The DOWN members the resulting layout stands for.
  std::set<std::string> plan_down = down;
  bool kept = false;
  if (target_in != nullptr) {
    target = *target_in;
    // An edit of the running plan (move_bucket) does not change the inputs it
    // stands for.
    if (StillMovingLocked()) plan_down = plan_down_;
  } else if (inputs_changed && KeepsThePlanLocked(members, down)) {
    // Only nodes that neither send nor receive a moving bucket came or went: the
    // plan stands, under the same migration_id (an unrelated restart neither undoes
    // an operator's move_bucket nor restarts a bucket in flight), with a live copy
    // promoted where a master is down. It keeps the inputs it was built for, so
    // the layout is rebuilt once the migration is over if they changed meanwhile
    // (or if masters were promoted here).
    kept = true;
    target = destination_;
    if (PromoteUpCopies(is_up, &target) > 0) next.set_rebuild_when_done(true);
    plan_down = plan_down_;
  } else if (inputs_changed) {
    next.set_rebuild_when_done(false);
    BuildRequest req;
    req.bucket_count = conf.bucket_count();
    req.copy_count = conf.copy_count();
    req.members = members;
    req.down = down;
    req.current = table_ ? &assignment_ : nullptr;
    std::string error;
    if (!BuildTable(req, &target, &error)) {
      LOG(ERROR) << "configserver: cannot build a table: " << error;
      return Status::Internal("table build failed: " + error);
    }
    if (!table_) owners = target;  // the first table: nothing to move
  } else {
    target = destination_.empty() ? assignment_ : destination_;
  }
  ApplyPromotions(target, is_up, &owners);
  const uint32_t moving = CountMoving(owners, target);

  // Servers: every member and every node still holding a copy.
  std::map<std::string, bool> servers;
  for (const std::string& m : members) servers[m] = down.count(m) == 0;
  for (const Assignment* a : {&owners, &target}) {
    for (const auto& holders : a->servers) {
      for (const std::string& h : holders) {
        if (!servers.count(h)) servers[h] = is_up(h);
      }
    }
  }
  proto::Table t = MakeTable(owners, moving > 0 ? &target : nullptr, servers, conf);
  uint64_t id = table_ ? table_->migration_id() : 0;
  if (moving > 0) {
    const bool same_plan = MigratingLocked() && (kept || target == destination_);
    if (!same_plan) {
      ++id;
      next.set_migration_buckets_total(moving);
      next.set_migration_started_unix_ms(UnixNowMs());
    }
    t.set_migration_paused(table_ && table_->migration_paused());
  } else {
    next.set_migration_buckets_total(0);
    next.set_migration_started_unix_ms(0);
  }
  t.set_migration_id(id);
  if (table_ && SameExceptVersion(t, *table_)) {
    t.set_version(table_->version());
  } else {
    t.set_version(VersionLocked() + 1);
  }
  *next.mutable_table() = std::move(t);
  next.clear_plan_members();
  for (const std::string& m : members) next.add_plan_members(m);
  next.clear_plan_down();
  for (const std::string& d : plan_down) next.add_plan_down(d);
  next.set_plan_down_recorded(true);
  return CommitLocked(std::move(next), reason, members, plan_down);
}

bool ConfigService::StillMovingLocked() const {
  return MigratingLocked() && CountMoving(assignment_, destination_) > 0;
}

bool ConfigService::KeepsThePlanLocked(const std::vector<std::string>& members,
                                       const std::set<std::string>& down) const {
  if (!StillMovingLocked() || members != plan_members_) return false;
  std::set<std::string> changed;
  std::set_symmetric_difference(down.begin(), down.end(), plan_down_.begin(), plan_down_.end(),
                                std::inserter(changed, changed.end()));
  const std::set<std::string> involved = NodesOfMovingBuckets(assignment_, destination_);
  for (const std::string& node : changed) {
    if (involved.count(node)) return false;
  }
  return true;
}

Status ConfigService::CommitLocked(proto::ConfigServerState next, const std::string& reason,
                                   const std::vector<std::string>& members,
                                   const std::set<std::string>& down, bool quiet) {
  if (next.SerializeAsString() == persisted_.SerializeAsString()) {
    plan_members_ = members;
    plan_down_ = down;
    return Status::OK();
  }
  // Persist first: a table is served only once a restart would find it (or a newer one).
  Status s = options_.store->Save(next);
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
  plan_members_ = members;
  plan_down_ = down;
  const std::shared_ptr<const proto::Table> before = table_;
  const bool was_migrating = MigratingLocked();
  persisted_ = std::move(next);
  if (!persisted_.has_table() || (before && before->version() == persisted_.table().version())) {
    return Status::OK();
  }
  const proto::Table& t = persisted_.table();
  Assignment owners = TableOwners(t);
  if (quiet) {
    VLOG(1) << "configserver: table version " << t.version() << " (" << reason << ")";
  } else {
    LogTableLocked(t, assignment_, owners, reason);
  }
  table_ = std::make_shared<const proto::Table>(t);
  PublishLockedTable();
  assignment_ = std::move(owners);
  destination_ = TableDestination(t);
  const bool migrating = MigratingLocked();
  const uint64_t old_id = before ? before->migration_id() : 0;
  if (was_migrating && (!migrating || t.migration_id() != old_id)) {
    if (!migrating && CountMoving(assignment_, TableDestination(*before)) == 0) {
      LOG(INFO) << "configserver: migration " << old_id << " finished (table version "
                << t.version() << ")";
    } else if (!migrating) {
      LOG(INFO) << "configserver: migration " << old_id << " stopped (" << reason
                << "): nothing left to move under the new plan";
    } else {
      LOG(INFO) << "configserver: migration " << old_id << " replaced (" << reason << ")";
    }
  }
  if (migrating && (!was_migrating || t.migration_id() != old_id)) {
    LOG(INFO) << "configserver: migration " << t.migration_id() << " started (" << reason
              << "): " << persisted_.migration_buckets_total() << " buckets move"
              << (t.migration_paused() ? " (paused)" : "");
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
  std::lock_guard<std::mutex> l(published_mu_);
  return published_;
}

void ConfigService::PublishLockedTable() {
  std::lock_guard<std::mutex> l(published_mu_);
  published_ = table_;
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
    case proto::AdminRequest::kMoveBucket:
      s = MoveBucketLocked(req.move_bucket());
      break;
    case proto::AdminRequest::kPauseMigration:
      s = SetPausedLocked(true);
      break;
    case proto::AdminRequest::kResumeMigration:
      s = SetPausedLocked(false);
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

Status ConfigService::MoveBucketLocked(const proto::MoveBucket& move) {
  if (!table_) return Status::Unavailable("move_bucket: no table yet");
  if (move.bucket() >= table_->bucket_count()) {
    return Status::InvalidArgument("move_bucket: bucket " + std::to_string(move.bucket()) +
                                   " does not exist (bucket_count " +
                                   std::to_string(table_->bucket_count()) + ")");
  }
  std::string to;
  Status s = CanonicalAddress(move.to(), &to);
  if (!s.ok()) return Status::InvalidArgument("move_bucket: bad address: " + s.message());
  if (!membership_.IsMember(to)) {
    return Status::InvalidArgument("move_bucket: " + to + " is not a member");
  }
  if (!IsUpLocked(to)) return Status::InvalidArgument("move_bucket: " + to + " is down");
  Assignment target = MigratingLocked() ? destination_ : assignment_;
  if (!SetMaster(&target, move.bucket(), to)) return Status::OK();  // already planned
  const std::string reason = "move bucket " + std::to_string(move.bucket()) + " to " + to;
  s = PublishLocked(reason, &target);
  if (!s.ok()) return Status::Internal("move_bucket: " + s.message());
  LOG(INFO) << "configserver: admin: " << reason;
  return Status::OK();
}

Status ConfigService::SetPausedLocked(bool paused) {
  if (!MigratingLocked()) {
    if (!paused) return Status::OK();
    return Status::InvalidArgument("pause: no migration is running");
  }
  if (table_->migration_paused() == paused) return Status::OK();
  proto::ConfigServerState next = persisted_;
  next.mutable_table()->set_migration_paused(paused);
  next.mutable_table()->set_version(table_->version() + 1);
  const std::string reason = std::string(paused ? "pause" : "resume") + " migration " +
                             std::to_string(table_->migration_id());
  Status s = CommitLocked(std::move(next), reason, plan_members_, plan_down_);
  if (!s.ok()) return Status::Internal(reason + ": " + s.message());
  LOG(INFO) << "configserver: admin: " << reason;
  return Status::OK();
}

Status ConfigService::BucketDone(uint64_t table_version, const proto::BucketDoneRequest& req,
                                 proto::BucketDoneResponse* resp) {
  std::string source;
  Status s = CanonicalAddress(req.source(), &source);
  if (!s.ok()) return Status::InvalidArgument("bucket_done: bad source address: " + s.message());
  std::lock_guard<std::mutex> l(mu_);
  if (!initialized_) return Status::Unavailable("config server starting");
  if (!table_) return Status::Unavailable("no table yet");
  *resp->mutable_table() = *table_;
  const uint32_t b = req.bucket();
  const std::string what = "bucket_done " + std::to_string(b) + " from " + source;
  if (table_version != table_->version()) {
    return Status::StaleTable(what + ": stamped with table version " +
                              std::to_string(table_version) + ", current is " +
                              std::to_string(table_->version()));
  }
  if (!MigratingLocked()) return Status::InvalidArgument(what + ": no migration is running");
  if (req.migration_id() != table_->migration_id()) {
    return Status::InvalidArgument(what + ": migration " + std::to_string(req.migration_id()) +
                                   " is not the current one (" +
                                   std::to_string(table_->migration_id()) + ")");
  }
  if (b >= table_->bucket_count()) return Status::InvalidArgument(what + ": no such bucket");
  if (assignment_.servers[b] == destination_.servers[b]) {
    return Status::InvalidArgument(what + ": the bucket is not moving");
  }
  if (assignment_.servers[b][0] != source) {
    return Status::WrongOwner(what + ": the bucket is mastered by " + assignment_.servers[b][0]);
  }
  const uint32_t total = persisted_.migration_buckets_total();
  const uint32_t moving_before = CountMoving(assignment_, destination_);
  const uint64_t id = table_->migration_id();
  proto::ConfigServerState next = persisted_;
  proto::Table* t = next.mutable_table();
  const uint32_t copies = t->copy_count();
  for (uint32_t c = 0; c < copies; ++c) {
    const int i = static_cast<int>(b * copies + c);
    t->set_owners(i, t->destination_owners(i));
  }
  t->set_version(t->version() + 1);
  s = CommitLocked(std::move(next), what, plan_members_, plan_down_, /*quiet=*/true);
  if (!s.ok()) return Status::Internal(what + ": " + s.message());
  const uint32_t moving = moving_before - 1;
  const uint32_t done_before = total > moving_before ? total - moving_before : 0;
  const uint32_t done = total > moving ? total - moving : 0;
  if (total > 0 && (done * 10 / total != done_before * 10 / total || moving == 0)) {
    LOG(INFO) << "configserver: migration " << id << ": " << done << "/" << total
              << " buckets done (" << (done * 100 / total) << "%)";
  }
  if (moving == 0) {
    // Clear the plan (another version); if that cannot be persisted Tick retries.
    PublishLocked("migration " + std::to_string(id) + " done").IgnoreError();
  }
  *resp->mutable_table() = *table_;
  return Status::OK();
}

Status ConfigService::MigrationStatus(proto::MigrationStatusResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  if (!table_) return Status::OK();
  resp->set_migration_id(table_->migration_id());
  if (!MigratingLocked()) return Status::OK();
  resp->set_migrating(true);
  resp->set_paused(table_->migration_paused());
  const uint32_t moving = CountMoving(assignment_, destination_);
  const uint32_t total = std::max(persisted_.migration_buckets_total(), moving);
  resp->set_buckets_total(total);
  resp->set_buckets_done(total - moving);
  resp->set_started_unix_ms(persisted_.migration_started_unix_ms());
  constexpr int kMaxInFlight = 4096;  // heartbeats come from the network: bound the answer
  uint64_t keys = 0, bytes = 0;
  for (const NodeState& n : membership_.Nodes()) {
    const proto::MigrationStats& m = n.stats.migration();
    if (m.migration_id() != table_->migration_id()) continue;
    keys += m.keys_sent();
    bytes += m.bytes_sent();
    for (const proto::BucketMigration& bm : m.in_flight()) {
      if (resp->in_flight_size() >= kMaxInFlight) break;
      *resp->add_in_flight() = bm;
    }
  }
  resp->set_keys_sent(keys);
  resp->set_bytes_sent(bytes);
  return Status::OK();
}

void ConfigService::Handle(std::unique_ptr<ServerCall> call) {
  const proto::Request& req = call->request();
  proto::Response resp;
  Status s;
  bool with_body = false;
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
    case proto::Request::kBucketDone:
      s = BucketDone(req.table_version(), req.bucket_done(), resp.mutable_bucket_done());
      with_body = true;  // the current table, also with an error (STALE_TABLE)
      break;
    case proto::Request::kMigrationStatus:
      s = MigrationStatus(resp.mutable_migration_status());
      break;
    default:
      s = Status::InvalidArgument("not a config server request");
      break;
  }
  const uint64_t version = table_version();
  if (!s.ok() && !with_body) {
    call->ReplyError(s, version);
    return;
  }
  resp.set_code(static_cast<proto::Code>(static_cast<int>(s.code())));
  if (!s.ok()) resp.set_message(s.message());
  resp.set_table_version(version);
  call->Reply(&resp);
}

}  // namespace tessera::cs
