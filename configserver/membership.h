// Membership: which data servers are members of the cluster, which of them are up,
// and what every server reported in its last heartbeat.
//
// Members are the servers that hold buckets (cluster.conf data_servers, plus admin
// adds, minus admin removes; the caller computes the list). A member silent for
// server_down_time_ms or longer is DOWN; any heartbeat makes it UP again at once
// (readiness is reported, not judged: a server that heartbeats is alive). When the
// membership starts (Reset) or a member is added, the member is given a grace
// period: it counts as heard at that moment, so it is UP for server_down_time_ms
// even before its first heartbeat, unless Reset lists it as starting DOWN (a server
// the persisted table had already marked down stays down until it heartbeats).
//
// Heartbeats from servers that are not members are recorded too (list_nodes shows
// them as non-members) but never make them members. At most max_non_members of
// them are remembered; beyond that the longest-silent one is forgotten.
//
// Time comes from the injected Clock. Thread-compatible: the config service calls
// it under its own mutex.
#ifndef TESSERA_CONFIGSERVER_MEMBERSHIP_H_
#define TESSERA_CONFIGSERVER_MEMBERSHIP_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/rpc.pb.h"
#include "common/status.h"
#include "configserver/clock.h"

namespace tessera::cs {

// Parses "host:port" and writes its canonical form (so that "127.0.0.1:07101" and
// "127.0.0.1:7101" name one server). InvalidArgument on a bad address.
Status CanonicalAddress(std::string_view text, std::string* out);

// What the config server knows about one data server.
struct NodeState {
  std::string address;
  bool member = false;
  bool up = false;             // members: UP/DOWN; non-members: heard recently
  bool heard = false;          // at least one heartbeat since the membership started
  uint64_t last_heard_ms = 0;  // Clock time of the last heartbeat (or of the grace start)
  uint64_t table_version = 0;  // as reported in the last heartbeat
  bool ready = false;          // as reported in the last heartbeat
  proto::ServerStats stats;    // from the last heartbeat (areas bounded)
};

class Membership {
 public:
  struct Options {
    uint64_t server_down_time_ms = 4000;
    size_t max_non_members = 1024;
    size_t max_stats_areas = 4096;  // a heartbeat's per-area stats beyond this are dropped
  };

  // `clock` must outlive the membership.
  Membership(Options options, const Clock* clock);

  // Forgets everything and starts with `members` (canonical addresses), each given
  // a grace period from now, except those in `start_down`, which start DOWN.
  void Reset(const std::vector<std::string>& members, const std::set<std::string>& start_down);

  // Records a heartbeat from `address` (canonical). Returns true when a member's
  // state changed (it was DOWN and is now UP).
  bool RecordHeartbeat(const std::string& address, const proto::HeartbeatRequest& heartbeat);

  // Marks every member silent for server_down_time_ms or longer DOWN. Returns true
  // when some member went from UP to DOWN.
  bool CheckTimeouts();

  // Makes `address` (canonical) a member. A server already heard keeps its state;
  // another one gets a grace period from now. Returns false if already a member.
  bool AddMember(const std::string& address);
  // Makes a member a non-member (still listed while it heartbeats). Returns false if
  // it was not a member.
  bool RemoveMember(const std::string& address);

  bool IsMember(const std::string& address) const;
  std::vector<std::string> Members() const;      // sorted
  std::set<std::string> DownMembers() const;
  size_t MemberCount() const { return member_count_; }
  // Members that sent at least one heartbeat since Reset.
  size_t HeardMemberCount() const;
  // Every known server, sorted by address.
  std::vector<NodeState> Nodes() const;
  // nullptr when unknown. Valid until the next non-const call.
  const NodeState* Find(const std::string& address) const;

  uint64_t now_ms() const { return clock_->NowMs(); }
  uint64_t server_down_time_ms() const { return options_.server_down_time_ms; }

 private:
  void EvictNonMembers();

  // Constant after construction.
  const Options options_;
  const Clock* const clock_;

  std::map<std::string, NodeState> nodes_;
  size_t member_count_ = 0;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_MEMBERSHIP_H_
