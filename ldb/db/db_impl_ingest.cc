// DBImpl::IngestSorted: sorted entries written straight into table files,
// outside the write path (no WAL, no memtable, no flush).
//
// Why the result reads correctly:
// - Sequence number. The entries all get S from ReserveSequence: above every
//   number handed out before the call, below every one handed out after it,
//   and published at once, so the MANIFEST edit that installs the tables
//   records a last sequence >= S and a reopened DB never hands S out again.
//   One number serves them all: their keys are distinct. S also puts them
//   above any Comparator::ShouldDrop reclaim recorded before the call.
// - Placement. A read takes the first entry of its key it meets, going from
//   the memtables through level 0 (newest file first) down the levels. So
//   nothing above the new tables may hold a key of their range [smallest,
//   largest], whatever its sequence:
//   * the memtables must hold none (NotSupported otherwise: the caller
//     writes through Write instead);
//   * when a level-0 file holds one, the tables join level 0, where they
//     are the newest files (higher numbers than every file there);
//   * otherwise they go to the deepest level L such that no level in 1..L-1
//     holds a key of the range and no file of L overlaps it (files of a
//     level above 0 are disjoint). "Holds a key" is checked by reading:
//     a file whose range spans [smallest, largest] may hold none of it
//     (level-0 flushes span many buckets; files are cut around them).
//   Entries of the range below L are older than S: the new tables shadow
//   them, as newer entries do.
// - Concurrency. The tables are installed by the thread holding the
//   background slot (background_compaction_scheduled_): the caller itself
//   when the slot is free, else the background thread, before its next
//   flush or compaction. No flush or compaction runs meanwhile, so the
//   current Version does not change between picking the level and
//   installing, and no compaction picked from an older Version can install
//   outputs that overlap the new tables. The tables are built before, with
//   their numbers in pending_outputs_ (obsolete-file removal skips them).
// - Where the build runs. IngestOptions::build_runner may run the build on
//   another thread (a migration puts it in SCHED_IDLE). The build takes no
//   lock and holds no slot, so a starved builder delays only its own call;
//   the sequence reservation before it and the install after it stay on the
//   caller's thread. Only the reserved S is held meanwhile, which no reader
//   waits for (snapshots taken then see the tables once the call returns).
#include <algorithm>
#include <cinttypes>
#include <memory>

#include "db/builder.h"
#include "db/db_impl.h"
#include "db/filename.h"
#include "db/memtable.h"
#include "db/table_cache.h"
#include "db/version_set.h"
#include "util/logging.h"
#include "util/mutexlock.h"

namespace ldb {

namespace {

// The entries of one IngestSorted call as internal keys (all with sequence
// `seq`, type value) over the caller's values. Thread-compatible.
class IngestIterator final : public Iterator {
 public:
  IngestIterator(const std::vector<std::pair<Slice, Slice>>& entries,
                 SequenceNumber seq)
      : entries_(entries), pos_(entries.size()) {
    size_t bytes = 0;
    for (const auto& e : entries) bytes += e.first.size() + 8;
    keys_.reserve(bytes);
    offsets_.reserve(entries.size() + 1);
    for (const auto& e : entries) {
      offsets_.push_back(keys_.size());
      AppendInternalKey(&keys_, ParsedInternalKey(e.first, seq, kTypeValue));
    }
    offsets_.push_back(keys_.size());
  }

  bool Valid() const override { return pos_ < entries_.size(); }
  void SeekToFirst() override { pos_ = 0; }
  void SeekToLast() override {
    pos_ = entries_.empty() ? 0 : entries_.size() - 1;
  }
  void Seek(const Slice&) override {
    // Only SeekToFirst and Next are used (BuildTables).
    status_ = Status::NotSupported("IngestIterator::Seek");
    pos_ = entries_.size();
  }
  void Next() override { ++pos_; }
  void Prev() override { pos_ = pos_ == 0 ? entries_.size() : pos_ - 1; }
  Slice key() const override {
    return Slice(keys_.data() + offsets_[pos_],
                 offsets_[pos_ + 1] - offsets_[pos_]);
  }
  Slice value() const override { return entries_[pos_].second; }
  Status status() const override { return status_; }

