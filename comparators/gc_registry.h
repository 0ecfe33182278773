// GcRegistry: which buckets and areas are reclaimed, and up to which sequence.
//
// An entry {kind, bucket[, area], sequence, file_number, created} says: every
// key of that bucket (or of that bucket's area) written with a sequence
// number <= `sequence` is garbage. Reads hide it at once (through the
// comparator's ShouldDrop hook) and compactions drop it; data written later
// (the bucket coming back) survives. Once a CompactRangeSelfLevel with
// limit_filenumber = file_number over the entry's key range has finished,
// the owner calls Remove.
//
// The registry is persisted in an append-only, checksummed log named
// kFileName in the DB directory (format: comparators/doc/gc_log_format.md),
// replayed by Open. A torn or damaged tail is dropped (and the log rewritten);
// damage followed by valid records is Corruption.
//
// Thread-safe. Reclaims / ReclaimsBucket are lock-free while the registry is
// empty or the sequence is newer than every entry, and take a shared lock
// otherwise; mutators serialize among themselves and sync the log before they
// return.
#ifndef TESSERA_COMPARATORS_GC_REGISTRY_H_
#define TESSERA_COMPARATORS_GC_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/status.h"

namespace tessera::comparators {

// Persisted in the GC log: DO NOT RENUMBER.
enum class GcKind : uint8_t {
  kBucket = 1,  // every area of the bucket
  kArea = 2,    // one area of one bucket
};

struct GcEntry {
  GcKind kind = GcKind::kBucket;
  uint32_t bucket = 0;  // <= kMaxBucket
  uint16_t area = 0;    // kArea only; always 0 for kBucket
  // Keys of the bucket/area written at or below this sequence are reclaimed.
  ldb::SequenceNumber sequence = 0;
  // The DB's next file number when the entry was made: the cleanup compacts
  // files numbered below it.
  uint64_t file_number = 0;
  uint64_t created = 0;  // seconds since the Unix epoch

  friend bool operator==(const GcEntry&, const GcEntry&) = default;
};

class GcRegistry {
 public:
  // Name of the log file inside the DB directory.
  static constexpr const char* kFileName = "GCLOG";

  // Opens (creating when missing) the registry of the DB in `dbname`,
  // replaying its log. `env` must outlive the registry.
  [[nodiscard]] static ldb::Status Open(ldb::Env* env,
                                        const std::string& dbname,
                                        std::unique_ptr<GcRegistry>* result);

  // A registry that persists nothing (tests, tools).
  static std::unique_ptr<GcRegistry> NewVolatile();

  GcRegistry(const GcRegistry&) = delete;
  GcRegistry& operator=(const GcRegistry&) = delete;
  ~GcRegistry();

  // Records `entry` durably, then applies it. An entry for the same (kind,
  // bucket, area) is merged: sequence and file_number keep the larger value
  // (reclaiming never shrinks before Remove), created takes the new one.
  // InvalidArgument for an unknown kind or bucket > kMaxBucket. After a log
  // write failure every mutator returns that error (reopen to recover).
  [[nodiscard]] ldb::Status Add(const GcEntry& entry);

  // Removes the entry for (kind, bucket, area) once its cleanup is done (area
  // is ignored for kBucket). With `only_if_sequence`, removes it only while
  // its sequence is still that value, so that an Add made while the cleanup
  // ran survives. NotFound when there is no (matching) entry.
  [[nodiscard]] ldb::Status Remove(
      GcKind kind, uint32_t bucket, uint16_t area,
      std::optional<ldb::SequenceNumber> only_if_sequence = std::nullopt);

  // True when an entry for `bucket`, or for (`bucket`, `area`), has
  // sequence >= seq. Called for every key in reads and compactions.
  bool Reclaims(uint32_t bucket, uint16_t area, ldb::SequenceNumber seq) const;

  // True when a kBucket entry for `bucket` has sequence >= seq (every area of
  // the bucket is reclaimed up to seq).
  bool ReclaimsBucket(uint32_t bucket, ldb::SequenceNumber seq) const;

  // All entries, sorted by (kind, bucket, area).
  std::vector<GcEntry> List() const;
  size_t size() const;

  // Paused: cleanup scheduling should not start new cleanups. Reclaims is not
  // affected. Persisted.
  [[nodiscard]] ldb::Status Pause();
  [[nodiscard]] ldb::Status Resume();
  bool paused() const { return paused_.load(std::memory_order_acquire); }

  // --- Log format internals, exposed for tests and ldbtool.

  // Applies the records in `contents` to an empty state. Sets
  // *valid_bytes to the length of the prefix holding whole, valid records and
  // *records to their count. Damage with no valid record after it is a torn
  // tail (OK, *valid_bytes < contents.size()); damage followed by a valid
  // record, or a checksummed record that does not parse, is Corruption.
  struct ReplayState {
    std::unordered_map<uint64_t, GcEntry> entries;
    bool paused = false;
  };
  [[nodiscard]] static ldb::Status Replay(const ldb::Slice& contents,
                                          ReplayState* state,
                                          size_t* valid_bytes, size_t* records);

 private:
  GcRegistry(ldb::Env* env, std::string dbname);

  static uint64_t MapKey(GcKind kind, uint32_t bucket, uint16_t area);

  // Writes the live state to a new log and switches to it.
  // REQUIRES: write_mu_ held (or not yet shared).
  ldb::Status RewriteLog(const ReplayState& state);
  // Appends one record and syncs. REQUIRES: write_mu_ held.
  ldb::Status AppendRecord(const std::string& payload);
  // Publishes entries_'s summary to the lock-free fast path.
  // REQUIRES: map_mu_ held exclusively.
  void RefreshSummaryLocked();

  // Constant after construction. env_ is null for a volatile registry.
  ldb::Env* const env_;
  const std::string dbname_;
  const std::string fname_;

  // Serializes mutators and owns the log.
  std::mutex write_mu_;
  std::unique_ptr<ldb::WritableFile> log_;  // guarded by write_mu_
  ldb::Status log_error_;                   // guarded by write_mu_; sticky

  // Protects entries_. Never held across I/O.
  mutable std::shared_mutex map_mu_;
  std::unordered_map<uint64_t, GcEntry> entries_;  // guarded by map_mu_

  // Lock-free summary of entries_ for the Reclaims fast path.
  std::atomic<bool> has_entries_{false};
  std::atomic<ldb::SequenceNumber> max_sequence_{0};
  std::atomic<bool> paused_{false};
};

}  // namespace tessera::comparators

#endif  // TESSERA_COMPARATORS_GC_REGISTRY_H_
