#include "configserver/membership.h"

#include <glog/logging.h>

#include "common/address.h"

namespace tessera::cs {

Status CanonicalAddress(std::string_view text, std::string* out) {
  HostPort hp;
  Status s = ParseHostPort(text, &hp);
  if (!s.ok()) return s;
  *out = hp.ToString();
  return Status::OK();
}

Membership::Membership(Options options, const Clock* clock)
    : options_(options), clock_(clock) {}

void Membership::Reset(const std::vector<std::string>& members,
                       const std::set<std::string>& start_down) {
  nodes_.clear();
  member_count_ = 0;
  const uint64_t now = clock_->NowMs();
  for (const std::string& address : members) {
    NodeState& n = nodes_[address];
    if (n.member) continue;  // listed twice
    n.address = address;
    n.member = true;
    n.up = start_down.count(address) == 0;
    // A member starting DOWN is not given a grace period: it stays down until heard.
    n.last_heard_ms = n.up ? now : 0;
    ++member_count_;
  }
}

bool Membership::RecordHeartbeat(const std::string& address,
                                 const proto::HeartbeatRequest& heartbeat) {
  auto it = nodes_.find(address);
  if (it == nodes_.end()) {
    it = nodes_.emplace(address, NodeState{}).first;
    it->second.address = address;
  }
  NodeState& n = it->second;
  n.heard = true;
  n.last_heard_ms = clock_->NowMs();
  n.table_version = heartbeat.table_version();
  n.ready = heartbeat.ready();
  n.stats = heartbeat.stats();
  if (static_cast<size_t>(n.stats.areas_size()) > options_.max_stats_areas) {
    n.stats.mutable_areas()->DeleteSubrange(
        static_cast<int>(options_.max_stats_areas),
        n.stats.areas_size() - static_cast<int>(options_.max_stats_areas));
  }
  const bool was_up = n.up;
  n.up = true;
  if (!n.member) {
    EvictNonMembers();
    return false;
  }
  if (!was_up) LOG(INFO) << "configserver: member " << address << " is UP (heartbeat)";
  return !was_up;
}

bool Membership::CheckTimeouts() {
  const uint64_t now = clock_->NowMs();
  bool changed = false;
  for (auto& [address, n] : nodes_) {
    if (!n.up) continue;
    const uint64_t silent = now > n.last_heard_ms ? now - n.last_heard_ms : 0;
    if (silent < options_.server_down_time_ms) continue;
    n.up = false;
    if (n.member) {
      changed = true;
      LOG(INFO) << "configserver: member " << address << " is DOWN (silent for " << silent
                << " ms" << (n.heard ? "" : ", never heard since start") << ")";
    }
  }
  return changed;
}

bool Membership::AddMember(const std::string& address) {
  auto it = nodes_.find(address);
  if (it != nodes_.end() && it->second.member) return false;
  if (it == nodes_.end()) {
    it = nodes_.emplace(address, NodeState{}).first;
    it->second.address = address;
  }
  NodeState& n = it->second;
  n.member = true;
  ++member_count_;
  if (!n.heard) {
    // Never heard: a grace period from now, as at start. A server heard before keeps
    // its state (UP while it heartbeats, DOWN if it went silent).
    n.up = true;
    n.last_heard_ms = clock_->NowMs();
  }
  return true;
}

bool Membership::RemoveMember(const std::string& address) {
  auto it = nodes_.find(address);
  if (it == nodes_.end() || !it->second.member) return false;
  --member_count_;
  if (!it->second.heard) {
    nodes_.erase(it);  // nothing to show for it
  } else {
    it->second.member = false;
    EvictNonMembers();
  }
  return true;
}

bool Membership::IsMember(const std::string& address) const {
  auto it = nodes_.find(address);
  return it != nodes_.end() && it->second.member;
}

std::vector<std::string> Membership::Members() const {
  std::vector<std::string> out;
  out.reserve(member_count_);
  for (const auto& [address, n] : nodes_) {
    if (n.member) out.push_back(address);
  }
  return out;
}

std::set<std::string> Membership::DownMembers() const {
  std::set<std::string> out;
  for (const auto& [address, n] : nodes_) {
    if (n.member && !n.up) out.insert(address);
  }
  return out;
}

size_t Membership::HeardMemberCount() const {
  size_t count = 0;
  for (const auto& [address, n] : nodes_) {
    if (n.member && n.heard) ++count;
  }
  return count;
}

std::vector<NodeState> Membership::Nodes() const {
  std::vector<NodeState> out;
  out.reserve(nodes_.size());
  for (const auto& [address, n] : nodes_) out.push_back(n);
  return out;
}

const NodeState* Membership::Find(const std::string& address) const {
  auto it = nodes_.find(address);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Membership::EvictNonMembers() {
  size_t non_members = nodes_.size() - member_count_;
  while (non_members > options_.max_non_members) {
    auto oldest = nodes_.end();
    for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
      if (it->second.member) continue;
      if (oldest == nodes_.end() || it->second.last_heard_ms < oldest->second.last_heard_ms) {
        oldest = it;
      }
    }
    if (oldest == nodes_.end()) return;
    nodes_.erase(oldest);
    --non_members;
  }
}

}  // namespace tessera::cs
