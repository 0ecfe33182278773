// StorageManager: a data server's keys, stored in one ldb DB opened the Tair way
// (BitcmpComparator over a GcRegistry, the expire bloom policy, a block cache).
//
// Every operation names (area, user key, bucket). The stored key is
// comparators::EncodeStoredKey(expire, bucket, area, user key) and the stored value a
// comparators::ValueMeta header (version, created, modified, expire) followed by the
// user value. Expiry is judged by ldb against Env::NowSeconds() of the env in
// StorageOptions, which is also this class's clock (tests inject a fake one).
//
// Semantics:
//  - Versions: every successful write (put, incr/decr, expire) stores
//    version = old version + 1 (a first write stores 1; after 2^32-1 it wraps to 1).
//  - CAS: a write with version != 0 fails with VersionMismatch unless the key exists
//    and its stored version equals `version` (a missing key is a mismatch too).
//  - Expiry: Expiry{ttl_seconds, expire_at}: relative seconds from now, or an absolute
//    unix time; both zero = never; both non-zero = InvalidArgument. A put / incr whose
//    expiry is already in the past is InvalidArgument. An expired key is NotFound to
//    every read and counts as missing for writes.
//  - Incr: the counter is a decimal string value (optional '-', digits, within
//    int64). A missing key starts at initial_value, then delta is added; a stored
//    value that is not such a number, or a result outside int64, is InvalidArgument.
//    The request's expiry applies when the key is created; an existing key keeps its
//    expiry.
//  - Expire: changes the expiry of an existing key (NotFound otherwise) by rewriting
//    it under the new expire prefix; a time in the past removes the key.
//  - Read-modify-write operations are atomic per key: each holds one of
//    `lock_stripes` mutexes chosen by the hash of (area, user key) while it reads the
//    old value and writes the new one.
//
// Per-area accounting: ops served, live keys and bytes (user key + user value bytes
// of every live key). Quotas (SetAreaQuotas, 0 = unlimited) bound the bytes: a write
// that would take its area over the quota fails with QuotaExceeded; overwrites and
// removes free what they replace. The figures are maintained incrementally and
// recomputed by one full scan in Open and in Recount (cost: one sequential read of
// every live entry, about 2 M keys/s here: 100,000 keys / 10.8 MB took 48 ms; Open
// logs the time; turn it off with count_on_open). Keys that expire are only subtracted by the next Recount (reads cannot see
// them any more), so between recounts `keys` / `bytes` may over-count expired data.
//
// Migration (migration::BucketStore, contracts in migration/bucket_store.h): writes
// to a fenced bucket fail with Unavailable "bucket B is migrating" (checked under the
// key's stripe); writes to a recording bucket record their key after they are applied,
// under the stripe. Fence waits for writes in flight by taking every stripe once.
// ReclaimBucket adds its GC entry with every stripe held (no write between the
// sequence read and the Add) and subtracts the bucket's keys from the accounting.
//
// Thread-safe. Close (or the destructor) must not race with other calls.
#ifndef TESSERA_DATASERVER_STORAGE_MANAGER_H_
#define TESSERA_DATASERVER_STORAGE_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/status.h"
#include "migration/bucket_store.h"

namespace ldb {
class Status;
class Cache;
class DB;
class Env;
class FilterPolicy;
}  // namespace ldb

namespace tessera::comparators {
class BitcmpComparator;
class GcRegistry;
}  // namespace tessera::comparators

namespace tessera::migration {
class BulkThread;
}  // namespace tessera::comparators

