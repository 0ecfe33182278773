// DBImpl: open, recovery, reads, snapshots, properties, obsolete-file
// removal, DestroyDB. See db_impl.h for how the code is split.
#include "db/db_impl.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "db/db_iter.h"
#include "db/filename.h"
#include "db/log_reader.h"
#include "db/memtable.h"
#include "db/table_cache.h"
#include "db/version_set.h"
#include "db/write_batch_internal.h"
#include "ldb/comparator.h"
#include "table/merger.h"
#include "util/logging.h"
#include "util/mutexlock.h"

namespace ldb {

// Files the DB keeps open besides tables (WAL, MANIFEST, LOG, LOCK, ...).
constexpr int kNumNonTableCacheFiles = 10;

Snapshot::~Snapshot() = default;
DB::~DB() = default;

// Defined here, beside DB::Open (its main consumer), as no other file of the
// library defines it.
Options::Options() : comparator(BytewiseComparator()), env(Env::Default()) {}

namespace {

template <class T, class V>
void ClipToRange(T* value, V min_value, V max_value) {
  if (static_cast<V>(*value) > max_value) *value = max_value;
  if (static_cast<V>(*value) < min_value) *value = min_value;
}

}  // namespace

Options SanitizeOptions(const std::string& dbname,
                        const InternalKeyComparator* icmp,
                        const InternalFilterPolicy* ipolicy, const Options& src,
                        std::unique_ptr<Cache>* owned_cache,
                        std::unique_ptr<Logger>* owned_log) {
  Options result = src;
  result.comparator = icmp;
  result.filter_policy = src.filter_policy != nullptr ? ipolicy : nullptr;
  ClipToRange(&result.max_open_files, 64 + kNumNonTableCacheFiles, 50000);
  ClipToRange(&result.write_buffer_size, size_t{16} << 10, size_t{1} << 30);
  ClipToRange(&result.max_file_size, size_t{16} << 10, size_t{1} << 30);
  ClipToRange(&result.block_size, size_t{1} << 10, size_t{4} << 20);
  ClipToRange(&result.block_restart_interval, 1, 1 << 16);
  ClipToRange(&result.level0_file_num_compaction_trigger, 1, 1 << 20);
  ClipToRange(&result.compaction_nice, 0, 19);
  if (result.level0_slowdown_writes_trigger <
      result.level0_file_num_compaction_trigger) {
    result.level0_slowdown_writes_trigger =
        result.level0_file_num_compaction_trigger;
  }
  if (result.level0_stop_writes_trigger <
      result.level0_slowdown_writes_trigger) {
    result.level0_stop_writes_trigger = result.level0_slowdown_writes_trigger;
  }
  if (result.max_bytes_for_level_base == 0) {
    result.max_bytes_for_level_base = 1;
  }
  if (result.info_log == nullptr) {
    // A LOG file in the DB directory, the previous one kept as LOG.old. Not
    // when the open is going to fail for a missing DB: that must not
    // create the directory.
    Env* env = src.env;
    if (src.create_if_missing || env->FileExists(CurrentFileName(dbname))) {
      env->CreateDir(dbname).IgnoreError();  // may already exist
      env->RenameFile(InfoLogFileName(dbname), OldInfoLogFileName(dbname))
          .IgnoreError();  // there may be no LOG yet
      if (env->NewLogger(InfoLogFileName(dbname), owned_log).ok()) {
        result.info_log = owned_log->get();
      } else {
        owned_log->reset();  // no logging rather than no DB
      }
    }
  }
  if (result.block_cache == nullptr) {
    *owned_cache = NewLRUCache(8 << 20);
    result.block_cache = owned_cache->get();
  }
  return result;
}

DBImpl::DBImpl(const Options& raw_options, const std::string& dbname)
    : env_(raw_options.env),
      internal_comparator_(raw_options.comparator),
      internal_filter_policy_(raw_options.filter_policy),
      options_(SanitizeOptions(dbname, &internal_comparator_,
                               &internal_filter_policy_, raw_options,
                               &owned_block_cache_, &owned_info_log_)),
      dbname_(dbname),
      table_cache_(std::make_unique<TableCache>(
          dbname_, options_, options_.max_open_files - kNumNonTableCacheFiles)),
      background_work_finished_signal_(&mutex_),
      versions_(std::make_unique<VersionSet>(
          dbname_, &options_, table_cache_.get(), &internal_comparator_)) {}

DBImpl::~DBImpl() {
  // Wait for background work to finish.
  mutex_.Lock();
  shutting_down_.store(true, std::memory_order_release);
  while (background_compaction_scheduled_) {
    background_work_finished_signal_.Wait();
  }
  mutex_.Unlock();

  if (db_lock_ != nullptr) {
    env_->UnlockFile(db_lock_).IgnoreError();
    db_lock_ = nullptr;
  }

  // Tear down in dependency order: versions pin files the table cache has
  // open; tables hold blocks of the block cache; the logger goes last.
  versions_.reset();
  if (mem_ != nullptr) mem_->Unref();
  if (imm_ != nullptr) imm_->Unref();
  log_.reset();
  if (logfile_ != nullptr) {
    logfile_->Close().IgnoreError();
    logfile_.reset();
  }
  if (prev_logfile_ != nullptr) {
    prev_logfile_->Close().IgnoreError();
    prev_logfile_.reset();
  }
  table_cache_.reset();
  owned_block_cache_.reset();
}

// ---------------------------------------------------------------- Open

Status DBImpl::NewDB() {
  VersionEdit new_db;
  new_db.SetComparatorName(user_comparator()->Name());
  new_db.SetLogNumber(0);
  new_db.SetNextFile(2);
  new_db.SetLastSequence(0);

  const uint64_t manifest_number = 1;
  const std::string manifest = DescriptorFileName(dbname_, manifest_number);
  std::unique_ptr<WritableFile> file;
  Status s = env_->NewWritableFile(manifest, &file);
  if (!s.ok()) return s;
  {
    log::Writer writer(file.get());
    std::string record;
    new_db.EncodeTo(&record);
    s = writer.AddRecord(record);
    if (s.ok()) s = file->Sync();
    if (s.ok()) {
      s = file->Close();
    } else {
      file->Close().IgnoreError();
    }
  }
  file.reset();
  if (s.ok()) {
    // Makes the MANIFEST live (and syncs the directory).
    s = SetCurrentFile(env_, dbname_, manifest_number);
  }
  if (!s.ok()) env_->RemoveFile(manifest).IgnoreError();
  return s;
}

void DBImpl::MaybeIgnoreError(Status* s) const {
  if (s->ok() || options_.paranoid_checks) return;
  Log(options_.info_log, "Ignoring error %s", s->ToString().c_str());
  *s = Status::OK();
}

Status DBImpl::Recover(VersionEdit* edit, bool* save_manifest) {
  mutex_.AssertHeld();
  if (!options_.create_if_missing &&
      !env_->FileExists(CurrentFileName(dbname_))) {
    return Status::InvalidArgument(
        dbname_, "does not exist (create_if_missing is false)");
  }
  if (options_.create_if_missing) {
    env_->CreateDir(dbname_).IgnoreError();  // may already exist
  }
  assert(db_lock_ == nullptr);
  Status s = env_->LockFile(LockFileName(dbname_), &db_lock_);
  if (!s.ok()) return s;

  if (!env_->FileExists(CurrentFileName(dbname_))) {
    if (!options_.create_if_missing) {
      return Status::InvalidArgument(
          dbname_, "does not exist (create_if_missing is false)");
    }
    Log(options_.info_log, "Creating DB %s", dbname_.c_str());
    s = NewDB();
    if (!s.ok()) return s;
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dbname_, "exists (error_if_exists is true)");
  }

