// BucketTable: a validated, immutable view of a proto::Table (the bucket -> data
// servers map published by the config server), with the lookups routing needs.
//
// Tables arrive from the network and from disk, so FromProto checks every index and
// size before anything routes through it. Share as shared_ptr<const BucketTable>;
// all methods are const and thread-safe.
#ifndef TESSERA_COMMON_BUCKET_TABLE_H_
#define TESSERA_COMMON_BUCKET_TABLE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/proto/cluster.pb.h"
#include "common/status.h"

namespace tessera {

class BucketTable {
 public:
  // Validates `table`: bucket_count 1..2^24-1, copy_count >= 1, owners (and
  // destination_owners, when present) have bucket_count*copy_count entries each <
  // servers_size, no bucket lists one server twice, server addresses unique.
  // InvalidArgument otherwise.
  static Status FromProto(proto::Table table, std::shared_ptr<const BucketTable>* out);

  uint64_t version() const { return table_.version(); }
  uint32_t bucket_count() const { return table_.bucket_count(); }
  uint32_t copy_count() const { return table_.copy_count(); }
  const proto::Table& proto() const { return table_; }

  // Server indexes holding bucket b, master first. REQUIRES: b < bucket_count().
  std::span<const uint32_t> Copies(uint32_t b) const {
    return {table_.owners().data() + static_cast<size_t>(b) * copy_count(), copy_count()};
  }
  uint32_t MasterIndex(uint32_t b) const { return Copies(b)[0]; }
  const proto::TableServer& server(uint32_t index) const { return table_.servers(index); }
  const std::string& MasterAddress(uint32_t b) const { return server(MasterIndex(b)).address(); }
  bool MasterUp(uint32_t b) const { return server(MasterIndex(b)).state() == proto::SERVER_UP; }

  // Index of `address` in servers, or -1.
  int ServerIndex(std::string_view address) const;
  bool IsMaster(uint32_t b, int server_index) const {
    return server_index >= 0 && MasterIndex(b) == static_cast<uint32_t>(server_index);
  }
  // Buckets mastered / held (any copy) by a server.
  uint32_t MasterCount(int server_index) const;
  uint32_t CopyCount(int server_index) const;

  // Migration (see migration/README.md). While migrating, every bucket has
  // destination copies; it is done when they equal its current copies.
  bool migrating() const { return table_.destination_owners_size() > 0; }
  uint64_t migration_id() const { return table_.migration_id(); }
  bool migration_paused() const { return table_.migration_paused(); }
  // REQUIRES: migrating() and b < bucket_count().
  std::span<const uint32_t> DestinationCopies(uint32_t b) const {
    return {table_.destination_owners().data() + static_cast<size_t>(b) * copy_count(),
            copy_count()};
  }
  // True while bucket b's copies still differ from its destination copies.
  bool BucketMoving(uint32_t b) const;
  // Buckets still moving (0 when not migrating).
  uint32_t MovingBucketCount() const;

  // Quota of an area in bytes, 0 = unlimited.
  uint64_t AreaQuotaBytes(uint32_t area) const;

 private:
  explicit BucketTable(proto::Table table);

  proto::Table table_;
  std::unordered_map<std::string, int> index_;
  std::unordered_map<uint32_t, uint64_t> quotas_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_BUCKET_TABLE_H_