namespace tessera::ds {

struct StorageOptions {
  std::string data_dir;  // the ldb directory (created when missing)
  // Env for files and the clock; nullptr = ldb::Env::Default(). Must outlive the
  // StorageManager.
  ldb::Env* env = nullptr;
  size_t write_buffer_bytes = 16u << 20;  // memtable size, 4..64 MiB recommended
  // Flushes are cut at bucket boundaries once a file holds this many bytes
  // (ldb::Options::flush_cut_min_bytes); 0 = flushes are not cut.
  size_t flush_cut_bytes = 256u << 10;
  size_t block_cache_bytes = 64u << 20;
  int bloom_bits_per_key = 10;
  bool snappy = true;
  // ldb's table cache (ldb::Options::max_open_files). Tables are cut at bucket
  // boundaries, so even a small DB has one or more tables per bucket and level:
  // with bucket_count 1023 a cache of LevelDB's 1000 would open and close a
  // table on a good share of reads.
  int max_open_files = 20000;
  // ldb Options::compaction_nice: compactions yield the CPU to request
  // threads (0: same priority).
  int compaction_nice = 10;
  // fsync the WAL before a write is acknowledged (ldb group commit shares the sync).
  bool sync_writes = false;
  // A migration scan batch (fresh keys) of at least this many bytes is written
  // straight into ldb tables (ldb::DB::IngestSorted): no WAL, memtable, flush or
  // level-0 compaction of it. Smaller batches, and every catch-up batch, go
  // through the write path. SIZE_MAX: never.
  size_t migrate_ingest_min_bytes = 64u << 10;
  // Threads that encode ingested batches and build their tables in Linux's
  // SCHED_IDLE class (ldb::IngestOptions::build_runner), so that the bulk of an
  // ingest yields the CPU to request threads at once; the install (in ldb's
  // background slot) stays on the calling thread and its class. Bucket b's batches
  // go to builder b % n. 0: the calling thread does it all.
  int migrate_ingest_idle_builders = 0;
  size_t lock_stripes = 1024;  // mutexes for per-key atomicity (rounded up to 2^n)
  bool count_on_open = true;   // scan the DB in Open to compute per-area keys/bytes
};

struct Expiry {
  uint32_t ttl_seconds = 0;  // relative
  uint32_t expire_at = 0;    // absolute unix seconds
};

struct GetResult {
  std::string value;
  uint32_t version = 0;
  uint32_t expire_at = 0;    // 0 = never
  int64_t ttl_seconds = -1;  // remaining seconds, -1 = never expires
};

struct AreaStat {
  uint32_t area = 0;
  uint64_t ops = 0;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t quota_bytes = 0;  // 0 = unlimited
};

class StorageManager final : public migration::BucketStore {
 public:
  static constexpr uint32_t kAreaCount = 65536;

  // Opens (creating when missing) the DB in options.data_dir. Errors: Internal with
  // ldb's message (I/O error, corruption, comparator mismatch), InvalidArgument for
  // bad options.
  static Status Open(const StorageOptions& options, std::unique_ptr<StorageManager>* out);

  ~StorageManager();
  StorageManager(const StorageManager&) = delete;
  StorageManager& operator=(const StorageManager&) = delete;

  // REQUIRES for all: area < kAreaCount, bucket <= 2^24-1, 1 <= key.size()
  // (InvalidArgument otherwise). Errors beyond those documented above: Internal
  // (ldb error or an undecodable stored value), Unavailable after Close.
  Status Get(uint32_t area, std::string_view key, uint32_t bucket, GetResult* result);
  Status Put(uint32_t area, std::string_view key, uint32_t bucket, std::string_view value,
             uint32_t version, const Expiry& expiry, uint32_t* new_version);
  // NotFound when missing (or expired).
  Status Remove(uint32_t area, std::string_view key, uint32_t bucket, uint32_t version);
  Status Incr(uint32_t area, std::string_view key, uint32_t bucket, int64_t delta,
              int64_t initial_value, const Expiry& expiry, uint32_t version,
              int64_t* value, uint32_t* new_version);
  // *expire_at receives the new absolute expiry (0 = never).
  Status Expire(uint32_t area, std::string_view key, uint32_t bucket, const Expiry& expiry,
                uint32_t* expire_at);

  // Replaces every quota: areas not listed become unlimited.
  void SetAreaQuotas(const std::vector<std::pair<uint32_t, uint64_t>>& quotas);

  // Areas with any ops, keys, bytes or quota, by area.
  std::vector<AreaStat> AreaStats() const;

  // Recomputes per-area keys and bytes with one scan of a snapshot (writes go on
  // meanwhile and are accounted for). Returns the ldb error of the scan, if any.
  Status Recount();