  s = versions_->Recover(save_manifest);
  if (!s.ok()) return s;

  // Every table the MANIFEST names must exist; the WALs not yet in tables
  // (numbered from the MANIFEST's log number on) are replayed in order.
  const uint64_t min_log = versions_->LogNumber();
  const uint64_t prev_log = versions_->PrevLogNumber();
  std::vector<std::string> filenames;
  s = env_->GetChildren(dbname_, &filenames);
  if (!s.ok()) return s;
  std::set<uint64_t> expected;
  versions_->AddLiveFiles(&expected);
  std::vector<uint64_t> logs;
  for (const std::string& filename : filenames) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(filename, &number, &type)) continue;
    if (type == kTableFile) expected.erase(number);
    if (type == kLogFile && (number >= min_log || number == prev_log)) {
      logs.push_back(number);
    }
  }
  if (!expected.empty()) {
    return Status::Corruption(
        NumberToString(expected.size()) + " table files missing, e.g.",
        TableFileName(dbname_, *expected.begin()));
  }

  std::sort(logs.begin(), logs.end());
  // The previous run may have created these logs without recording any
  // MANIFEST edit afterwards: keep their numbers from being reused.
  for (uint64_t log : logs) versions_->MarkFileNumberUsed(log);
  SequenceNumber max_sequence = 0;
  for (uint64_t log : logs) {
    s = RecoverLogFile(log, edit, &max_sequence);
    if (!s.ok()) return s;
  }
  if (versions_->LastSequence() < max_sequence) {
    versions_->SetLastSequence(max_sequence);
  }
  *save_manifest = true;
  return Status::OK();
}

