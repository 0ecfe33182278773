// DBImpl: the DB implementation. The code is split by concern:
//   db_impl.cc             open, recovery, reads, snapshots, properties,
//                          obsolete-file removal, DestroyDB
//   db_impl_write.cc       the write path: writer queue, group commit,
//                          MakeRoomForWrite
//   db_impl_compaction.cc  background work: memtable flushes, compactions,
//                          manual compactions
//   db_impl_ingest.cc      IngestSorted: tables written outside the write
//                          path, installed by whoever holds the background
//                          slot
//
// Thread-safe (see ldb/db.h). One mutex (mutex_) guards the state below
// marked "Protected by mutex_"; slow work (WAL writes, memtable inserts,
// table reads and builds, MANIFEST writes) runs with it released.
#ifndef LDB_DB_DB_IMPL_H_
#define LDB_DB_DB_IMPL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/dbformat.h"
#include "db/log_writer.h"
#include "db/snapshot.h"
#include "ldb/cache.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "port/port.h"
#include "port/thread_annotations.h"

namespace ldb {

struct FileMetaData;
class MemTable;
class TableCache;
class Version;
class VersionEdit;
class VersionSet;

class DBImpl : public DB {
 public:
  DBImpl(const Options& raw_options, const std::string& dbname);
  DBImpl(const DBImpl&) = delete;
  DBImpl& operator=(const DBImpl&) = delete;
  ~DBImpl() override;

