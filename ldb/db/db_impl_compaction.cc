// DBImpl's background work: memtable flushes, size / seek / manual
// compactions, and CompactRange.
//
// One background job runs at a time (Env::Schedule runs jobs in order, and
// background_compaction_scheduled_ keeps at most one queued). Each job does
// the most urgent thing: flush the immutable memtable, else install ingested
// tables (db_impl_ingest.cc), else a manual compaction step, else what
// VersionSet::PickCompaction finds.
//
// Parallel subcompactions: a big compaction is cut into disjoint user-key
// ranges (SplitCompactionRanges), each merged by RunSubcompaction on its own
// thread into its own output files; the background thread runs the first
// range itself, joins the others and installs every output in one edit.
// Whichever range sees a full immutable memtable first flushes it.
#include <algorithm>
#include <cinttypes>
#include <thread>

#include "db/builder.h"
#include "db/db_impl.h"
#include "db/filename.h"
#include "db/memtable.h"
#include "db/table_cache.h"
#include "db/version_set.h"
#include "port/thread_name.h"
#include "port/thread_priority.h"
#include "table/table_builder.h"
#include "util/logging.h"
#include "util/mutexlock.h"

namespace ldb {

namespace {

// Upper bound on Options::max_subcompactions.
constexpr int kMaxSubcompactions = 16;

// An internal-key iterator without the entries the user comparator
// reclaims (ShouldDrop at now_seconds): a memtable flush leaves them out, as
// a compaction would (rule R in ShouldDropEntry: reclaimed entries go
// whatever the snapshots and levels). Without it, reclaimed data flushed
// after a cleanup started could land in a table the cleanup skips (numbered
// above its limit) and come back once the reclaim is forgotten.
// Thread-compatible.
class ReclaimedEntryFilter final : public Iterator {
 public:
  // `ucmp` must outlive the filter.
  ReclaimedEntryFilter(const Comparator* ucmp, uint64_t now_seconds,
                       std::unique_ptr<Iterator> base)
      : ucmp_(ucmp), now_seconds_(now_seconds), base_(std::move(base)) {}

  bool Valid() const override { return base_->Valid(); }
  void SeekToFirst() override {
    base_->SeekToFirst();
    SkipForward();
  }
  void SeekToLast() override {
    base_->SeekToLast();
    SkipBackward();
  }
  void Seek(const Slice& target) override {
    base_->Seek(target);
    SkipForward();
  }
  void Next() override {
    base_->Next();
    SkipForward();
  }
  void Prev() override {
    base_->Prev();
    SkipBackward();
  }
  Slice key() const override { return base_->key(); }
  Slice value() const override { return base_->value(); }
  Status status() const override { return base_->status(); }

  // Entries skipped so far (counted at each skip).
  uint64_t skipped() const { return skipped_; }

 private:
  bool Reclaimed() const {
    ParsedInternalKey ikey;
    // A malformed key is kept: the table builder reports it.
    return ParseInternalKey(base_->key(), &ikey) &&
           ucmp_->ShouldDrop(ikey.user_key, ikey.sequence, now_seconds_);
  }
  void SkipForward() {
    while (base_->Valid() && Reclaimed()) {
      ++skipped_;
      base_->Next();
    }
  }
  void SkipBackward() {
    while (base_->Valid() && Reclaimed()) {
      ++skipped_;
      base_->Prev();
    }
  }

  const Comparator* const ucmp_;
  const uint64_t now_seconds_;
  const std::unique_ptr<Iterator> base_;
  uint64_t skipped_ = 0;
};

// Adds the input files c deletes unread (ShouldDropRange) to *stats (a
// DBImpl::CompactionStats of compaction c, bytes read and written set).
// Also sets stats->bytes_dropped from its bytes read and written.
template <typename Stats>
void AddWholeFileDrops(const Compaction& c, Stats* stats) {
  for (const FileMetaData* f : c.dropped_whole()) {
    ++stats->files_dropped_whole;
    stats->bytes_dropped_whole += static_cast<int64_t>(f->file_size);
  }
  const int64_t gone = stats->bytes_read + stats->bytes_dropped_whole;
  stats->bytes_dropped = std::max<int64_t>(0, gone - stats->bytes_written);
}

}  // namespace

// The state of one running compaction, shared by its key ranges. Set up and
// read by the background thread; while the ranges run they only read it
// (except `failed`).
struct DBImpl::CompactionState {
  // One file produced by the compaction.
  struct Output {
    uint64_t number = 0;
    uint64_t file_size = 0;
    InternalKey smallest;
    InternalKey largest;
    SequenceNumber max_sequence = 0;
  };

  explicit CompactionState(Compaction* c) : compaction(c) {}

  Compaction* const compaction;

  // Entries at or below this sequence are visible to every snapshot, so
  // only the newest of them per user key matters.
  SequenceNumber smallest_snapshot = 0;
  // Env::NowSeconds(), read once when the compaction starts.
  uint64_t now_seconds = 0;

  // The key ranges, in key order (one unless the compaction was split).
  std::vector<std::unique_ptr<SubcompactionState>> ranges;
  // Set by a range that fails, so that the others stop early.
  std::atomic<bool> failed{false};

  // Totals over the ranges, set once they all finished.
  uint64_t total_bytes = 0;
  uint64_t entries_dropped = 0;
  uint64_t dropped_by_reason[kNumDropReasons] = {};
};

// One key range of a compaction, merged into its own output files. Used by
// one thread at a time: the range's thread while it runs, then the
// background thread.
struct DBImpl::SubcompactionState {
  using Output = CompactionState::Output;

  explicit SubcompactionState(CompactionState* c) : compact(c) {}

  Output* current_output() { return &outputs.back(); }

  CompactionState* const compact;  // the compaction this is a range of

  // The range: internal keys in [start, limit), each bound the first
  // internal key of its user key (so no user key is split); empty means
  // unbounded.
  std::string start;
  std::string limit;

  // The compaction's input, positioned by RunSubcompaction.
  std::unique_ptr<Iterator> input;
  // This range's IsBaseLevelForKey / ShouldStopBefore state.
  Compaction::Cursor cursor;