namespace {

// Reports WAL damage met during recovery: logs it and, with paranoid
// checks, remembers the first error so recovery aborts.
class LogReporter final : public log::Reader::Reporter {
 public:
  LogReporter(Logger* info_log, std::string fname, Status* status)
      : info_log_(info_log), fname_(std::move(fname)), status_(status) {}

  void Corruption(size_t bytes, const Status& s) override {
    Log(info_log_, "%s%s: dropping %zu bytes; %s",
        status_ == nullptr ? "(ignoring error) " : "", fname_.c_str(), bytes,
        s.ToString().c_str());
    if (status_ != nullptr && status_->ok()) *status_ = s;
  }

 private:
  Logger* const info_log_;
  const std::string fname_;
  Status* const status_;  // null: ignore damage
};

}  // namespace

Status DBImpl::RecoverLogFile(uint64_t log_number, VersionEdit* edit,
                              SequenceNumber* max_sequence) {
  mutex_.AssertHeld();
  const std::string fname = LogFileName(dbname_, log_number);
  std::unique_ptr<SequentialFile> file;
  Status status = env_->NewSequentialFile(fname, &file);
  if (!status.ok()) {
    MaybeIgnoreError(&status);
    return status;
  }

  LogReporter reporter(options_.info_log, fname,
                       options_.paranoid_checks ? &status : nullptr);
  // Checksums are always verified: a damaged record must never be applied.
  log::Reader reader(file.get(), &reporter, /*checksum=*/true,
                     /*initial_offset=*/0);
  Log(options_.info_log, "Recovering log #%" PRIu64, log_number);

  std::string scratch;
  Slice record;
  WriteBatch batch;
  MemTable* mem = nullptr;
  int flushes = 0;
  uint64_t records = 0;
  while (reader.ReadRecord(&record, &scratch) && status.ok()) {
    if (record.size() < WriteBatchInternal::kHeader) {
      reporter.Corruption(record.size(),
                          Status::Corruption("log record too small"));
      continue;
    }
    Status s = WriteBatchInternal::SetContents(&batch, record);
    if (s.ok()) {
      if (mem == nullptr) {
        mem = new MemTable(internal_comparator_);
        mem->Ref();
      }
      s = WriteBatchInternal::InsertInto(&batch, mem);
    }
    if (!s.ok()) {
      MaybeIgnoreError(&s);
      if (!s.ok()) {
        status = s;
        break;
      }
      continue;
    }
    ++records;
    const int count = WriteBatchInternal::Count(&batch);
    if (count > 0) {
      const SequenceNumber last_seq =
          WriteBatchInternal::Sequence(&batch) + count - 1;
      if (last_seq > *max_sequence) *max_sequence = last_seq;
    }
    if (mem->ApproximateMemoryUsage() > options_.write_buffer_size) {
      // Flush as the memtable fills, as the live DB would have.
      ++flushes;
      status = WriteLevel0Table(mem, edit, nullptr);
      mem->Unref();
      mem = nullptr;
      if (!status.ok()) break;
    }
  }
  file.reset();

  if (mem != nullptr) {
    if (status.ok()) status = WriteLevel0Table(mem, edit, nullptr);
    mem->Unref();
    ++flushes;
  }
  Log(options_.info_log,
      "Recovered log #%" PRIu64 ": %" PRIu64 " records, %d flushes: %s",
      log_number, records, flushes, status.ToString().c_str());
  return status;
}

