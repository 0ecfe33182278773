#include "configserver/migration_plan.h"

#include <algorithm>

namespace tessera::cs {
namespace {

Assignment ReadLayout(const proto::Table& table,
                      const google::protobuf::RepeatedField<uint32_t>& layout) {
  Assignment a;
  a.bucket_count = table.bucket_count();
  a.copy_count = table.copy_count();
  a.servers.resize(a.bucket_count);
  const size_t copies = a.copy_count;
  for (uint32_t b = 0; b < a.bucket_count; ++b) {
    a.servers[b].reserve(copies);
    for (size_t c = 0; c < copies; ++c) {
      const uint32_t index = layout.Get(static_cast<int>(b * copies + c));
      a.servers[b].push_back(table.servers(static_cast<int>(index)).address());
    }
  }
  return a;
}

}  // namespace

Assignment TableOwners(const proto::Table& table) { return ReadLayout(table, table.owners()); }

Assignment TableDestination(const proto::Table& table) {
  if (table.destination_owners_size() == 0) return Assignment{};
  return ReadLayout(table, table.destination_owners());
}

proto::Table MakeTable(const Assignment& owners, const Assignment* destination,
                       const std::map<std::string, bool>& servers,
                       const proto::ClusterConfig& config) {
  proto::Table t;
  t.set_bucket_count(owners.bucket_count);
  t.set_copy_count(owners.copy_count);
  t.set_cluster_name(config.cluster_name());
  *t.mutable_area_quotas() = config.area_quotas();
  std::map<std::string, uint32_t> index;
  for (const auto& [address, up] : servers) {
    proto::TableServer* s = t.add_servers();
    s->set_address(address);
    s->set_state(up ? proto::SERVER_UP : proto::SERVER_DOWN);
    index[address] = static_cast<uint32_t>(index.size());
  }
  t.mutable_owners()->Reserve(static_cast<int>(owners.bucket_count * owners.copy_count));
  for (const auto& holders : owners.servers) {
    for (const std::string& h : holders) t.add_owners(index.at(h));
  }
  if (destination != nullptr) {
    for (const auto& holders : destination->servers) {
      for (const std::string& h : holders) t.add_destination_owners(index.at(h));
    }
  }
  return t;
}

uint32_t ApplyPromotions(const Assignment& target,
                         const std::function<bool(const std::string&)>& is_up,
                         Assignment* owners) {
  uint32_t changed = 0;
  for (uint32_t b = 0; b < owners->bucket_count; ++b) {
    std::vector<std::string>& now = owners->servers[b];
    const std::vector<std::string>& want = target.servers[b];
    if (now == want || want.empty()) continue;
    std::vector<std::string> x = now, y = want;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    if (x == y) {
      now = want;
      ++changed;
      continue;
    }
    if (!is_up(now[0]) && is_up(want[0])) {
      auto it = std::find(now.begin() + 1, now.end(), want[0]);
      if (it != now.end()) {
        std::iter_swap(now.begin(), it);
        ++changed;
      }
    }
  }
  return changed;
}

uint32_t CountMoving(const Assignment& owners, const Assignment& target) {
  uint32_t n = 0;
  for (uint32_t b = 0; b < owners.bucket_count && b < target.servers.size(); ++b) {
    if (owners.servers[b] != target.servers[b]) ++n;
  }
  return n;
}

std::set<std::string> NodesOfMovingBuckets(const Assignment& owners, const Assignment& target) {
  std::set<std::string> nodes;
  for (uint32_t b = 0; b < owners.bucket_count && b < target.servers.size(); ++b) {
    if (owners.servers[b] == target.servers[b]) continue;
    nodes.insert(owners.servers[b].begin(), owners.servers[b].end());
    nodes.insert(target.servers[b].begin(), target.servers[b].end());
  }
  return nodes;
}

uint32_t PromoteUpCopies(const std::function<bool(const std::string&)>& is_up, Assignment* a) {
  uint32_t changed = 0;
  for (std::vector<std::string>& copies : a->servers) {
    if (copies.empty() || is_up(copies[0])) continue;
    auto it = std::find_if(copies.begin() + 1, copies.end(), is_up);
    if (it == copies.end()) continue;
    std::iter_swap(copies.begin(), it);
    ++changed;
  }
  return changed;
}

bool SetMaster(Assignment* a, uint32_t b, const std::string& to) {
  std::vector<std::string>& copies = a->servers[b];
  if (copies[0] == to) return false;
  auto it = std::find(copies.begin() + 1, copies.end(), to);
  if (it != copies.end()) {
    std::iter_swap(copies.begin(), it);
  } else {
    copies[0] = to;
  }
  return true;
}

}  // namespace tessera::cs