  // Approximate on-disk bytes of the DB.
  uint64_t ApproximateDiskBytes();
  // An ldb property ("ldb.stats", ...), empty when unknown.
  std::string Property(const std::string& name);

  // Migration scan batches written straight into tables so far
  // (StorageOptions::migrate_ingest_min_bytes).
  uint64_t IngestedBatches() const { return ingested_batches_.load(std::memory_order_relaxed); }

  // The clock used for TTLs: env->NowSeconds().
  uint32_t NowSeconds() const;

  // Syncs the WAL and closes the DB. Later calls fail with Unavailable. Idempotent.
  Status Close();

  // migration::BucketStore.
  Status ScanBucket(uint32_t bucket,
                    const std::function<bool(const migration::MigratedEntryView& entry)>& emit)
      override;
  Status ReadEntry(uint32_t bucket, uint32_t area, std::string_view key,
                   migration::EntryBatch* out) override;
  void StartRecording(uint32_t bucket) override;
  std::vector<migration::ChangedKey> TakeChanges(uint32_t bucket) override;
  void StopRecording(uint32_t bucket) override;
  void Fence(uint32_t bucket) override;
  void Unfence(uint32_t bucket) override;
  // True while `bucket` is fenced (a write to it would be refused).
  bool Fenced(uint32_t bucket) const;
  // Called with the bucket after Unfence lifted a fence (on Unfence's thread, no lock
  // of ours held; it must not call Fence / Unfence). The RequestHandler sets it to run
  // the writes it held. REQUIRES: set (or cleared with {}) while no Unfence runs.
  void SetUnfenceListener(std::function<void(uint32_t bucket)> listener);
  Status ApplyMigrated(uint32_t bucket, std::span<const migration::MigratedEntryView> entries,
                       bool fresh_keys) override;
  Status ReclaimBucket(uint32_t bucket, migration::ReclaimTicket* ticket) override;
  Status CompactBucket(const migration::ReclaimTicket& ticket,
                       migration::CleanupResult* result) override;
  Status RetireReclaim(const migration::ReclaimTicket& ticket) override;
  std::vector<migration::ReclaimTicket> PendingReclaims() override;
  Status SetCleanupPaused(bool paused) override;
  // A ticket for a cleanup compaction of `bucket` asked for by an operator: the
  // bucket's GC entry's sequence when it has one, else 0 (nothing is retired), and
  // the current file-number limit.
  migration::ReclaimTicket CleanupTicket(uint32_t bucket);
  bool CleanupPaused() const override;

 private:
  struct AreaCounters {
    std::atomic<uint64_t> ops{0};
    std::atomic<int64_t> keys{0};
    std::atomic<int64_t> bytes{0};
    std::atomic<uint64_t> quota{0};
  };
  // `area`'s counters, marking the area as one AreaStats and SetAreaQuotas look at
  // (they skip the other areas of 65536). Every change of a counter goes through it.
  AreaCounters& Area(uint32_t area);
  // What a read-modify-write found under the key's lock.
  struct Existing {
    bool found = false;
    uint32_t version = 0;
    uint32_t created = 0;
    uint32_t modified = 0;
    uint32_t expire = 0;
    std::string value;  // user value
  };

  explicit StorageManager(const StorageOptions& options);