Status DB::Open(const Options& options, const std::string& dbname,
                std::unique_ptr<DB>* dbptr) {
  dbptr->reset();
  if (options.comparator == nullptr || options.env == nullptr) {
    return Status::InvalidArgument("Options: comparator and env must be set");
  }
  auto impl = std::make_unique<DBImpl>(options, dbname);
  impl->mutex_.Lock();
  VersionEdit edit;
  bool save_manifest = false;
  Status s = impl->Recover(&edit, &save_manifest);
  if (s.ok()) {
    // A fresh WAL for this run; the replayed ones are in tables now.
    const uint64_t new_log_number = impl->versions_->NewFileNumber();
    std::unique_ptr<WritableFile> lfile;
    s = options.env->NewLogFile(LogFileName(dbname, new_log_number),
                                     &lfile);
    if (s.ok()) {
      edit.SetLogNumber(new_log_number);
      impl->logfile_ = std::move(lfile);
      impl->logfile_dir_unsynced_ = true;
      impl->logfile_number_ = new_log_number;
      impl->log_ = std::make_unique<log::Writer>(impl->logfile_.get());
      impl->mem_ = new MemTable(impl->internal_comparator_);
      impl->mem_->Ref();
    }
  }
  if (s.ok() && save_manifest) {
    edit.SetPrevLogNumber(0);  // no older log is needed any more
    edit.SetLogNumber(impl->logfile_number_);
    s = impl->versions_->LogAndApply(&edit, &impl->mutex_);
  }
  if (s.ok()) {
    impl->RemoveObsoleteFiles();
    impl->MaybeScheduleCompaction();
    Log(impl->options_.info_log, "Opened %s: %s, last sequence %" PRIu64,
        dbname.c_str(), impl->versions_->LevelSummary().c_str(),
        impl->versions_->LastSequence());
  }
  impl->mutex_.Unlock();
  if (s.ok()) *dbptr = std::move(impl);
  return s;
}

// ---------------------------------------------------------------- Files

namespace {

// RemoveObsoleteFiles lists the directory at least once per this many calls,
// to catch what no candidate names (a temporary file left by a failed write,
// a WAL whose creation failed).
constexpr int kRemovalsPerDirectoryScan = 64;

}  // namespace

// Listing the directory after every compaction costs O(files in the DB) of
// kernel time that cannot be preempted (ext4 builds a hash tree of the whole
// directory per readdir): a data server's cleanup, one CompactRangeSelfLevel
// per bucket over ~1,500 tables, spent half of its background thread's CPU
// there and held up requests on that CPU for ~1 ms at a time. So the tables
// that may have become obsolete are tracked instead (obsolete_candidates_),
// and the directory is listed only at Open, when the WAL or MANIFEST numbers
// changed (an old WAL or MANIFEST may be due), and every
// kRemovalsPerDirectoryScan calls.
bool DBImpl::NeedsDirectoryScan() {
  mutex_.AssertHeld();
  return !dir_scanned_ || removals_since_scan_ >= kRemovalsPerDirectoryScan ||
         versions_->LogNumber() != scanned_log_number_ ||
         versions_->PrevLogNumber() != scanned_prev_log_number_ ||
         versions_->ManifestFileNumber() != scanned_manifest_number_;
}

