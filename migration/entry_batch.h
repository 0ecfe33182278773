// EntryBatch: the keys of one migration batch packed into one buffer, the form a
// source sends them in (MigrateBatchRequest.packed_entries under
// Request.migrate_packed), and DecodeEntryBatch, which reads them back as views.
//
// Why not one proto::MigratedEntry per key: a 1 MiB batch of 1000-byte values is
// about a thousand messages, each built, serialized, parsed and freed, with two or
// three heap blocks apiece. In a migration those allocations (and the destination
// freeing blocks its network thread allocated) were a quarter of the CPU of the
// sources' send threads and of the destination's apply thread, on the same two
// CPUs as the clients' requests.
//
// Layout: the entries one after another, nothing before, between or after them
// (fixed-width fields little-endian; varints as in ldb/doc/README.md, 7 bits per
// byte, low bits first):
//   flags      1 byte: bit 0 = removed (delete the key); the other bits are 0
//   area       varint32
//   version    varint32
//   expire_at  fixed32, unix seconds (0 = never)
//   created    fixed32
//   modified   fixed32
//   key        varint32 length, then the bytes
//   value      varint32 length, then the bytes (empty when removed)
// The fields mean what proto::MigratedEntry's do. An empty buffer is a batch of no
// entries. The layout is part of the wire format: change it only with a new
// Request case.
#ifndef TESSERA_MIGRATION_ENTRY_BATCH_H_
#define TESSERA_MIGRATION_ENTRY_BATCH_H_

#include <google/protobuf/repeated_ptr_field.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/rpc.pb.h"
#include "common/status.h"

namespace tessera::migration {

// One migrated key, its value and meta, pointing into memory someone else owns
// (a scan's iterator, a packed batch, a request): valid only as long as that is.
struct MigratedEntryView {
  uint32_t area = 0;
  std::string_view key;
  std::string_view value;
  uint32_t version = 0;
  uint32_t expire_at = 0;  // 0 = never
  uint32_t created = 0;
  uint32_t modified = 0;
  bool removed = false;
};

// A batch being filled. Thread-compatible.
class EntryBatch {
 public:
  // Appends a copy of `e` (its key and value bytes are copied).
  void Add(const MigratedEntryView& e);

  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Size of the packed bytes: what the batch caps and the sent-bytes counters count.
  size_t bytes() const { return packed_.size(); }
  const std::string& packed() const { return packed_; }

  // Moves the packed bytes into *out (a request's packed_entries) and empties the
  // batch, which takes *out's old buffer, cleared.
  void TakePacked(std::string* out);
  // Gives the batch the capacity of `buffer` (a field TakePacked filled, once the
  // request is sent) when it is larger than its own; *buffer is left empty. Reusing
  // one buffer keeps a source from allocating (and the kernel from zeroing) a fresh
  // megabyte for every batch.
  void Recycle(std::string* buffer);
  // Makes room for `bytes` of packed entries, so that filling a batch does not
  // grow (and copy) the buffer step by step.
  void Reserve(size_t bytes) { packed_.reserve(bytes); }
  // Empties the batch; the buffer keeps its capacity.
  void Clear();

 private:
  std::string packed_;
  size_t count_ = 0;
};

// Decodes `packed` into *out (replaced), views into `packed`. InvalidArgument,
// naming the entry, when an entry is cut short or sets unknown flag bits; *out is
// then unspecified. Checks the layout only: the caller checks areas and sizes.
[[nodiscard]] Status DecodeEntryBatch(std::string_view packed,
                                      std::vector<MigratedEntryView>* out);

// Views of per-key messages (a Request.migrate_batch from a source that predates
// packed_entries), valid while `entries` lives. *out is replaced.
void ViewEntries(const google::protobuf::RepeatedPtrField<proto::MigratedEntry>& entries,
                 std::vector<MigratedEntryView>* out);

}  // namespace tessera::migration

#endif  // TESSERA_MIGRATION_ENTRY_BATCH_H_