 private:
  const std::vector<std::pair<Slice, Slice>>& entries_;
  std::string keys_;
  std::vector<size_t> offsets_;
  size_t pos_;
  Status status_;
};

// True when `it` (over internal keys) holds an entry of a user key in
// [smallest, largest]. Moves it.
bool HoldsKeyIn(Iterator* it, const Comparator* ucmp, const Slice& smallest,
                const Slice& largest) {
  const InternalKey start(smallest, kMaxSequenceNumber, kValueTypeForSeek);
  it->Seek(start.Encode());
  return it->Valid() && ucmp->Compare(ExtractUserKey(it->key()), largest) <= 0;
}

// True when the memtable holds an entry of a user key in [smallest,
// largest].
bool MemTableHasKeysIn(MemTable* mem, const Comparator* ucmp,
                       const Slice& smallest, const Slice& largest) {
  if (mem == nullptr) return false;
  std::unique_ptr<Iterator> it = mem->NewIterator();
  return HoldsKeyIn(it.get(), ucmp, smallest, largest);
}

}  // namespace

// One IngestSorted call's tables, waiting to be installed.
struct DBImpl::IngestJob {
  std::vector<FileMetaData> metas;
  Slice smallest;  // user keys: the caller's first and last key
  Slice largest;
  bool taken = false;  // popped by an installer, which will set done
  bool done = false;
  Status status;
  int level = -1;
  uint64_t bytes = 0;  // of the tables, once installed
};

Status DBImpl::IngestSorted(const std::vector<std::pair<Slice, Slice>>& entries,
                            IngestStats* stats, const IngestOptions& options) {
  if (stats != nullptr) *stats = IngestStats();
  if (entries.empty()) return Status::OK();
  const Comparator* ucmp = user_comparator();
  for (size_t i = 1; i < entries.size(); ++i) {
    if (ucmp->Compare(entries[i - 1].first, entries[i].first) >= 0) {
      return Status::InvalidArgument("IngestSorted: keys not strictly increasing at entry",
                                     NumberToString(i));
    }
  }
  {
    MutexLock l(&mutex_);
    if (!bg_error_.ok()) return bg_error_;
  }

  IngestIterator iter(entries, ReserveSequence());
  std::vector<uint64_t> numbers;  // every number allocated
  auto new_file_number = [this, &numbers] { return NewPendingFileNumber(&numbers); };
  // Every ShouldStopBefore boundary cuts (files above level 0 never
  // straddle one), whatever the flush minimum.
  Options build_options = options_;
  build_options.flush_cut_min_bytes = 0;
  IngestJob job;
  job.smallest = entries.front().first;
  job.largest = entries.back().first;
  Status s;
  auto build = [&] {
    s = BuildTables(dbname_, env_, build_options, table_cache_.get(), &iter, ucmp,
                    new_file_number, &job.metas, options_.uncached_ingest);
  };
  if (options.build_runner) {
    options.build_runner(build);
  } else {
    build();
  }

  MutexLock l(&mutex_);
  if (s.ok()) {
    pending_ingests_.push_back(&job);
    if (!background_compaction_scheduled_) {
      // Take the background slot and install right here (no thread hop).
      background_compaction_scheduled_ = true;
      InstallIngests();
      background_compaction_scheduled_ = false;
      MaybeScheduleCompaction();
      background_work_finished_signal_.SignalAll();
    } else {
      // The background thread installs it before its next step. Once taken,
      // the installer owns the job until it sets done (it may be writing the
      // MANIFEST with the mutex released): wait for that even on an error.
      while (!job.done && (job.taken || (bg_error_.ok() &&
                                         !shutting_down_.load(std::memory_order_acquire)))) {
        background_work_finished_signal_.Wait();
      }
      if (!job.done) {
        pending_ingests_.erase(
            std::find(pending_ingests_.begin(), pending_ingests_.end(), &job));
        job.status = bg_error_.ok() ? Status::IOError("DB closing") : bg_error_;
      }
    }
    s = job.status;
  }
  for (uint64_t number : numbers) ReleasePendingOutput(number);
  if (!s.ok() && !bg_error_.ok()) {
    // A failed MANIFEST write is a background error, and its record may be on
    // disk all the same: keep the tables, as a failed compaction keeps its
    // outputs (no file is removed after a background error); the next Open
    // deletes them if no record names them.
    return s;
  }
  if (!s.ok()) {
    for (uint64_t number : numbers) {
      table_cache_->Evict(number);
      env_->RemoveFile(TableFileName(dbname_, number)).IgnoreError();
    }
    return s;
  }
  if (stats != nullptr) {
    stats->files = job.metas.size();
    stats->bytes = job.bytes;
    stats->level = job.level;
  }
  return s;
}

void DBImpl::InstallIngests() {
  mutex_.AssertHeld();
  assert(background_compaction_scheduled_);
  while (!pending_ingests_.empty()) {
    IngestJob* job = pending_ingests_.front();
    pending_ingests_.pop_front();
    job->taken = true;
    Status s = bg_error_;
    int level = 0;
    if (s.ok()) s = PickIngestLevel(job->smallest, job->largest, &level);
    if (s.ok()) {
      VersionEdit edit;
      for (const FileMetaData& m : job->metas) edit.AddFile(level, m);
      s = versions_->LogAndApply(&edit, &mutex_);
      if (!s.ok()) RecordBackgroundError(s);
    }
    if (s.ok()) {
      for (const FileMetaData& m : job->metas) job->bytes += m.file_size;
      ingested_files_ += job->metas.size();
      ingested_bytes_ += job->bytes;
      Log(options_.info_log, "Ingested %zu table(s), %" PRIu64 " bytes, to level-%d",
          job->metas.size(), job->bytes, level);
    }
    job->level = level;
    job->status = s;
    job->done = true;
  }
  background_work_finished_signal_.SignalAll();
}

Status DBImpl::PickIngestLevel(const Slice& smallest, const Slice& largest,
                               int* level) {
  mutex_.AssertHeld();
  const Comparator* ucmp = user_comparator();
  Version* v = versions_->current();
  v->Ref();
  Status s;
  // Whether a file whose range overlaps [smallest, largest] holds a key of
  // it. Reads a table: called without the mutex.
  auto has_keys_in = [&](const FileMetaData* f) {
    ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<Iterator> it =
        table_cache_->NewIterator(ro, f->number, f->file_size);
    const bool has = HoldsKeyIn(it.get(), ucmp, smallest, largest);
    if (s.ok()) s = it->status();
    return has;
  };
  auto overlaps = [&](const FileMetaData* f) {
    return ucmp->Compare(f->largest.user_key(), smallest) >= 0 &&
           ucmp->Compare(f->smallest.user_key(), largest) <= 0;
  };

  int pick = 0;
  mutex_.Unlock();  // v cannot change: this thread holds the background slot
  bool blocked = false;  // a level above holds a key of the range
  for (const FileMetaData* f : v->files(0)) {
    if (overlaps(f) && has_keys_in(f)) {
      blocked = true;
      break;
    }
  }
  for (int lvl = 1; !blocked && s.ok() && lvl < config::kNumLevels; ++lvl) {
    bool level_overlaps = false;
    for (const FileMetaData* f : v->files(lvl)) {
      if (!overlaps(f)) continue;
      level_overlaps = true;
      if (has_keys_in(f)) {
        blocked = true;
        break;
      }
    }
    if (!level_overlaps) pick = lvl;
  }
  mutex_.Lock();
  v->Unref();
  if (!s.ok()) return s;
  // Last, with the mutex held: writes of the range would be in the
  // memtables (the caller promised there are none; this catches a broken
  // promise, or what an earlier owner of the range left in them).
  if (MemTableHasKeysIn(mem_, ucmp, smallest, largest) ||
      MemTableHasKeysIn(imm_, ucmp, smallest, largest)) {
    return Status::NotSupported(
        "IngestSorted: a memtable holds keys of the range; write them instead");
  }
  *level = pick;
  return Status::OK();
}

}  // namespace ldb