void DBImpl::ReleasePendingOutput(uint64_t number) {
  mutex_.AssertHeld();
  pending_outputs_.erase(number);
  obsolete_candidates_.push_back(number);
}

void DBImpl::RemoveObsoleteFiles() {
  mutex_.AssertHeld();
  if (!bg_error_.ok()) {
    // After a background error we cannot tell whether the last edit was
    // committed: keep everything.
    return;
  }
  versions_->TakeRemovedFiles(&obsolete_candidates_);
  std::set<uint64_t> live = pending_outputs_;
  std::set<uint64_t> current;
  versions_->AddLiveFiles(&live, &current);

  std::vector<std::string> to_delete;  // full paths
  auto remove = [&](std::string path, FileType type, uint64_t number) {
    to_delete.push_back(std::move(path));
    if (type == kTableFile) table_cache_->Evict(number);
    Log(options_.info_log, "Delete type=%d #%" PRIu64, static_cast<int>(type),
        number);
  };
  // A listing that fails leaves the scan due (and the candidates are deleted
  // by name meanwhile).
  std::vector<std::string> filenames;
  const bool scan =
      NeedsDirectoryScan() && env_->GetChildren(dbname_, &filenames).ok();
  // Candidates that are neither in the current Version (installed, or moved
  // to another level) nor held by an older one (an iterator's) are deleted
  // here, or by the scan below; the held ones are looked at again next time.
  std::sort(obsolete_candidates_.begin(), obsolete_candidates_.end());
  obsolete_candidates_.erase(
      std::unique(obsolete_candidates_.begin(), obsolete_candidates_.end()),
      obsolete_candidates_.end());
  std::vector<uint64_t> held;
  for (uint64_t number : obsolete_candidates_) {
    if (current.count(number) > 0) continue;
    if (live.count(number) > 0) {
      held.push_back(number);
    } else if (!scan) {
      remove(TableFileName(dbname_, number), kTableFile, number);
    }
  }
  obsolete_candidates_ = std::move(held);

  if (scan) {
    for (const std::string& filename : filenames) {
      uint64_t number;
      FileType type;
      if (!ParseFileName(filename, &number, &type)) continue;
      bool keep = true;
      switch (type) {
        case kLogFile:
          keep = number >= versions_->LogNumber() ||
                 number == versions_->PrevLogNumber();
          break;
        case kDescriptorFile:
          // Keep the live MANIFEST (and any newer one being created).
          keep = number >= versions_->ManifestFileNumber();
          break;
        case kTableFile:
        case kTempFile:
          // A table (or temporary file) still being written is in
          // pending_outputs_.
          keep = live.count(number) > 0;
          break;
        case kCurrentFile:
        case kDBLockFile:
        case kInfoLogFile:
          keep = true;
          break;
      }
      if (!keep) remove(dbname_ + "/" + filename, type, number);
    }
    dir_scanned_ = true;
    scanned_log_number_ = versions_->LogNumber();
    scanned_prev_log_number_ = versions_->PrevLogNumber();
    scanned_manifest_number_ = versions_->ManifestFileNumber();
    removals_since_scan_ = 0;
  } else {
    ++removals_since_scan_;
  }

  // Deleting needs no lock: the files are unreachable. Every caller holds
  // the background slot (the background thread, a compaction's flush of
  // imm_, Open), so no two deleters run at once.
  mutex_.Unlock();
  for (const std::string& path : to_delete) {
    env_->RemoveFile(path).IgnoreError();
  }
  mutex_.Lock();
}

// ---------------------------------------------------------------- Reads