  Status OpenDb();
  // Validates the arguments common to every operation and counts the op.
  Status Check(uint32_t area, std::string_view key, uint32_t bucket);
  std::mutex& StripeFor(uint32_t area, std::string_view key);
  // Reads the current entry (absent when missing or expired).
  // REQUIRES: the key's stripe held, or a read-only caller.
  Status ReadExisting(const std::string& stored_key, Existing* existing);
  // Writes (area, key) with `meta` and `value` under expire `meta.expire`, replacing
  // `old` (accounting and quota). REQUIRES: the key's stripe held.
  Status WriteLocked(uint32_t area, std::string_view key, uint32_t bucket,
                     const Existing& old, uint32_t version, uint32_t expire,
                     std::string_view value);
  // As WriteLocked with the whole meta given; quota enforced only with
  // enforce_quota. REQUIRES: the key's stripe held.
  Status WriteMetaLocked(uint32_t area, std::string_view key, uint32_t bucket,
                         const Existing& old, uint32_t version, uint32_t created,
                         uint32_t modified, uint32_t expire, std::string_view value,
                         bool enforce_quota, bool sync);
  // The stored key and value of (area, key) in `bucket` with this meta and value.
  static void EncodeRecord(uint32_t area, std::string_view key, uint32_t bucket,
                           uint32_t version, uint32_t created, uint32_t modified,
                           uint32_t expire, std::string_view value, std::string* stored_key,
                           std::string* stored_value);
  // Unavailable when bucket is fenced. REQUIRES: the key's stripe held.
  Status CheckFence(uint32_t bucket) const;
  // Records (area, key) when bucket is recording. REQUIRES: the key's stripe held.
  void RecordChange(uint32_t bucket, uint32_t area, std::string_view key);
  uint64_t LargestFileNumber();
  // Changes to the per-area keys and bytes counters made by one migration batch,
  // counted once the batch is written. A batch touches few areas: a list.
  struct AreaDelta {
    uint32_t area;
    int64_t keys;
    int64_t bytes;
  };
  static void AddAreaDelta(std::vector<AreaDelta>* deltas, uint32_t area, int64_t keys,
                           int64_t bytes);
  void ApplyAreaDeltas(const std::vector<AreaDelta>& deltas);
  // ApplyMigrated's table path for a scan batch: *ingested false (and OK) when
  // the batch must be written instead.
  Status IngestMigrated(uint32_t bucket, std::span<const migration::MigratedEntryView> entries,
                        bool* ingested);
  // Deletes the key and un-accounts `old`. REQUIRES: the key's stripe held.
  Status DeleteLocked(uint32_t area, std::string_view key, uint32_t bucket,
                      const Existing& old);
  // Absolute expire from `expiry` at `now`.
  static Status ComputeExpire(const Expiry& expiry, uint32_t now, uint32_t* expire);
  // As ComputeExpire for a write that creates data: InvalidArgument when the expire
  // time lies in the past (only Expire may use a past time, to delete).
  static Status ComputeWriteExpire(const Expiry& expiry, uint32_t now, uint32_t* expire);
  // CAS: VersionMismatch unless `version` is 0 or equals the stored one (a missing key
  // matches no version).
  static Status CheckVersion(const Existing& old, uint32_t version);
  static uint32_t NextVersion(const Existing& old);
  // An ldb status as ours: NotFound stays NotFound, anything else is Internal
  // ("<what>: <ldb message>").
  static Status FromLdb(const ldb::Status& s, std::string_view what);

  // Constant after construction / Open.
  const StorageOptions options_;
  ldb::Env* env_ = nullptr;
  std::unique_ptr<comparators::GcRegistry> registry_;
  std::unique_ptr<comparators::BitcmpComparator> comparator_;
  std::unique_ptr<const ldb::FilterPolicy> filter_;
  std::unique_ptr<ldb::Cache> cache_;
  std::unique_ptr<ldb::DB> db_;  // reset by Close
  std::unique_ptr<std::mutex[]> stripes_;
  size_t stripe_mask_ = 0;
  std::unique_ptr<AreaCounters[]> areas_;  // kAreaCount entries
  // One bit per area, set (never cleared) once Area() handed out its counters.
  std::unique_ptr<std::atomic<uint64_t>[]> touched_;  // kAreaCount / 64 words

  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> ingested_batches_{0};
  // StorageOptions::migrate_ingest_idle_builders of them; constant after Open.
  std::vector<std::unique_ptr<migration::BulkThread>> ingest_builders_;
  std::mutex recount_mu_;  // one Recount at a time

  // Migration state: fenced buckets and the change sets of recording buckets. The
  // counters let writes skip the mutex while nothing is fenced / recording.
  mutable std::mutex migrate_mu_;
  std::unordered_set<uint32_t> fenced_;                                    // migrate_mu_
  std::unordered_map<uint32_t, std::unordered_set<std::string>> changes_;  // migrate_mu_
  std::atomic<int> fenced_count_{0};
  std::atomic<int> recording_count_{0};
  std::function<void(uint32_t)> unfence_listener_;  // see SetUnfenceListener
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_STORAGE_MANAGER_H_
