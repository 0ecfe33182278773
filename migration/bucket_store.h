// BucketStore: what bucket migration and cleanup need from a data server's storage.
// The data server's StorageManager implements it; migration_lib depends only on this
// interface (not on dataserver/).
//
// Contracts (see migration/README.md):
//  - Change recording: between StartRecording(b) and StopRecording(b), every write
//    applied to bucket b (put, remove, incr, expire) also records (area, key) in b's
//    change set, under the key's lock, after the write is applied. TakeChanges swaps
//    the set for an empty one.
//  - Fence: after Fence(b) returns, every write to b is refused with UNAVAILABLE
//    "bucket B is migrating", and every write that passed the fence check before has
//    finished (and been recorded). Unfence(b) lifts it.
//  - Reclaim: ReclaimBucket(b) adds a GC registry entry reclaiming every key of b
//    written so far (hidden from reads at once, accounting adjusted); the ticket it
//    fills is what the cleanup compaction needs. When no key of b is visible it adds
//    nothing and says so (ticket->nothing_to_reclaim): an entry would hide nothing
//    (a GC entry only hides what is older than it). CompactBucket runs
//    CompactRangeSelfLevel over b's range; RetireReclaim removes the entry afterwards
//    (kept when a newer reclaim of b was added meanwhile).
//
// Implementations are thread-safe.
#ifndef TESSERA_MIGRATION_BUCKET_STORE_H_
#define TESSERA_MIGRATION_BUCKET_STORE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "migration/entry_batch.h"

namespace tessera::migration {

// A reclaimed bucket waiting for (or in) its cleanup compaction.
struct ReclaimTicket {
  uint32_t bucket = 0;
  uint64_t sequence = 0;          // the GC entry's sequence (RetireReclaim checks it)
  uint64_t limit_filenumber = 0;  // CompactRangeSelfLevel's limit, read after the Add
  // Nothing of the bucket was visible: no GC entry was added and there is nothing
  // to clean up (the other fields are not set).
  bool nothing_to_reclaim = false;
};

// What one cleanup compaction did (ldb's SelfLevelCompactionStats).
struct CleanupResult {
  uint64_t files_compacted = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_freed = 0;
};

// (area, user key) of a changed key.
using ChangedKey = std::pair<uint32_t, std::string>;

class BucketStore {
 public:
  virtual ~BucketStore() = default;

  // --- Source side.
  // Scans bucket b under a snapshot, calling emit for every live (unexpired) key with
  // its value and meta, in stored-key order. The entry's key and value are valid only
  // during the call. emit returns false to stop early (the scan then returns OK).
  virtual Status ScanBucket(uint32_t bucket,
                            const std::function<bool(const MigratedEntryView& entry)>& emit) = 0;
  // Appends the current state of one key to *out: its value and meta, or a removed
  // entry when it is missing or expired.
  virtual Status ReadEntry(uint32_t bucket, uint32_t area, std::string_view key,
                           EntryBatch* out) = 0;
  virtual void StartRecording(uint32_t bucket) = 0;
  virtual std::vector<ChangedKey> TakeChanges(uint32_t bucket) = 0;
  virtual void StopRecording(uint32_t bucket) = 0;
  virtual void Fence(uint32_t bucket) = 0;
  virtual void Unfence(uint32_t bucket) = 0;

  // --- Destination side.
  // Applies one batch of bucket b (entries already validated to belong to b): each
  // entry written with its own version, expire, created and modified; removed (or
  // already expired) entries deleted. Idempotent. Quotas are not enforced on migrated
  // data (refusing would lose acknowledged writes); accounting is kept. With
  // fresh_keys (MigrateBatchRequest.fresh_keys) the accounting counts every entry as
  // a new key instead of reading what the store holds.
  virtual Status ApplyMigrated(uint32_t bucket, std::span<const MigratedEntryView> entries,
                               bool fresh_keys) = 0;

  // --- Cleanup.
  virtual Status ReclaimBucket(uint32_t bucket, ReclaimTicket* ticket) = 0;
  virtual Status CompactBucket(const ReclaimTicket& ticket, CleanupResult* result) = 0;
  virtual Status RetireReclaim(const ReclaimTicket& ticket) = 0;
  // Reclaims persisted from before a restart, with limits recomputed.
  virtual std::vector<ReclaimTicket> PendingReclaims() = 0;
  // Persisted cleanup pause flag.
  virtual Status SetCleanupPaused(bool paused) = 0;
  virtual bool CleanupPaused() const = 0;
};

}  // namespace tessera::migration

#endif  // TESSERA_MIGRATION_BUCKET_STORE_H_