std::unique_ptr<Iterator> DBImpl::NewInternalIterator(
    const ReadOptions& options, SequenceNumber* latest_snapshot) {
  MutexLock l(&mutex_);
  *latest_snapshot = versions_->LastSequence();

  std::vector<std::unique_ptr<Iterator>> children;
  MemTable* mem = mem_;
  MemTable* imm = imm_;
  Version* version = versions_->current();
  children.push_back(mem->NewIterator());
  mem->Ref();
  if (imm != nullptr) {
    children.push_back(imm->NewIterator());
    imm->Ref();
  }
  version->AddIterators(options, &children);
  version->Ref();

  std::unique_ptr<Iterator> result =
      NewMergingIterator(&internal_comparator_, std::move(children));
  result->RegisterCleanup([this, mem, imm, version] {
    MutexLock cleanup_lock(&mutex_);
    mem->Unref();
    if (imm != nullptr) imm->Unref();
    version->Unref();
  });
  return result;
}

std::unique_ptr<Iterator> DBImpl::TEST_NewInternalIterator() {
  SequenceNumber ignored;
  return NewInternalIterator(ReadOptions(), &ignored);
}

int64_t DBImpl::TEST_MaxNextLevelOverlappingBytes() {
  MutexLock l(&mutex_);
  return versions_->MaxNextLevelOverlappingBytes();
}

Status DBImpl::Get(const ReadOptions& options, const Slice& key,
                   std::string* value) {
  Status s;
  MutexLock l(&mutex_);
  const SequenceNumber snapshot =
      options.snapshot != nullptr
          ? static_cast<const SnapshotImpl*>(options.snapshot)->sequence()
          : versions_->LastSequence();

  MemTable* mem = mem_;
  MemTable* imm = imm_;
  Version* current = versions_->current();
  mem->Ref();
  if (imm != nullptr) imm->Ref();
  current->Ref();

  bool have_stat_update = false;
  Version::GetStats stats;
  {
    // Read without the mutex: the memtables and the Version are pinned.
    // The newest visible entry decides; one hidden by a deletion or by the
    // comparator's hooks (reclaimed / expired at `now`) is NotFound and
    // older versions are never consulted.
    mutex_.Unlock();
    const uint64_t now = env_->NowSeconds();
    LookupKey lkey(key, snapshot);
    if (mem->Get(lkey, now, value, &s)) {
      // Found in the memtable (a value, or a hidden key).
    } else if (imm != nullptr && imm->Get(lkey, now, value, &s)) {
      // Found in the immutable memtable.
    } else {
      s = current->Get(options, lkey, now, value, &stats);
      have_stat_update = true;
    }
    mutex_.Lock();
  }

  if (have_stat_update && current->UpdateStats(stats)) {
    MaybeScheduleCompaction();  // a file ran out of allowed seeks
  }
  mem->Unref();
  if (imm != nullptr) imm->Unref();
  current->Unref();
  return s;
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  SequenceNumber latest_snapshot;
  std::unique_ptr<Iterator> iter =
      NewInternalIterator(options, &latest_snapshot);
  const SequenceNumber sequence =
      options.snapshot != nullptr
          ? static_cast<const SnapshotImpl*>(options.snapshot)->sequence()
          : latest_snapshot;
  // The built-in bytewise order has no hooks (Comparator's "no" defaults):
  // its iterator skips asking them per entry.
  if (user_comparator() == BytewiseComparator()) {
    return NewDBIterator(user_comparator(), std::move(iter), sequence);
  }
  // Expiry is judged against the clock as of the iterator's creation, like
  // its sequence.
  return NewDBIterator(user_comparator(), std::move(iter), sequence,
                       env_->NowSeconds());
}

const Snapshot* DBImpl::GetSnapshot() {
  MutexLock l(&mutex_);
  return snapshots_.New(versions_->LastSequence());
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  MutexLock l(&mutex_);
  snapshots_.Delete(static_cast<const SnapshotImpl*>(snapshot));
}