  std::vector<Output> outputs;
  // The output being written, if any.
  std::unique_ptr<WritableFile> outfile;
  std::unique_ptr<TableBuilder> builder;
  // User key of the first entry of the current output (its last entry is
  // builder->LastKey()).
  std::string output_first_user_key;
  uint64_t total_bytes = 0;

  // ShouldDropEntry's state: the user key being scanned and the sequence of
  // its previous (newer) entry, kMaxSequenceNumber for the first.
  std::string current_user_key;
  bool has_current_user_key = false;
  SequenceNumber last_sequence_for_key = kMaxSequenceNumber;

  uint64_t entries_dropped = 0;
  // The same, by DropReason.
  uint64_t dropped_by_reason[kNumDropReasons] = {};
  // Time this range spent flushing imm_.
  uint64_t imm_micros = 0;
  Status status;
  // Stopped because another range failed (its status says only that).
  bool aborted = false;
};

// ---------------------------------------------------------------- Scheduling

void DBImpl::RecordBackgroundError(const Status& s) {
  mutex_.AssertHeld();
  if (bg_error_.ok()) {
    bg_error_ = s;
    Log(options_.info_log, "Background error (sticky): %s",
        s.ToString().c_str());
    background_work_finished_signal_.SignalAll();
  }
}

void DBImpl::MaybeScheduleCompaction() {
  mutex_.AssertHeld();
  if (background_compaction_scheduled_) return;  // one at a time
  if (shutting_down_.load(std::memory_order_acquire)) return;
  if (!bg_error_.ok()) return;
  if (imm_ == nullptr && manual_compaction_ == nullptr &&
      pending_ingests_.empty() && !versions_->NeedsCompaction()) {
    return;  // nothing to do
  }
  background_compaction_scheduled_ = true;
  env_->Schedule([this] { BackgroundCall(); });
}

void DBImpl::BackgroundCall() {
  MutexLock l(&mutex_);
  assert(background_compaction_scheduled_);
  if (!shutting_down_.load(std::memory_order_acquire) && bg_error_.ok()) {
    BackgroundCompaction();
  }
  background_compaction_scheduled_ = false;
  // The work done may have made more work (e.g. too many files in a level).
  MaybeScheduleCompaction();
  background_work_finished_signal_.SignalAll();
}

void DBImpl::BackgroundCompaction() {
  mutex_.AssertHeld();
  if (imm_ != nullptr) {
    CompactMemTable();
    return;
  }
  if (!pending_ingests_.empty()) {
    InstallIngests();
    return;
  }

  // A manual request and automatic compactions take turns, one step each,
  // while both have work: neither starves the other.
  const bool is_manual =
      manual_compaction_ != nullptr &&
      !(last_step_manual_ && versions_->NeedsCompaction());
  last_step_manual_ = is_manual;
  if (is_manual && manual_compaction_->self_level) {
    BackgroundSelfLevelCompaction(manual_compaction_);
    if (manual_compaction_->done) manual_compaction_ = nullptr;
    return;
  }

  std::unique_ptr<Compaction> c;
  InternalKey manual_end;
  if (is_manual) {
    ManualCompaction* m = manual_compaction_;
    c = versions_->CompactRange(m->level, m->begin, m->end);
    m->done = c == nullptr;
    if (c != nullptr) {
      // The last level file picked (some may have been set aside as
      // reclaimed whole, see SetAsideReclaimedInputs).
      bool has_end = false;
      auto extend = [&](const FileMetaData* f) {
        if (!has_end ||
            internal_comparator_.Compare(f->largest, manual_end) > 0) {
          manual_end = f->largest;
          has_end = true;
        }
      };
      for (const FileMetaData* f : c->inputs(0)) extend(f);
      for (size_t i = 0; i < c->dropped_whole().size(); ++i) {
        if (c->dropped_whole_levels()[i] == c->level()) {
          extend(c->dropped_whole()[i]);
        }
      }
    }
    Log(options_.info_log, "Manual compaction at level-%d from %s .. %s; %s",
        m->level,
        m->begin != nullptr ? m->begin->DebugString().c_str() : "(begin)",
        m->end != nullptr ? m->end->DebugString().c_str() : "(end)",
        m->done ? "nothing to do" : "running");
  } else {
    c = versions_->PickCompaction();
  }

  Status status;
  if (c == nullptr) {
    // Nothing to do.
  } else if (!is_manual && c->IsTrivialMove() &&
             !StraddlesStopBefore(*c->input(0, 0))) {
    // Move the file down a level: only the MANIFEST changes.
    FileMetaData* f = c->input(0, 0);
    c->edit()->RemoveFile(c->level(), f->number);
    c->edit()->AddFile(c->level() + 1, *f);
    status = versions_->LogAndApply(c->edit(), &mutex_);
    if (!status.ok()) RecordBackgroundError(status);
    Log(options_.info_log,
        "Moved #%" PRIu64 " to level-%d %" PRIu64 " bytes %s: %s", f->number,
        c->level() + 1, f->file_size, status.ToString().c_str(),
        versions_->LevelSummary().c_str());
  } else {
    CompactionState compact(c.get());
    if (c->level() == 0) {
      level0_files_compacting_ = c->num_input_files(0);
      level0_bytes_compacting_ = 0;
      for (const FileMetaData* f : c->inputs(0)) {
        level0_bytes_compacting_ += f->file_size;
      }
      // Writers stopped at the level-0 trigger count only the files no
      // compaction took (see MakeRoomForWrite): these no longer count.
      background_work_finished_signal_.SignalAll();
    }
    status = DoCompactionWork(&compact);
    level0_files_compacting_ = 0;
    level0_bytes_compacting_ = 0;
    if (!status.ok()) RecordBackgroundError(status);
    CleanupCompaction(&compact);
    c->ReleaseInputs();
    RemoveObsoleteFiles();
  }
  c.reset();  // under the mutex: releases the input Version

  if (status.ok()) {
    // Done.
  } else if (shutting_down_.load(std::memory_order_acquire)) {
    // Errors while shutting down are expected.
  } else {
    Log(options_.info_log, "Compaction error: %s", status.ToString().c_str());
  }

  if (is_manual) {
    ManualCompaction* m = manual_compaction_;
    if (!status.ok()) m->done = true;
    if (!m->done) {
      // Only part of the range was compacted: continue after it.
      m->tmp_storage = manual_end;
      m->begin = &m->tmp_storage;
    }
    if (m->done) manual_compaction_ = nullptr;  // else it stays queued
  }
}

// ---------------------------------------------------------------- Flushes

Status DBImpl::WriteLevel0Table(MemTable* mem, VersionEdit* edit,
                                Version* base) {
  mutex_.AssertHeld();
  const uint64_t start_micros = env_->NowMicros();
  auto iter = std::make_unique<ReclaimedEntryFilter>(
      user_comparator(), env_->NowSeconds(), mem->NewIterator());
  std::vector<FileMetaData> metas;
  std::vector<uint64_t> numbers;  // every number allocated, for cleanup
  Status s;

  if (options_.cut_flush_at_stop_before) {
    // Cut where the comparator says (e.g. at bucket boundaries). The
    // allocator runs without the mutex held by us, so it takes it.
    auto new_file_number = [this, &numbers] {
      return NewPendingFileNumber(&numbers);
    };
    mutex_.Unlock();
    s = BuildTables(dbname_, env_, options_, table_cache_.get(), iter.get(),
                    user_comparator(), new_file_number, &metas);
    mutex_.Lock();
  } else {
    FileMetaData meta;
    meta.number = versions_->NewFileNumber();
    pending_outputs_.insert(meta.number);
    numbers.push_back(meta.number);
    Log(options_.info_log, "Level-0 table #%" PRIu64 ": started", meta.number);
    mutex_.Unlock();
    s = BuildTable(dbname_, env_, options_, table_cache_.get(), iter.get(),
                   &meta);
    mutex_.Lock();
    if (s.ok() && meta.file_size > 0) metas.push_back(std::move(meta));
  }
  const uint64_t reclaimed = iter->skipped();
  iter.reset();

  // Once recorded in *edit the files are protected by the Version they are
  // installed in; callers install the edit before the next obsolete-file
  // removal (only the background thread and Open remove files).
  for (uint64_t number : numbers) ReleasePendingOutput(number);

  CompactionStats stats;
  stats.micros = static_cast<int64_t>(env_->NowMicros() - start_micros);
  stats.entries_dropped[kDropReclaimed] = reclaimed;
  int level = 0;
  if (s.ok()) {
    for (const FileMetaData& meta : metas) {
      // A flush that overlaps nothing may go below level 0 directly, unless
      // it straddles a ShouldStopBefore boundary (flush_cut_min_bytes): files
      // below level 0 never do, so cleanup can drop them whole.
      level = 0;
      if (base != nullptr && !StraddlesStopBefore(meta)) {
        level = base->PickLevelForMemTableOutput(meta.smallest.user_key(),
                                                 meta.largest.user_key());
      }
      edit->AddFile(level, meta);
      stats.bytes_written += static_cast<int64_t>(meta.file_size);
      Log(options_.info_log,
          "Level-0 table #%" PRIu64 ": %" PRIu64 " bytes to level-%d",
          meta.number, meta.file_size, level);
    }
  } else {
    Log(options_.info_log, "Level-0 flush failed: %s", s.ToString().c_str());
  }
  stats.count = 1;
  stats_[level].Add(stats);
  return s;
}

uint64_t DBImpl::NewPendingFileNumber(std::vector<uint64_t>* numbers) {
  MutexLock l(&mutex_);
  const uint64_t number = versions_->NewFileNumber();
  pending_outputs_.insert(number);
  numbers->push_back(number);
  return number;
}

void DBImpl::CompactMemTable(bool level0_only) {
  mutex_.AssertHeld();
  assert(imm_ != nullptr);

  VersionEdit edit;
  Version* base = versions_->current();
  base->Ref();
  Status s = WriteLevel0Table(imm_, &edit, level0_only ? nullptr : base);
  base->Unref();

  if (s.ok() && shutting_down_.load(std::memory_order_acquire)) {
    s = Status::IOError("Deleting DB during memtable compaction");
  }
  if (s.ok()) {
    // Logs older than the current one are in tables now.
    edit.SetPrevLogNumber(0);
    edit.SetLogNumber(logfile_number_);
    s = versions_->LogAndApply(&edit, &mutex_);
  }
  if (s.ok()) {
    imm_->Unref();
    imm_ = nullptr;
    ++memtables_flushed_;
    has_imm_.store(false, std::memory_order_release);
    RemoveObsoleteFiles();
  } else {
    RecordBackgroundError(s);
  }
}

Status DBImpl::TEST_CompactMemTable() {
  // A null batch forces a memtable switch.
  Status s = Write(WriteOptions(), nullptr);
  if (s.ok()) {
    // imm_ is the memtable switched out above or a later one: wait for one
    // flush, not for imm_ to be empty (writers may keep refilling it).
    MutexLock l(&mutex_);
    if (imm_ != nullptr) {
      const uint64_t target = memtables_flushed_ + 1;
      while (memtables_flushed_ < target && bg_error_.ok()) {
        background_work_finished_signal_.Wait();
      }
      if (memtables_flushed_ < target) s = bg_error_;
    }
  }
  return s;
}

void DBImpl::TEST_WaitForBackgroundIdle() {
  MutexLock l(&mutex_);
  while ((background_compaction_scheduled_ || imm_ != nullptr ||
          versions_->NeedsCompaction()) &&
         bg_error_.ok() && !shutting_down_.load(std::memory_order_acquire)) {
    MaybeScheduleCompaction();
    background_work_finished_signal_.Wait();
  }
}

// ---------------------------------------------------------------- Manual

void DBImpl::CompactRange(const Slice* begin, const Slice* end) {
  int max_level_with_files = 1;
  {
    MutexLock l(&mutex_);
    Version* base = versions_->current();
    for (int level = 1; level < config::kNumLevels; ++level) {
      if (base->OverlapInLevel(level, begin, end)) {
        max_level_with_files = level;
      }
    }
  }
  TEST_CompactMemTable().IgnoreError();  // a failure is the sticky bg error
  for (int level = 0; level < max_level_with_files; ++level) {
    TEST_CompactRange(level, begin, end);
  }
}

void DBImpl::TEST_CompactRange(int level, const Slice* begin,
                               const Slice* end) {
  assert(level >= 0 && level + 1 < config::kNumLevels);

  InternalKey begin_storage;
  InternalKey end_storage;
  ManualCompaction manual;
  manual.level = level;
  if (begin != nullptr) {
    begin_storage = InternalKey(*begin, kMaxSequenceNumber, kValueTypeForSeek);
    manual.begin = &begin_storage;
  }
  if (end != nullptr) {
    end_storage = InternalKey(*end, 0, static_cast<ValueType>(0));
    manual.end = &end_storage;
  }

  MutexLock l(&mutex_);
  RunManualCompaction(&manual);
}

void DBImpl::RunManualCompaction(ManualCompaction* manual) {
  mutex_.AssertHeld();
  while (!manual->done && !shutting_down_.load(std::memory_order_acquire) &&
         bg_error_.ok()) {
    if (manual_compaction_ == nullptr) {  // idle: queue ours
      manual_compaction_ = manual;
      MaybeScheduleCompaction();
    } else {  // ours or someone else's is running
      background_work_finished_signal_.Wait();
    }
  }
  // On an early exit (error, shutdown) a job may still be looking at
  // `manual`: wait for it. (Not when done: the background thread no longer
  // looks at it, and under a steady write load it is never idle, so waiting
  // for idleness here used to keep a finished request waiting for minutes.)
  while (background_compaction_scheduled_ && !manual->done) {
    background_work_finished_signal_.Wait();
  }
  if (manual_compaction_ == manual) manual_compaction_ = nullptr;
}

Status DBImpl::CompactRangeSelfLevel(uint64_t limit_filenumber,
                                     const Slice* begin, const Slice* end,
                                     SelfLevelCompactionStats* stats) {
  InternalKey begin_storage;
  InternalKey end_storage;
  if (begin != nullptr) {
    begin_storage = InternalKey(*begin, kMaxSequenceNumber, kValueTypeForSeek);
  }
  if (end != nullptr) {
    // [begin, end): the smallest internal key of `end`; files starting at
    // `end` are skipped by PickSelfLevelCompaction.
    end_storage = InternalKey(*end, kMaxSequenceNumber, kValueTypeForSeek);
  }

  // Reclaimed entries still in the memtable must not outlive the cleanup
  // (they would come back once the reclaim is forgotten): when the memtable
  // holds keys of the range, flush it first, so that the level-0 pass takes
  // them. (An immutable memtable is flushed by the background thread before
  // any manual step.)
  bool flush = false;
  {
    MutexLock l(&mutex_);
    std::unique_ptr<Iterator> it = mem_->NewIterator();
    if (begin != nullptr) {
      it->Seek(begin_storage.Encode());
    } else {
      it->SeekToFirst();
    }
    flush = it->Valid() &&
            (end == nullptr ||
             user_comparator()->Compare(ExtractUserKey(it->key()), *end) < 0);
  }
  if (flush) {
    Status s = TEST_CompactMemTable();
    if (!s.ok()) return s;
  }

  MutexLock l(&mutex_);
  // Files written from now on (including this call's outputs) are never
  // picked above level 0.
  const uint64_t limit =
      std::min(limit_filenumber, versions_->NextFileNumber());
  Log(options_.info_log, "CompactRangeSelfLevel below #%" PRIu64 " started",
      limit);
  // One request for the whole call (see ManualCompaction). Its first pass
  // drops the range's wholly reclaimed files of every level in one MANIFEST
  // write (one fsync per call rather than one per level); the level passes
  // then rewrite only files that hold kept data too.
  ManualCompaction manual;
  manual.level = 0;
  manual.drop_reclaimed_files = true;
  manual.self_level = true;
  manual.limit_filenumber = limit;
  manual.range_begin = begin != nullptr ? &begin_storage : nullptr;
  manual.begin = manual.range_begin;
  manual.end = end != nullptr ? &end_storage : nullptr;
  RunManualCompaction(&manual);
  Status s = manual.status;
  if (s.ok() && !bg_error_.ok()) s = bg_error_;
  if (s.ok() && !manual.done) {
    s = Status::IOError("CompactRangeSelfLevel: the DB is shutting down");
  }
  SelfLevelCompactionStats total = manual.stats;
  const uint64_t whole_file_bytes = manual.whole_file_bytes;
  const uint64_t gone = total.bytes_read + whole_file_bytes;
  total.bytes_dropped =
      gone > total.bytes_written ? gone - total.bytes_written : 0;
  Log(options_.info_log,
      "CompactRangeSelfLevel: %" PRIu64 " files compacted, %" PRIu64
      " dropped whole, %" PRIu64 " bytes read, %" PRIu64 " written, %" PRIu64
      " dropped: %s",
      total.files_compacted, total.files_dropped_whole, total.bytes_read,
      total.bytes_written, total.bytes_dropped, s.ToString().c_str());
  if (stats != nullptr) *stats = total;
  return s;
}

void DBImpl::SeekSelfLevelWithWork(ManualCompaction* m) {
  mutex_.AssertHeld();
  while (m->level < config::kNumLevels &&
         !SelfLevelHasWork(m->level, m->limit_filenumber, m->range_begin,
                           m->end)) {
    ++m->level;
  }
  m->begin = m->range_begin;
  if (m->level >= config::kNumLevels) m->done = true;
}

void DBImpl::BackgroundSelfLevelCompaction(ManualCompaction* m) {
  mutex_.AssertHeld();
  if (m->drop_reclaimed_files) {
    DropReclaimedFiles(m);
    m->drop_reclaimed_files = false;
    if (m->status.ok()) {
      m->level = 0;
      SeekSelfLevelWithWork(m);
    } else {
      m->done = true;
    }
    return;
  }
  std::unique_ptr<Compaction> c = versions_->PickSelfLevelCompaction(
      m->level, m->limit_filenumber, m->begin, m->end);
  if (c == nullptr) {  // this level's pass is over
    ++m->level;
    SeekSelfLevelWithWork(m);
    return;
  }

  // Where this step ends in the level, to continue after it.
  InternalKey step_end;
  bool has_step_end = false;
  auto extend = [&](const FileMetaData* f) {
    if (!has_step_end ||
        internal_comparator_.Compare(f->largest, step_end) > 0) {
      step_end = f->largest;
      has_step_end = true;
    }
  };
  for (const FileMetaData* f : c->inputs(0)) extend(f);
  for (const FileMetaData* f : c->dropped_whole()) extend(f);

  const uint64_t bytes_read = static_cast<uint64_t>(
      TotalFileSize(c->inputs(0)) + TotalFileSize(c->inputs(1)));
  const uint64_t whole_bytes =
      static_cast<uint64_t>(TotalFileSize(c->dropped_whole()));
  const int files_read = c->num_input_files(0) + c->num_input_files(1);
  uint64_t bytes_written = 0;

  Status status;
  if (files_read == 0) {
    // Everything picked was reclaimed whole: only the MANIFEST changes.
    c->AddInputDeletions(c->edit());
    status = versions_->LogAndApply(c->edit(), &mutex_);
    if (status.ok()) {
      CompactionStats stats;
      stats.count = 1;
      AddWholeFileDrops(*c, &stats);
      stats_[c->output_level()].Add(stats);
    }
  } else {
    CompactionState compact(c.get());
    status = DoCompactionWork(&compact);
    bytes_written = compact.total_bytes;
    CleanupCompaction(&compact);
  }
  if (!status.ok()) RecordBackgroundError(status);
  c->ReleaseInputs();
  RemoveObsoleteFiles();
  Log(options_.info_log,
      "Self-level step at level-%d: %d files read, %zu dropped whole: %s",
      m->level, files_read, c->dropped_whole().size(),
      status.ToString().c_str());

  if (!status.ok()) {
    m->status = status;
    m->done = true;
    return;
  }
  m->stats.files_compacted += static_cast<uint64_t>(files_read);
  m->stats.files_dropped_whole += c->dropped_whole().size();
  m->stats.bytes_read += bytes_read;
  m->stats.bytes_written += bytes_written;
  m->whole_file_bytes += whole_bytes;
  if (m->level == 0) {
    // One pass: it took every overlapping level-0 file. (Flushes arriving
    // meanwhile hold newer data; chasing them could go on forever.)
    ++m->level;
    SeekSelfLevelWithWork(m);
  } else {
    m->tmp_storage = step_end;
    m->begin = &m->tmp_storage;
  }
}

bool DBImpl::StraddlesStopBefore(const FileMetaData& f) const {
  // Only flush outputs cut with flush_cut_min_bytes can: files below level 0
  // never do (cleanup drops a file whole only when it holds one bucket), so
  // such a file is rewritten (and cut) rather than moved down.
  return options_.cut_flush_at_stop_before &&
         user_comparator()->ShouldStopBefore(f.smallest.user_key(),
                                             f.largest.user_key());
}

bool DBImpl::SelfLevelHasWork(int level, uint64_t limit,
                              const InternalKey* begin,
                              const InternalKey* end) {
  mutex_.AssertHeld();
  std::vector<FileMetaData*> files;
  versions_->current()->GetOverlappingInputs(level, begin, end, &files);
  for (const FileMetaData* f : files) {
    if (level == 0 || f->number < limit) return true;
  }
  return false;
}

void DBImpl::DropReclaimedFiles(ManualCompaction* m) {
  mutex_.AssertHeld();
  std::vector<std::pair<int, FileMetaData*>> files;
  versions_->ReclaimedFilesInRange(m->limit_filenumber, m->begin, m->end,
                                   &files);
  if (files.empty()) return;
  VersionEdit edit;
  CompactionStats per_level[config::kNumLevels];
  uint64_t bytes = 0;
  for (const auto& [level, f] : files) {
    edit.RemoveFile(level, f->number);
    ++per_level[level].files_dropped_whole;
    per_level[level].bytes_dropped_whole += static_cast<int64_t>(f->file_size);
    bytes += f->file_size;
  }
  const Status status = versions_->LogAndApply(&edit, &mutex_);
  Log(options_.info_log, "Self-level: %zu reclaimed files dropped whole: %s",
      files.size(), status.ToString().c_str());
  if (!status.ok()) {
    RecordBackgroundError(status);
    m->status = status;
    return;
  }
  for (int level = 0; level < config::kNumLevels; ++level) {
    CompactionStats& st = per_level[level];
    if (st.files_dropped_whole == 0) continue;
    st.count = 1;
    st.bytes_dropped = st.bytes_dropped_whole;
    stats_[level].Add(st);
  }
  m->stats.files_dropped_whole += files.size();
  m->whole_file_bytes += bytes;
  RemoveObsoleteFiles();
}

// ---------------------------------------------------------------- Compaction

bool DBImpl::ShouldDropEntry(SubcompactionState* sub, const Slice& key) {
  ParsedInternalKey ikey;
  if (!ParseInternalKey(key, &ikey)) {
    // Keep a malformed key (reads report it) and forget the key state so
    // no valid entry is dropped because of it.
    sub->current_user_key.clear();
    sub->has_current_user_key = false;
    sub->last_sequence_for_key = kMaxSequenceNumber;
    return false;
  }

  if (!sub->has_current_user_key ||
      user_comparator()->Compare(ikey.user_key, Slice(sub->current_user_key)) !=
          0) {
    // The first (newest) entry of this user key.
    sub->current_user_key.assign(ikey.user_key.data(), ikey.user_key.size());
    sub->has_current_user_key = true;
    sub->last_sequence_for_key = kMaxSequenceNumber;
  }

  const CompactionState* compact = sub->compact;
  const Comparator* ucmp = user_comparator();
  int reason = -1;  // kept
  if (sub->last_sequence_for_key <= compact->smallest_snapshot) {
    // Rule A: a newer entry of this key is visible to every snapshot, so
    // no reader can see this one.
    reason = kDropShadowed;
  } else if (ucmp->ShouldDrop(ikey.user_key, ikey.sequence,
                              compact->now_seconds)) {
    // Rule R: reclaimed data (e.g. a bucket migrated away), whatever the
    // snapshots and levels: every older version of the key is reclaimed
    // too (the hook covers all sequences up to its cut-off), and reads
    // already hide all of them.
    reason = kDropReclaimed;
  } else if (ikey.sequence <= compact->smallest_snapshot) {
    // Rule B: a tombstone, or a value the comparator declares expired,
    // that every snapshot sees, with nothing older below the output level:
    // older entries of this key in the inputs are dropped by rule A in the
    // next steps, so it has nothing left to hide. Above the base level it
    // is kept, so that an older version deeper down can never resurface
    // (kvrocks #2315).
    const bool tombstone = ikey.type == kTypeDeletion;
    if ((tombstone || ucmp->ShouldDropMaybe(ikey.user_key, ikey.sequence,
                                            compact->now_seconds)) &&
        compact->compaction->IsBaseLevelForKey(ikey.user_key, &sub->cursor)) {
      reason = tombstone ? kDropTombstone : kDropExpired;
    }
  }
  // Set for dropped entries too: an entry dropped under rule R or B still
  // shadows the older ones (rule A).
  sub->last_sequence_for_key = ikey.sequence;
  if (reason < 0) return false;
  ++sub->dropped_by_reason[reason];
  return true;
}

bool DBImpl::ShouldCutOutputBefore(SubcompactionState* sub, const Slice& key) {
  if (sub->builder == nullptr) return false;
  // Never split one user key's entries across two files of a level: the
  // level invariants (and reads) rely on a user key living in one file.
  const Slice user_key = key.size() >= 8 ? ExtractUserKey(key) : key;
  const Slice last_key = sub->builder->LastKey();
  const Slice last_user_key =
      last_key.size() >= 8 ? ExtractUserKey(last_key) : last_key;
  if (user_comparator()->Compare(user_key, last_user_key) == 0) {
    return false;
  }
  const Compaction* c = sub->compact->compaction;
  // Grandparent overlap (always asked, it keeps its own accounting).
  bool cut = c->ShouldStopBefore(key, &sub->cursor);
  if (sub->builder->FileSize() >= c->MaxOutputFileSize()) cut = true;
  // The Tair hook: outputs of level >= 1 (all compaction outputs) do not
  // straddle e.g. buckets.
  if (c->output_level() >= 1 &&
      user_comparator()->ShouldStopBefore(Slice(sub->output_first_user_key),
                                          user_key)) {
    cut = true;
  }
  return cut;
}

Status DBImpl::OpenCompactionOutputFile(SubcompactionState* sub) {
  assert(sub->builder == nullptr);
  uint64_t file_number;
  {
    MutexLock l(&mutex_);
    file_number = versions_->NewFileNumber();
    pending_outputs_.insert(file_number);
    CompactionState::Output out;
    out.number = file_number;
    sub->outputs.push_back(std::move(out));
  }
  const std::string fname = TableFileName(dbname_, file_number);
  Status s = env_->NewWritableFile(fname, &sub->outfile);
  if (s.ok()) {
    sub->builder = std::make_unique<TableBuilder>(options_, sub->outfile.get());
  }
  return s;
}

Status DBImpl::FinishCompactionOutputFile(SubcompactionState* sub,
                                          Iterator* input) {
  assert(sub->outfile != nullptr);
  assert(sub->builder != nullptr);
  CompactionState::Output* out = sub->current_output();
  const uint64_t output_number = out->number;
  assert(output_number != 0);

  const uint64_t current_entries = sub->builder->NumEntries();
  if (current_entries > 0) out->largest.DecodeFrom(sub->builder->LastKey());
  Status s = input->status();
  if (s.ok()) {
    s = sub->builder->Finish();
  } else {
    sub->builder->Abandon();
  }
  const uint64_t current_bytes = sub->builder->FileSize();
  out->file_size = current_bytes;
  sub->total_bytes += current_bytes;
  sub->builder.reset();

  if (s.ok()) s = sub->outfile->Sync();
  if (s.ok()) {
    s = sub->outfile->Close();
  } else {
    sub->outfile->Close().IgnoreError();
  }
  sub->outfile.reset();

  if (s.ok() && current_entries > 0) {
    // Check that the table is usable before it is installed.
    std::unique_ptr<Iterator> iter =
        table_cache_->NewIterator(ReadOptions(), output_number, current_bytes);
    s = iter->status();
    if (s.ok()) {
      Log(options_.info_log,
          "Generated table #%" PRIu64 "@%d: %" PRIu64 " keys, %" PRIu64
          " bytes",
          output_number, sub->compact->compaction->level(), current_entries,
          current_bytes);
    }
  }
  return s;
}

Status DBImpl::InstallCompactionResults(CompactionState* compact) {
  mutex_.AssertHeld();
  Compaction* c = compact->compaction;
  Log(options_.info_log,
      "Compacted %d@%d + %d@%d files => %" PRIu64 " bytes to level-%d",
      c->num_input_files(0), c->level(), c->num_input_files(1), c->level() + 1,
      compact->total_bytes, c->output_level());
  c->AddInputDeletions(c->edit());
  const int output_level = c->output_level();
  // The ranges are disjoint and in key order, and so are their outputs.
  for (const std::unique_ptr<SubcompactionState>& sub : compact->ranges) {
    for (const CompactionState::Output& out : sub->outputs) {
      c->edit()->AddFile(output_level, out.number, out.file_size, out.smallest,
                         out.largest, out.max_sequence);
    }
  }
  return versions_->LogAndApply(c->edit(), &mutex_);
}

void DBImpl::CleanupCompaction(CompactionState* compact) {
  mutex_.AssertHeld();
  for (const std::unique_ptr<SubcompactionState>& sub : compact->ranges) {
    if (sub->builder != nullptr) {
      // Only after an error: abandon the unfinished output.
      sub->builder->Abandon();
      sub->builder.reset();
    }
    if (sub->outfile != nullptr) {
      sub->outfile->Close().IgnoreError();
      sub->outfile.reset();
    }
    // Outputs not installed become obsolete and are deleted.
    for (const CompactionState::Output& out : sub->outputs) {
      ReleasePendingOutput(out.number);
    }
  }
}

void DBImpl::SplitCompactionRanges(CompactionState* compact) {
  const Compaction* c = compact->compaction;
  const Comparator* ucmp = user_comparator();
  compact->ranges.clear();
  auto add_range = [compact](std::string start, std::string limit) {
    auto sub = std::make_unique<SubcompactionState>(compact);
    sub->start = std::move(start);
    sub->limit = std::move(limit);
    compact->ranges.push_back(std::move(sub));
  };

  std::vector<const FileMetaData*> files;
  uint64_t total = 0;
  for (int which = 0; which < 2; ++which) {
    for (const FileMetaData* f : c->inputs(which)) {
      files.push_back(f);
      total += f->file_size;
    }
  }
  // Each range should be worth at least one output file.
  const uint64_t min_range_bytes =
      std::max<uint64_t>(options_.max_file_size, 1);
  const uint64_t wanted = std::min<uint64_t>(
      static_cast<uint64_t>(
          std::clamp(options_.max_subcompactions, 1, kMaxSubcompactions)),
      total / min_range_bytes);
  if (wanted <= 1) {
    add_range(std::string(), std::string());
    return;
  }

  // Candidate cut points: the user keys where input files start or end,
  // and where grandparent files do (which also splits compactions of
  // level-0 files that all span the whole range). Any user key works as a
  // cut; these are cheap and spread like the data. (The Slices point into
  // file metadata pinned by the compaction's input Version.)
  std::vector<Slice> bounds;
  bounds.reserve(2 * (files.size() + c->grandparents().size()));
  for (const FileMetaData* f : files) {
    bounds.push_back(f->smallest.user_key());
    bounds.push_back(f->largest.user_key());
  }
  for (const FileMetaData* f : c->grandparents()) {
    bounds.push_back(f->smallest.user_key());
    bounds.push_back(f->largest.user_key());
  }
  std::sort(bounds.begin(), bounds.end(),
            [ucmp](const Slice& a, const Slice& b) {
              return ucmp->Compare(a, b) < 0;
            });
  bounds.erase(std::unique(bounds.begin(), bounds.end(),
                           [ucmp](const Slice& a, const Slice& b) {
                             return ucmp->Compare(a, b) == 0;
                           }),
               bounds.end());

  // before[i]: about how many input bytes hold user keys below bounds[i].
  // (bounds[0] is the smallest key of all: a cut there leaves nothing
  // before it, so it is never a candidate.)
  std::vector<uint64_t> before(bounds.size(), 0);
  for (size_t i = 1; i < bounds.size(); ++i) {
    const InternalKey cut(bounds[i], kMaxSequenceNumber, kValueTypeForSeek);
    uint64_t sum = 0;
    for (const FileMetaData* f : files) {
      if (ucmp->Compare(f->largest.user_key(), bounds[i]) < 0) {
        sum += f->file_size;  // wholly before the cut
      } else if (ucmp->Compare(f->smallest.user_key(), bounds[i]) < 0) {
        sum += std::min<uint64_t>(f->file_size,
                                  table_cache_->ApproximateOffsetOf(
                                      f->number, f->file_size, cut.Encode()));
      }
    }
    before[i] = sum;
  }

  // For each of the wanted - 1 cuts, the candidate closest to its share of
  // the bytes that leaves a fair amount of input on both sides.
  const uint64_t min_bytes = total / (2 * wanted);
  std::vector<size_t> cuts;
  for (uint64_t r = 1; r < wanted; ++r) {
    const uint64_t target = total / wanted * r;
    const size_t first = cuts.empty() ? 1 : cuts.back() + 1;
    const uint64_t prev = cuts.empty() ? 0 : before[cuts.back()];
    size_t best = bounds.size();
    uint64_t best_distance = 0;
    for (size_t i = first; i < bounds.size(); ++i) {
      if (before[i] < prev + min_bytes || before[i] + min_bytes > total) {
        continue;
      }
      const uint64_t distance =
          before[i] > target ? before[i] - target : target - before[i];
      if (best == bounds.size() || distance < best_distance) {
        best = i;
        best_distance = distance;
      }
    }
    if (best == bounds.size()) break;
    cuts.push_back(best);
  }

  std::string start;
  for (size_t i : cuts) {
    std::string limit =
        InternalKey(bounds[i], kMaxSequenceNumber, kValueTypeForSeek)
            .Encode()
            .ToString();
    add_range(std::move(start), limit);
    start = std::move(limit);
  }
  add_range(std::move(start), std::string());
}

bool DBImpl::FlushImmDuringCompaction(uint64_t* micros) {
  if (compaction_flushing_imm_.load(std::memory_order_relaxed)) {
    return true;  // another range is on it
  }
  const uint64_t start_micros = env_->NowMicros();
  MutexLock l(&mutex_);
  if (!bg_error_.ok()) return false;
  if (imm_ == nullptr || compaction_flushing_imm_.load()) return true;
  // CompactMemTable releases the mutex while it writes: the flag keeps the
  // other ranges from flushing the same memtable meanwhile. The table stays
  // in level 0: pushed deeper, it could land in a gap between this
  // compaction's inputs that one of its outputs then spans.
  compaction_flushing_imm_.store(true);
  CompactMemTable(/*level0_only=*/true);
  compaction_flushing_imm_.store(false);
  background_work_finished_signal_.SignalAll();  // wake writers
  *micros += env_->NowMicros() - start_micros;
  return bg_error_.ok();
}

void DBImpl::RunSubcompaction(SubcompactionState* sub) {
  CompactionState* compact = sub->compact;
  Iterator* input = sub->input.get();
  if (sub->start.empty()) {
    input->SeekToFirst();
  } else {
    input->Seek(sub->start);
  }
  const bool bounded = !sub->limit.empty();
  const Slice limit(sub->limit);

  Status status;
  while (input->Valid() && !shutting_down_.load(std::memory_order_acquire)) {
    if (compact->failed.load(std::memory_order_relaxed)) {
      sub->aborted = true;
      status = Status::IOError("Compaction aborted: another key range failed");
      break;
    }
    // A full memtable waits for this compaction otherwise: flush it first.
    if (has_imm_.load(std::memory_order_relaxed) &&
        !FlushImmDuringCompaction(&sub->imm_micros)) {
      MutexLock l(&mutex_);
      status = bg_error_;
      break;
    }

    const Slice key = input->key();
    // The same order Seek used to find the next range's first entry, so
    // the ranges partition the input exactly.
    if (bounded && internal_comparator_.Compare(key, limit) >= 0) break;

    if (ShouldCutOutputBefore(sub, key)) {
      status = FinishCompactionOutputFile(sub, input);
      if (!status.ok()) break;
    }

    if (ShouldDropEntry(sub, key)) {
      ++sub->entries_dropped;
    } else {
      if (sub->builder == nullptr) {
        status = OpenCompactionOutputFile(sub);
        if (!status.ok()) break;
      }
      CompactionState::Output* out = sub->current_output();
      const Slice user_key = key.size() >= 8 ? ExtractUserKey(key) : Slice(key);
      if (sub->builder->NumEntries() == 0) {
        out->smallest.DecodeFrom(key);
        sub->output_first_user_key.assign(user_key.data(), user_key.size());
      }
      // (out->largest is set from the builder's last key when the file is
      // finished.)
      if (key.size() >= 8) {
        const SequenceNumber seq =
            DecodeFixed64(key.data() + key.size() - 8) >> 8;
        out->max_sequence = std::max(out->max_sequence, seq);
      }
      sub->builder->Add(key, input->value());
    }
    input->Next();
  }

  if (status.ok() && shutting_down_.load(std::memory_order_acquire)) {
    status = Status::IOError("Deleting DB during compaction");
  }
  if (status.ok() && sub->builder != nullptr) {
    status = FinishCompactionOutputFile(sub, input);
  }
  if (status.ok()) status = input->status();
  sub->input.reset();
  if (!status.ok()) compact->failed.store(true, std::memory_order_relaxed);
  sub->status = status;
}

Status DBImpl::DoCompactionWork(CompactionState* compact) {
  mutex_.AssertHeld();
  Compaction* c = compact->compaction;
  const uint64_t start_micros = env_->NowMicros();

  Log(options_.info_log, "Compacting %d@%d + %d@%d files",
      c->num_input_files(0), c->level(), c->num_input_files(1), c->level() + 1);
  assert(versions_->NumLevelFiles(c->level()) > 0);
  assert(compact->ranges.empty());

  compact->smallest_snapshot = snapshots_.empty()
                                   ? versions_->LastSequence()
                                   : snapshots_.oldest()->sequence();
  compact->now_seconds = env_->NowSeconds();

  // Sizing the ranges reads table indexes: not under the mutex.
  mutex_.Unlock();
  SplitCompactionRanges(compact);
  mutex_.Lock();
  for (const std::unique_ptr<SubcompactionState>& sub : compact->ranges) {
    sub->input = versions_->MakeInputIterator(c);
  }
  const size_t num_ranges = compact->ranges.size();
  if (num_ranges > 1) {
    multi_range_compactions_.fetch_add(1, std::memory_order_relaxed);
    Log(options_.info_log, "Compaction split into %zu key ranges", num_ranges);
  }

  // Release the mutex while reading and writing tables. This thread merges
  // the first range; every other range gets a thread of its own. With
  // compaction_nice every range gets a thread of its own, so that lowering
  // its priority (which cannot be undone) never touches the Env's shared
  // background thread, which also runs memtable flushes.
  mutex_.Unlock();
  const int nice = options_.compaction_nice;
  std::vector<std::thread> threads;
  threads.reserve(num_ranges);
  for (size_t i = nice > 0 ? 0 : 1; i < num_ranges; ++i) {
    threads.emplace_back([this, nice, sub = compact->ranges[i].get()] {
      port::SetCurrentThreadName("ldb-compact");
      if (nice > 0) port::LowerCurrentThreadPriority(nice);
      RunSubcompaction(sub);
    });
  }
  if (nice <= 0) RunSubcompaction(compact->ranges[0].get());
  for (std::thread& t : threads) t.join();

  // The first real error (not a range stopped because another failed).
  Status status;
  uint64_t imm_micros = 0;
  for (const std::unique_ptr<SubcompactionState>& sub : compact->ranges) {
    if (status.ok() && !sub->status.ok() && !sub->aborted) status = sub->status;
    imm_micros += sub->imm_micros;
    compact->total_bytes += sub->total_bytes;
    compact->entries_dropped += sub->entries_dropped;
    for (int r = 0; r < kNumDropReasons; ++r) {
      compact->dropped_by_reason[r] += sub->dropped_by_reason[r];
    }
  }
  for (const std::unique_ptr<SubcompactionState>& sub : compact->ranges) {
    if (status.ok() && !sub->status.ok()) status = sub->status;
  }

  CompactionStats stats;
  // Wall time less the memtable flushes done meanwhile (with several
  // ranges those overlapped merging, so this is approximate).
  const uint64_t elapsed = env_->NowMicros() - start_micros;
  stats.micros =
      static_cast<int64_t>(elapsed > imm_micros ? elapsed - imm_micros : 0);
  for (int which = 0; which < 2; ++which) {
    for (int i = 0; i < c->num_input_files(which); ++i) {
      stats.bytes_read += static_cast<int64_t>(c->input(which, i)->file_size);
    }
  }
  stats.bytes_written = static_cast<int64_t>(compact->total_bytes);
  stats.count = 1;
  stats.compaction_bytes_written = stats.bytes_written;
  AddWholeFileDrops(*c, &stats);
  for (int r = 0; r < kNumDropReasons; ++r) {
    stats.entries_dropped[r] = compact->dropped_by_reason[r];
  }

  mutex_.Lock();
  if (status.ok()) status = InstallCompactionResults(compact);
  // Counted once installed: what a failed compaction read or dropped is
  // still there.
  if (status.ok()) stats_[c->output_level()].Add(stats);
  Log(options_.info_log,
      "Compacted to %s: %s; dropped %" PRIu64 " shadowed, %" PRIu64
      " tombstones, %" PRIu64 " reclaimed, %" PRIu64
      " expired entries, %" PRId64 " files (%" PRId64 " bytes) unread",
      versions_->LevelSummary().c_str(), status.ToString().c_str(),
      compact->dropped_by_reason[kDropShadowed],
      compact->dropped_by_reason[kDropTombstone],
      compact->dropped_by_reason[kDropReclaimed],
      compact->dropped_by_reason[kDropExpired], stats.files_dropped_whole,
      stats.bytes_dropped_whole);
  return status;
}

}  // namespace ldb
