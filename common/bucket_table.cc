#include "common/bucket_table.h"

#include <vector>

#include "common/cluster_config.h"

namespace tessera {

BucketTable::BucketTable(proto::Table table) : table_(std::move(table)) {
  for (int i = 0; i < table_.servers_size(); ++i) index_.emplace(table_.servers(i).address(), i);
  for (const proto::AreaQuota& q : table_.area_quotas()) quotas_[q.area()] = q.quota_bytes();
}

Status BucketTable::FromProto(proto::Table table, std::shared_ptr<const BucketTable>* out) {
  auto bad = [&](const std::string& m) {
    return Status::InvalidArgument("bad table (version " + std::to_string(table.version()) +
                                   "): " + m);
  };
  if (table.bucket_count() == 0 || table.bucket_count() > kMaxBucketCount) {
    return bad("bucket_count " + std::to_string(table.bucket_count()));
  }
  if (table.copy_count() == 0 || table.copy_count() > kMaxCopyCount) {
    return bad("copy_count " + std::to_string(table.copy_count()));
  }
  const uint64_t want = uint64_t{table.bucket_count()} * table.copy_count();
  if (static_cast<uint64_t>(table.owners_size()) != want) {
    return bad("owners has " + std::to_string(table.owners_size()) + " entries, want " +
               std::to_string(want));
  }
  const uint32_t n = static_cast<uint32_t>(table.servers_size());
  if (n < table.copy_count()) return bad("fewer servers than copy_count");
  {
    std::unordered_map<std::string, int> seen;
    for (const proto::TableServer& s : table.servers()) {
      if (s.address().empty() || !seen.emplace(s.address(), 0).second) {
        return bad("server address empty or listed twice: \"" + s.address() + "\"");
      }
    }
  }
  if (table.destination_owners_size() != 0 &&
      static_cast<uint64_t>(table.destination_owners_size()) != want) {
    return bad("destination_owners has " + std::to_string(table.destination_owners_size()) +
               " entries, want " + std::to_string(want));
  }
  for (const auto* owners : {&table.owners(), &table.destination_owners()}) {
    if (owners->empty()) continue;
    std::vector<uint32_t> stamp(n, UINT32_MAX);
    for (uint32_t b = 0; b < table.bucket_count(); ++b) {
      for (uint32_t c = 0; c < table.copy_count(); ++c) {
        uint32_t idx = owners->Get(static_cast<int>(b * table.copy_count() + c));
        if (idx >= n) {
          return bad("bucket " + std::to_string(b) + " names server " + std::to_string(idx));
        }
        if (stamp[idx] == b) {
          return bad("bucket " + std::to_string(b) + " has two copies on one server");
        }
        stamp[idx] = b;
      }
    }
  }
  *out = std::shared_ptr<const BucketTable>(new BucketTable(std::move(table)));
  return Status::OK();
}

int BucketTable::ServerIndex(std::string_view address) const {
  auto it = index_.find(std::string(address));
  return it == index_.end() ? -1 : it->second;
}

uint32_t BucketTable::MasterCount(int server_index) const {
  uint32_t n = 0;
  for (uint32_t b = 0; b < bucket_count(); ++b) n += IsMaster(b, server_index) ? 1 : 0;
  return n;
}

uint32_t BucketTable::CopyCount(int server_index) const {
  uint32_t n = 0;
  for (uint32_t owner : table_.owners()) n += owner == static_cast<uint32_t>(server_index) ? 1 : 0;
  return n;
}

bool BucketTable::BucketMoving(uint32_t b) const {
  if (!migrating()) return false;
  std::span<const uint32_t> now = Copies(b);
  std::span<const uint32_t> dest = DestinationCopies(b);
  for (uint32_t c = 0; c < copy_count(); ++c) {
    if (now[c] != dest[c]) return true;
  }
  return false;
}

uint32_t BucketTable::MovingBucketCount() const {
  uint32_t n = 0;
  for (uint32_t b = 0; b < bucket_count(); ++b) n += BucketMoving(b) ? 1 : 0;
  return n;
}

uint64_t BucketTable::AreaQuotaBytes(uint32_t area) const {
  auto it = quotas_.find(area);
  return it == quotas_.end() ? 0 : it->second;
}

}  // namespace tessera