// ---------------------------------------------------------------- Properties

std::string DBImpl::StatsString() {
  mutex_.AssertHeld();
  std::string result;
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "                               Compactions\n"
                "Level  Files Size(MB) Time(sec) Read(MB) Write(MB) Count\n"
                "--------------------------------------------------------\n");
  result.append(buf);
  // Totals over every output level (flushes count as writes to theirs).
  CompactionStats total;
  for (int level = 0; level < config::kNumLevels; ++level) {
    const CompactionStats& st = stats_[level];
    total.Add(st);
    const int files = versions_->NumLevelFiles(level);
    if (st.count > 0 || files > 0) {
      // (Tools parse these seven columns: keep them.)
      std::snprintf(buf, sizeof(buf),
                    "%3d %8d %8.0f %9.0f %8.0f %9.0f %5" PRId64 "\n", level,
                    files, versions_->NumLevelBytes(level) / 1048576.0,
                    st.micros / 1e6, st.bytes_read / 1048576.0,
                    st.bytes_written / 1048576.0, st.count);
      result.append(buf);
    }
  }
  // Cumulative, in exact units: compactions' bytes read, written, and
  // removed from disk (read + deleted unread - written); entries left out
  // by rule (see ShouldDropEntry); input files deleted unread
  // (ShouldDropRange). Flushes count their reclaimed entries too.
  std::snprintf(buf, sizeof(buf),
                "Compaction bytes: read=%" PRId64 " written=%" PRId64
                " dropped=%" PRId64
                "\n"
                "Dropped entries: shadowed=%" PRIu64 " tombstone=%" PRIu64
                " should_drop=%" PRIu64 " should_drop_maybe=%" PRIu64
                "\n"
                "Dropped whole files: whole_files=%" PRId64
                " whole_file_bytes=%" PRId64 "\n",
                total.bytes_read, total.compaction_bytes_written,
                total.bytes_dropped, total.entries_dropped[kDropShadowed],
                total.entries_dropped[kDropTombstone],
                total.entries_dropped[kDropReclaimed],
                total.entries_dropped[kDropExpired], total.files_dropped_whole,
                total.bytes_dropped_whole);
  result.append(buf);
  std::snprintf(buf, sizeof(buf),
                "Write stalls: slowdowns=%" PRIu64 " slowdown_ms=%.1f"
                " level0_stop_ms=%.1f memtable_ms=%.1f"
                " low_priority_waits=%" PRIu64 " low_priority_ms=%.1f\n",
                stall_stats_.slowdowns, stall_stats_.slowdown_micros / 1e3,
                stall_stats_.level0_stop_micros / 1e3,
                stall_stats_.memtable_micros / 1e3,
                stall_stats_.low_priority_waits,
                stall_stats_.low_priority_micros / 1e3);
  result.append(buf);
  const WriteGroupStats& wg = write_group_stats_;
  std::snprintf(
      buf, sizeof(buf),
      "Write groups: groups=%" PRIu64 " writers=%" PRIu64
      " sync_groups=%" PRIu64 " sync_writers=%" PRIu64
      " wal_sync_avg_us=%.0f gather_timeouts=%" PRIu64 "\n",
      wg.groups, wg.writers, wg.sync_groups, wg.sync_writers,
      wg.timed_syncs == 0 ? 0.0
                          : static_cast<double>(wg.timed_sync_micros) /
                                static_cast<double>(wg.timed_syncs),
      wg.gather_timeouts);
  result.append(buf);
  std::snprintf(buf, sizeof(buf), "Table cache: opens=%" PRIu64 "\n",
                table_cache_->Opens());
  result.append(buf);
  std::snprintf(buf, sizeof(buf),
                "Ingested: files=%" PRIu64 " MB=%.1f\n", ingested_files_,
                ingested_bytes_ / 1048576.0);
  result.append(buf);
  result.append("Background error: ");
  result.append(bg_error_.ToString());
  result.append("\n");
  return result;
}