  // DB interface.
  Status Put(const WriteOptions& options, const Slice& key,
             const Slice& value) override;
  Status Delete(const WriteOptions& options, const Slice& key) override;
  Status Write(const WriteOptions& options, WriteBatch* updates) override;
  Status Get(const ReadOptions& options, const Slice& key,
             std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  bool GetProperty(const Slice& property, std::string* value) override;
  void GetApproximateSizes(const Range* ranges, int n,
                           uint64_t* sizes) override;
  void CompactRange(const Slice* begin, const Slice* end) override;
  Status CompactRangeSelfLevel(uint64_t limit_filenumber, const Slice* begin,
                               const Slice* end,
                               SelfLevelCompactionStats* stats) override;
  using DB::CompactRangeSelfLevel;
  Status IngestSorted(const std::vector<std::pair<Slice, Slice>>& entries,
                      IngestStats* stats, const IngestOptions& options) override;
  using DB::IngestSorted;

  // ---- Test hooks.
  // Compacts the files of `level` overlapping [*begin, *end] into level+1.
  void TEST_CompactRange(int level, const Slice* begin, const Slice* end);
  // Switches to a new memtable and waits until the old one is flushed.
  Status TEST_CompactMemTable();
  // The merged internal-key iterator (memtables + current Version).
  std::unique_ptr<Iterator> TEST_NewInternalIterator();
  // See VersionSet::MaxNextLevelOverlappingBytes.
  int64_t TEST_MaxNextLevelOverlappingBytes();
  // Compactions split into more than one key range (run in parallel) so far.
  uint64_t TEST_MultiRangeCompactions() const {
    return multi_range_compactions_.load(std::memory_order_relaxed);
  }
  // Waits until no flush or compaction is needed or running (or background
  // work stopped: error, shutdown).
  void TEST_WaitForBackgroundIdle();

 private:
  friend class DB;
  struct CompactionState;
  struct IngestJob;
  struct SequenceRequest;
  struct SubcompactionState;
  struct Writer;

  // A CompactRange request for one level, or a whole CompactRangeSelfLevel
  // call (every level in turn), served step by step by the background
  // thread. It stays queued (manual_compaction_) until done: the requesting
  // thread is not needed between steps, so automatic work that keeps the
  // background thread busy cannot starve it (the requester had to win mutex_
  // right after each step to queue the next one, and could lose that race
  // for minutes under a steady write load). Once done, the requester returns
  // without waiting for the background thread to be idle, which it never is
  // under such a load.
  struct ManualCompaction {
    int level = 0;
    bool done = false;
    const InternalKey* begin = nullptr;  // null means before every key
    const InternalKey* end = nullptr;    // null means after every key
    InternalKey tmp_storage;             // where a partial run stopped
    // CompactRangeSelfLevel: output stays in `level` (level 0: level 1);
    // above level 0 only files numbered below limit_filenumber. The passes
    // go from level 0 down, each from range_begin.
    bool self_level = false;
    uint64_t limit_filenumber = 0;
    const InternalKey* range_begin = nullptr;
    // CompactRangeSelfLevel's first pass: delete every wholly reclaimed
    // file of the range, in all levels, in one MANIFEST edit.
    bool drop_reclaimed_files = false;
    Status status;                   // first error of a self-level run
    SelfLevelCompactionStats stats;  // accumulated by self-level steps
    uint64_t whole_file_bytes = 0;   // bytes of files dropped unread
  };

  // Why a compaction left an entry out (the rules of ShouldDropEntry).
  enum DropReason : int {
    kDropShadowed = 0,  // a newer entry every snapshot sees
    kDropTombstone,     // an obsolete deletion at its base level
    kDropReclaimed,     // Comparator::ShouldDrop
    kDropExpired,       // Comparator::ShouldDropMaybe, at its base level
    kNumDropReasons
  };

  // Compaction work per output level, for "ldb.stats".
  struct CompactionStats {
    void Add(const CompactionStats& c) {
      micros += c.micros;
      bytes_read += c.bytes_read;
      bytes_written += c.bytes_written;
      count += c.count;
      compaction_bytes_written += c.compaction_bytes_written;
      bytes_dropped += c.bytes_dropped;
      files_dropped_whole += c.files_dropped_whole;
      bytes_dropped_whole += c.bytes_dropped_whole;
      for (int r = 0; r < kNumDropReasons; ++r) {
        entries_dropped[r] += c.entries_dropped[r];
      }
    }
    int64_t micros = 0;
    int64_t bytes_read = 0;     // of the input files read (merged)
    int64_t bytes_written = 0;  // by flushes and compactions
    int64_t count = 0;
    // Compactions only: bytes written, and bytes removed from disk (read +
    // deleted unread - written).
    int64_t compaction_bytes_written = 0;
    int64_t bytes_dropped = 0;
    // Input files deleted unread (Comparator::ShouldDropRange).
    int64_t files_dropped_whole = 0;
    int64_t bytes_dropped_whole = 0;
    // Entries of the files read that were left out, by DropReason.
    uint64_t entries_dropped[kNumDropReasons] = {};
  };

  // ---- db_impl.cc
  std::unique_ptr<Iterator> NewInternalIterator(const ReadOptions& options,
                                                SequenceNumber* latest_snapshot)
      LOCKS_EXCLUDED(mutex_);
  // Writes the MANIFEST and CURRENT of an empty DB.
  Status NewDB();
  // Locks the DB, creates it if allowed, loads the MANIFEST and replays the
  // WALs newer than it into level-0 tables recorded in *edit.
  Status Recover(VersionEdit* edit, bool* save_manifest)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status RecoverLogFile(uint64_t log_number, VersionEdit* edit,
                        SequenceNumber* max_sequence)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Turns *s into OK (logging it) unless paranoid_checks is set.
  void MaybeIgnoreError(Status* s) const;
  // Deletes files no live Version, pending output or current log needs.
  // Only the background thread and Open call it (it drops the mutex while
  // deleting). Lists the directory only now and then (see db_impl.cc).
  void RemoveObsoleteFiles() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // True when RemoveObsoleteFiles must list the directory.
  bool NeedsDirectoryScan() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Takes `number` out of pending_outputs_ (its table was installed, or
  // abandoned and must go) and makes it an obsolete-file candidate.
  void ReleasePendingOutput(uint64_t number) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // "ldb.stats".
  std::string StatsString() EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // ---- db_impl_write.cc
  // Runs one write group (the writers at the front of writers_) and pops its
  // writers, done, with the group's status. Appends those other than self
  // (the calling writer, which need not be in the group) to *wake_list, for
  // the caller to wake with ReleaseWriters once it has released mutex_.
  // REQUIRES: !group_running_, writers_ not empty.
  void RunWriteGroup(Writer* self, std::vector<Writer*>* wake_list)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Sets the released writers' wake to kDone and wakes those asleep: each
  // one sleeping on its own condition variable alone, those sleeping on a
  // group_cv_ with one broadcast.
  void ReleaseWriters(const std::vector<Writer*>& writers)
      LOCKS_EXCLUDED(wait_mu_);
  // Tells w it is the front writer. REQUIRES: w not released.
  void WakeFront(Writer* w) EXCLUSIVE_LOCKS_REQUIRED(mutex_)
      LOCKS_EXCLUDED(wait_mu_);
  // Microseconds the next group should still wait for sync writers released
  // by the previous sync to queue again (0: start now). See the group commit
  // members below.
  uint64_t GatherWaitMicros() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // A sequence number above every one handed out so far, published (as the
  // last sequence) before it returns, so every later write gets a larger
  // one. Waits while a write group runs (its numbers are handed out but not
  // published yet); that group serves the request when it ends.
  SequenceNumber ReserveSequence() LOCKS_EXCLUDED(mutex_);
  // Serves sequence_requests_. REQUIRES: no write group running.
  void ServeSequenceRequests() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Makes sure mem_ has room for a write (or, with force, switches it out),
  // throttling or waiting on level 0 and the immutable memtable.
  // REQUIRES: this thread runs the write group (group_running_).
  Status MakeRoomForWrite(bool force) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The wait of a WriteOptions::low_priority write of `bytes` before it
  // queues (see there).
  void WaitForLowPriorityRoom(size_t bytes) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Makes every earlier WAL and the current WAL's directory entry durable,
  // so that a sync of logfile_ covers every write before it. Called by the
  // thread running a sync group, without the mutex.
  Status SyncEarlierWals();
  // Merges the batches of the writers after the front one into one batch;
  // *last_writer is the last writer included.
  WriteBatch* BuildBatchGroup(Writer** last_writer)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // How full level 0 is, in the unit of the level-0 triggers: files, or
  // write buffers' worth of bytes with cut_flush_at_stop_before. With
  // waiting_only, without the files a running compaction already took.
  double Level0Load(bool waiting_only = false) const
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // ---- db_impl_compaction.cc
  void RecordBackgroundError(const Status& s) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void MaybeScheduleCompaction() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void BackgroundCall() LOCKS_EXCLUDED(mutex_);
  void BackgroundCompaction() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // True when a CompactRangeSelfLevel pass at `level` has files to look at
  // (any overlapping level-0 file; deeper, one numbered below `limit`).
  bool SelfLevelHasWork(int level, uint64_t limit, const InternalKey* begin,
                        const InternalKey* end) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // CompactRangeSelfLevel's first pass (see ManualCompaction).
  void DropReclaimedFiles(ManualCompaction* m)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Moves a CompactRangeSelfLevel request to its next level with work, from
  // m->level (inclusive) down, or marks it done.
  void SeekSelfLevelWithWork(ManualCompaction* m)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // One step of a CompactRangeSelfLevel request.
  void BackgroundSelfLevelCompaction(ManualCompaction* m)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Queues *manual and waits until the background thread finished it (or
  // the DB shuts down or fails).
  void RunManualCompaction(ManualCompaction* manual)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Flushes imm_ and installs the result. With level0_only the table stays
  // in level 0 (flushes while a compaction runs: a deeper level could get a
  // file in a key gap that the compaction's outputs then overlap).
  void CompactMemTable(bool level0_only = false)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // A new table file number, added to pending_outputs_ (the caller erases
  // it once the file is installed or deleted) and to *numbers.
  uint64_t NewPendingFileNumber(std::vector<uint64_t>* numbers)
      LOCKS_EXCLUDED(mutex_);
  // Writes mem to level-0 table(s) (or deeper, when base is given, see
  // Version::PickLevelForMemTableOutput) and records them in *edit.
  Status WriteLevel0Table(MemTable* mem, VersionEdit* edit, Version* base)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status DoCompactionWork(CompactionState* compact)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Cuts compact's key range into compact->ranges: disjoint user-key ranges
  // of about equal input bytes (see Options::max_subcompactions), or one.
  void SplitCompactionRanges(CompactionState* compact) LOCKS_EXCLUDED(mutex_);
  // Merges one key range of a compaction into its own output files and sets
  // sub->status. Runs on any thread; the ranges of a compaction run at once.
  void RunSubcompaction(SubcompactionState* sub) LOCKS_EXCLUDED(mutex_);
  // Called by a running compaction between keys when has_imm_ is set:
  // flushes imm_ unless another range is already doing so. Adds the time
  // spent to *micros. Returns false (the compaction should stop) after a
  // background error.
  bool FlushImmDuringCompaction(uint64_t* micros) LOCKS_EXCLUDED(mutex_);
  // The per-entry decision of a compaction: true when the entry with
  // internal key `key` (in input order) is left out of the output. Keeps the
  // per-user-key state in *sub (all entries of a user key are in one range).
  // Every drop rule lives here.
  bool ShouldDropEntry(SubcompactionState* sub, const Slice& key);
  // True when `f` holds keys on both sides of a ShouldStopBefore boundary
  // (with cut_flush_at_stop_before; see flush_cut_min_bytes).
  bool StraddlesStopBefore(const FileMetaData& f) const;
  // True when the current output file should be closed before `key`.
  bool ShouldCutOutputBefore(SubcompactionState* sub, const Slice& key);
  Status OpenCompactionOutputFile(SubcompactionState* sub)
      LOCKS_EXCLUDED(mutex_);
  Status FinishCompactionOutputFile(SubcompactionState* sub, Iterator* input)
      LOCKS_EXCLUDED(mutex_);
  Status InstallCompactionResults(CompactionState* compact)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void CleanupCompaction(CompactionState* compact)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // ---- db_impl_ingest.cc
  // Installs every queued IngestJob (each its own MANIFEST edit) and
  // completes it. REQUIRES: this thread holds the background slot
  // (background_compaction_scheduled_ set by it), so that no flush or
  // compaction changes the current Version meanwhile; it releases mutex_
  // while reading tables and writing the MANIFEST.
  void InstallIngests() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The level an ingested run of [smallest, largest] goes to (see
  // db_impl_ingest.cc), or NotSupported when a memtable holds a key of it.
  Status PickIngestLevel(const Slice& smallest, const Slice& largest,
                         int* level) EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Comparator* user_comparator() const {
    return internal_comparator_.user_comparator();
  }

  // ---- Constant after construction.
  Env* const env_;
  const InternalKeyComparator internal_comparator_;
  const InternalFilterPolicy internal_filter_policy_;
  // Owned defaults for options the caller left null (declared before
  // options_, which points at them).
  std::unique_ptr<Cache> owned_block_cache_;
  std::unique_ptr<Logger> owned_info_log_;
  // The caller's options with the internal comparator / filter policy and
  // the owned defaults filled in, and sizes clipped to sane ranges.
  const Options options_;
  const std::string dbname_;
  std::unique_ptr<TableCache> table_cache_;

  // Held (Env::LockFile) while the DB is open.
  FileLock* db_lock_ = nullptr;

  port::Mutex mutex_;
  std::atomic<bool> shutting_down_{false};
  // Signalled when background work finishes (and on background errors).
  port::CondVar background_work_finished_signal_;

  // The memtable receiving writes. Replaced only by the thread running the
  // write group, under mutex_; that thread inserts into it without the mutex.
  MemTable* mem_ = nullptr;  // holds a ref
  // The memtable being flushed, or null.
  MemTable* imm_ GUARDED_BY(mutex_) = nullptr;  // holds a ref
  std::atomic<bool> has_imm_{false};  // imm_ != nullptr, readable unlocked
  // The WAL. Appended to and synced by the thread running the write group
  // without the mutex (so never concurrently); replaced by it under the mutex.
  std::unique_ptr<WritableFile> logfile_;
  uint64_t logfile_number_ GUARDED_BY(mutex_) = 0;
  std::unique_ptr<log::Writer> log_;
  // Durability of the WALs is settled lazily, by the first sync group after
  // a WAL switch (SyncEarlierWals) rather than by the switch itself: the WAL
  // before logfile_, still open and maybe not synced (null once synced, or
  // closed at the next switch, when its memtable is in a table); and
  // whether logfile_'s directory entry may not be durable yet. Same access
  // rules as logfile_.
  std::unique_ptr<WritableFile> prev_logfile_;
  bool logfile_dir_unsynced_ = false;

  // Queue of writers, in sequence order; each write group is a prefix.
  std::deque<Writer*> writers_ GUARDED_BY(mutex_);
  // Scratch for group commits. Used by the thread running the group only.
  WriteBatch tmp_batch_ GUARDED_BY(mutex_);

  // ---- Group commit (db_impl_write.cc).
  // A thread runs a write group (room, WAL append and sync, memtable
  // insert); no other group starts meanwhile.
  bool group_running_ GUARDED_BY(mutex_) = false;
  // Sync writers released by the last sync group that have not queued a
  // sync write again. While some are missing, a sync group waits for them
  // (until gather_deadline_micros_ on the steady clock) so that one WAL sync
  // covers them all instead of every other one.
  int sync_writers_outstanding_ GUARDED_BY(mutex_) = 0;
  uint64_t gather_deadline_micros_ GUARDED_BY(mutex_) = 0;
  // When the last sync group was released (steady clock).
  uint64_t released_micros_ GUARDED_BY(mutex_) = 0;
  // Moving averages: how long the released sync writers took to all queue
  // again, and the WAL Sync() latency. They bound the gather wait.
  uint64_t rejoin_micros_avg_ GUARDED_BY(mutex_) = 0;
  uint64_t sync_micros_avg_ GUARDED_BY(mutex_) = 0;
  // Set when a gather runs out of time (rather than see everyone back),
  // counted down by the gathers that succeed after it.
  int recent_gather_timeouts_ GUARDED_BY(mutex_) = 0;
  // Write groups started so far. The writers of group number g that sleep
  // while it is gathered or runs do so on group_cv_[g % 2], so that its
  // release wakes them with one broadcast.
  uint64_t groups_started_ GUARDED_BY(mutex_) = 0;
  // Guards how writers are woken (Writer::wake, Writer::sleeping_on).
  // Acquired after mutex_, never before.
  port::Mutex wait_mu_ ACQUIRED_AFTER(mutex_);
  port::CondVar group_cv_[2] = {port::CondVar(&wait_mu_),
                                port::CondVar(&wait_mu_)};

  // ReserveSequence calls waiting for the running write group to end.
  std::vector<SequenceRequest*> sequence_requests_ GUARDED_BY(mutex_);
  port::CondVar sequence_reserved_signal_{&mutex_};

  SnapshotList snapshots_ GUARDED_BY(mutex_);

  // Numbers of table files being written: not live yet, not obsolete.
  std::set<uint64_t> pending_outputs_ GUARDED_BY(mutex_);
  // Tables that may have become obsolete since the last RemoveObsoleteFiles:
  // removed from the current Version, or released pending outputs. Those an
  // older Version still holds stay here until it is gone.
  std::vector<uint64_t> obsolete_candidates_ GUARDED_BY(mutex_);
  // What the last directory scan of RemoveObsoleteFiles saw (see there).
  bool dir_scanned_ GUARDED_BY(mutex_) = false;
  uint64_t scanned_log_number_ GUARDED_BY(mutex_) = 0;
  uint64_t scanned_prev_log_number_ GUARDED_BY(mutex_) = 0;
  uint64_t scanned_manifest_number_ GUARDED_BY(mutex_) = 0;
  int removals_since_scan_ GUARDED_BY(mutex_) = 0;

  bool background_compaction_scheduled_ GUARDED_BY(mutex_) = false;
  // Level-0 files (and their bytes) that the running compaction takes: they
  // leave level 0 when it finishes, so they do not count toward the write
  // slowdown (see MakeRoomForWrite).
  int level0_files_compacting_ GUARDED_BY(mutex_) = 0;
  uint64_t level0_bytes_compacting_ GUARDED_BY(mutex_) = 0;
  ManualCompaction* manual_compaction_ GUARDED_BY(mutex_) = nullptr;
  // IngestSorted calls whose tables wait to be installed (oldest first).
  std::deque<IngestJob*> pending_ingests_ GUARDED_BY(mutex_);
  // Tables installed by IngestSorted since open, for "ldb.stats".
  uint64_t ingested_files_ GUARDED_BY(mutex_) = 0;
  uint64_t ingested_bytes_ GUARDED_BY(mutex_) = 0;
  // Whether the last background step served manual_compaction_: when
  // automatic work is due too, the two take turns.
  bool last_step_manual_ GUARDED_BY(mutex_) = false;
  // Memtables flushed so far (TEST_CompactMemTable waits for one more).
  uint64_t memtables_flushed_ GUARDED_BY(mutex_) = 0;

  std::unique_ptr<VersionSet> versions_ GUARDED_BY(mutex_);

  // Sticky: once set, writes fail with it and background work stops.
  Status bg_error_ GUARDED_BY(mutex_);

  CompactionStats stats_[config::kNumLevels] GUARDED_BY(mutex_);

  // Time writers spent throttled or stopped in MakeRoomForWrite, for
  // "ldb.stats".
  struct StallStats {
    uint64_t slowdowns = 0;           // delayed writes
    uint64_t slowdown_micros = 0;     // time they were delayed
    uint64_t level0_stop_micros = 0;  // waiting at the level-0 stop trigger
    uint64_t memtable_micros = 0;     // waiting for the previous flush
    uint64_t low_priority_waits = 0;  // low-priority writes that yielded
    uint64_t low_priority_micros = 0;  // time they yielded
  };
  StallStats stall_stats_ GUARDED_BY(mutex_);

  // Write groups since open, for "ldb.stats": how many writers one group
  // (and one WAL sync) covers, and what a WAL sync costs.
  struct WriteGroupStats {
    uint64_t groups = 0;        // groups that wrote a batch
    uint64_t writers = 0;       // writers in them
    uint64_t sync_groups = 0;   // groups that synced the WAL
    uint64_t sync_writers = 0;  // writers in those
    uint64_t timed_syncs = 0;   // WAL syncs timed (see RunWriteGroup)
    uint64_t timed_sync_micros = 0;
    uint64_t gather_timeouts = 0;  // gathers that gave up waiting
  };
  WriteGroupStats write_group_stats_ GUARDED_BY(mutex_);

  // ---- Parallel subcompactions (db_impl_compaction.cc).
  // True while one key range of the running compaction flushes imm_, so
  // that the other ranges keep merging instead. Written under mutex_.
  std::atomic<bool> compaction_flushing_imm_{false};
  // Compactions split into more than one key range.
  std::atomic<uint64_t> multi_range_compactions_{0};
};

// The options a DB really runs with: comparator and filter policy wrapped
// for internal keys, sizes clipped to sane ranges, and a block cache and info
// log created (into *owned_cache / *owned_log) when the caller gave none.
Options SanitizeOptions(const std::string& dbname,
                        const InternalKeyComparator* icmp,
                        const InternalFilterPolicy* ipolicy, const Options& src,
                        std::unique_ptr<Cache>* owned_cache,
                        std::unique_ptr<Logger>* owned_log);

}  // namespace ldb

#endif  // LDB_DB_DB_IMPL_H_