bool DBImpl::GetProperty(const Slice& property, std::string* value) {
  value->clear();
  MutexLock l(&mutex_);
  Slice in = property;
  const Slice prefix("ldb.");
  if (!in.starts_with(prefix)) return false;
  in.remove_prefix(prefix.size());

  if (in.starts_with("num-files-at-level")) {
    in.remove_prefix(sizeof("num-files-at-level") - 1);
    uint64_t level;
    if (!ConsumeDecimalNumber(&in, &level) || !in.empty() ||
        level >= static_cast<uint64_t>(config::kNumLevels)) {
      return false;
    }
    *value = NumberToString(static_cast<uint64_t>(
        versions_->NumLevelFiles(static_cast<int>(level))));
    return true;
  }
  if (in == "stats") {
    *value = StatsString();
    return true;
  }
  if (in == "sstables") {
    *value = versions_->current()->DebugString();
    return true;
  }
  if (in == "approximate-memory-usage") {
    size_t total = options_.block_cache->TotalCharge();
    if (mem_ != nullptr) total += mem_->ApproximateMemoryUsage();
    if (imm_ != nullptr) total += imm_->ApproximateMemoryUsage();
    *value = NumberToString(total);
    return true;
  }
  if (in == "sequence") {
    *value = NumberToString(versions_->LastSequence());
    return true;
  }
  if (in == "largest-filenumber") {
    *value = NumberToString(versions_->NextFileNumber() - 1);
    return true;
  }
  if (in == "write-stall-micros") {
    // Time normal writers were held back: level-0 slowdowns and stops, and
    // waits for the previous memtable's flush.
    *value = NumberToString(stall_stats_.slowdown_micros +
                            stall_stats_.level0_stop_micros +
                            stall_stats_.memtable_micros);
    return true;
  }
  if (in == "low-priority-wait-micros") {
    *value = NumberToString(stall_stats_.low_priority_micros);
    return true;
  }
  if (in == "table-opens") {
    *value = NumberToString(table_cache_->Opens());
    return true;
  }
  if (in == "background-error") {
    *value = bg_error_.ToString();
    return true;
  }
  return false;
}

void DBImpl::GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) {
  MutexLock l(&mutex_);
  Version* v = versions_->current();
  v->Ref();
  for (int i = 0; i < n; ++i) {
    const InternalKey start(ranges[i].start, kMaxSequenceNumber,
                            kValueTypeForSeek);
    const InternalKey limit(ranges[i].limit, kMaxSequenceNumber,
                            kValueTypeForSeek);
    const uint64_t start_offset = versions_->ApproximateOffsetOf(v, start);
    const uint64_t limit_offset = versions_->ApproximateOffsetOf(v, limit);
    sizes[i] = limit_offset >= start_offset ? limit_offset - start_offset : 0;
  }
  v->Unref();
}

// ---------------------------------------------------------------- DestroyDB

Status DestroyDB(const std::string& dbname, const Options& options) {
  Env* env = options.env;
  std::vector<std::string> filenames;
  Status result = env->GetChildren(dbname, &filenames);
  if (!result.ok()) {
    return Status::OK();  // nothing there to destroy
  }
  const std::string lockname = LockFileName(dbname);
  FileLock* lock = nullptr;
  result = env->LockFile(lockname, &lock);
  if (!result.ok()) return result;  // the DB is open somewhere
  for (const std::string& filename : filenames) {
    uint64_t number;
    FileType type;
    if (ParseFileName(filename, &number, &type) && type != kDBLockFile) {
      Status del = env->RemoveFile(dbname + "/" + filename);
      if (result.ok() && !del.ok()) result = del;
    }
  }
  env->UnlockFile(lock).IgnoreError();
  env->RemoveFile(lockname).IgnoreError();
  env->RemoveDir(dbname).IgnoreError();  // fails if other files remain
  return result;
}

}  // namespace ldb
