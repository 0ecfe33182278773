// DBImpl's background work: memtable flushes, size / seek / manual
// compactions, and CompactRange.
//
// One background job runs at a time (Env::Schedule runs jobs in order, and
// background_compaction_scheduled_ keeps at most one queued). Each job does
// the most urgent thing: flush the immutable memtable, else a manual
// compaction step, else what VersionSet::PickCompaction finds.
#include <algorithm>
#include <cinttypes>

#include "db/builder.h"
#include "db/db_impl.h"
#include "db/filename.h"
#include "db/memtable.h"
#include "db/table_cache.h"
#include "db/version_set.h"
#include "table/table_builder.h"
#include "util/logging.h"
#include "util/mutexlock.h"

namespace ldb {

// The state of one running compaction. Used by the background thread only.
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

  Output* current_output() { return &outputs.back(); }

  Compaction* const compaction;

  // Entries at or below this sequence are visible to every snapshot, so
  // only the newest of them per user key matters.
  SequenceNumber smallest_snapshot = 0;
  // Env::NowSeconds(), read once when the compaction starts.
  uint64_t now_seconds = 0;

  std::vector<Output> outputs;
  // The output being written, if any.
  std::unique_ptr<WritableFile> outfile;
  std::unique_ptr<TableBuilder> builder;
  // User keys of the first and the last entry of the current output.
  std::string output_first_user_key;
  std::string output_last_user_key;
  uint64_t total_bytes = 0;

  // ShouldDropEntry's state: the user key being scanned and the sequence of
  // its previous (newer) entry, kMaxSequenceNumber for the first.
  std::string current_user_key;
  bool has_current_user_key = false;
  SequenceNumber last_sequence_for_key = kMaxSequenceNumber;

  uint64_t entries_dropped = 0;
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
      !versions_->NeedsCompaction()) {
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

  if (manual_compaction_ != nullptr && manual_compaction_->self_level) {
    BackgroundSelfLevelCompaction(manual_compaction_);
    manual_compaction_ = nullptr;
    return;
  }

  std::unique_ptr<Compaction> c;
  const bool is_manual = manual_compaction_ != nullptr;
  InternalKey manual_end;
  if (is_manual) {
    ManualCompaction* m = manual_compaction_;
    c = versions_->CompactRange(m->level, m->begin, m->end);
    m->done = c == nullptr;
    if (c != nullptr) {
      manual_end = c->input(0, c->num_input_files(0) - 1)->largest;
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
  } else if (!is_manual && c->IsTrivialMove()) {
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
    status = DoCompactionWork(&compact);
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
    manual_compaction_ = nullptr;
  }
}

// ---------------------------------------------------------------- Flushes

Status DBImpl::WriteLevel0Table(MemTable* mem, VersionEdit* edit,
                                Version* base) {
  mutex_.AssertHeld();
  const uint64_t start_micros = env_->NowMicros();
  std::unique_ptr<Iterator> iter = mem->NewIterator();
  std::vector<FileMetaData> metas;
  std::vector<uint64_t> numbers;  // every number allocated, for cleanup
  Status s;

  if (options_.cut_flush_at_stop_before) {
    // Cut where the comparator says (e.g. at bucket boundaries). The
    // allocator runs without the mutex held by us, so it takes it.
    auto new_file_number = [this, &numbers]() {
      MutexLock l(&mutex_);
      const uint64_t number = versions_->NewFileNumber();
      pending_outputs_.insert(number);
      numbers.push_back(number);
      return number;
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
  iter.reset();

  // Once recorded in *edit the files are protected by the Version they are
  // installed in; callers install the edit before the next obsolete-file
  // removal (only the background thread and Open remove files).
  for (uint64_t number : numbers) pending_outputs_.erase(number);

  CompactionStats stats;
  stats.micros = static_cast<int64_t>(env_->NowMicros() - start_micros);
  int level = 0;
  if (s.ok()) {
    for (const FileMetaData& meta : metas) {
      // A flush that overlaps nothing may go below level 0 directly.
      level = 0;
      if (base != nullptr) {
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

void DBImpl::CompactMemTable() {
  mutex_.AssertHeld();
  assert(imm_ != nullptr);

  VersionEdit edit;
  Version* base = versions_->current();
  base->Ref();
  Status s = WriteLevel0Table(imm_, &edit, base);
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
    MutexLock l(&mutex_);
    while (imm_ != nullptr && bg_error_.ok()) {
      background_work_finished_signal_.Wait();
    }
    if (imm_ != nullptr) s = bg_error_;
  }
  return s;
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
  // `manual`: wait for it.
  while (background_compaction_scheduled_) {
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

  MutexLock l(&mutex_);
  // Files written from now on (including this call's outputs) are never
  // picked above level 0.
  const uint64_t limit =
      std::min(limit_filenumber, versions_->NextFileNumber());
  Log(options_.info_log, "CompactRangeSelfLevel below #%" PRIu64 " started",
      limit);
  SelfLevelCompactionStats total;
  uint64_t whole_file_bytes = 0;
  Status s;
  for (int level = 0; level < config::kNumLevels && s.ok(); ++level) {
    ManualCompaction manual;
    manual.level = level;
    manual.self_level = true;
    manual.limit_filenumber = limit;
    manual.begin = begin != nullptr ? &begin_storage : nullptr;
    manual.end = end != nullptr ? &end_storage : nullptr;
    RunManualCompaction(&manual);
    s = manual.status;
    if (s.ok() && !bg_error_.ok()) s = bg_error_;
    if (s.ok() && !manual.done) {
      s = Status::IOError("CompactRangeSelfLevel: the DB is shutting down");
    }
    total.files_compacted += manual.stats.files_compacted;
    total.files_dropped_whole += manual.stats.files_dropped_whole;
    total.bytes_read += manual.stats.bytes_read;
    total.bytes_written += manual.stats.bytes_written;
    whole_file_bytes += manual.whole_file_bytes;
  }
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

void DBImpl::BackgroundSelfLevelCompaction(ManualCompaction* m) {
  mutex_.AssertHeld();
  std::unique_ptr<Compaction> c = versions_->PickSelfLevelCompaction(
      m->level, m->limit_filenumber, m->begin, m->end);
  if (c == nullptr) {
    m->done = true;
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
    m->done = true;
  } else {
    m->tmp_storage = step_end;
    m->begin = &m->tmp_storage;
  }
}

// ---------------------------------------------------------------- Compaction

bool DBImpl::ShouldDropEntry(CompactionState* compact, const Slice& key) {
  ParsedInternalKey ikey;
  if (!ParseInternalKey(key, &ikey)) {
    // Keep a malformed key (reads report it) and forget the key state so
    // no valid entry is dropped because of it.
    compact->current_user_key.clear();
    compact->has_current_user_key = false;
    compact->last_sequence_for_key = kMaxSequenceNumber;
    return false;
  }

  if (!compact->has_current_user_key ||
      user_comparator()->Compare(ikey.user_key,
                                 Slice(compact->current_user_key)) != 0) {
    // The first (newest) entry of this user key.
    compact->current_user_key.assign(ikey.user_key.data(),
                                     ikey.user_key.size());
    compact->has_current_user_key = true;
    compact->last_sequence_for_key = kMaxSequenceNumber;
  }

  bool drop = false;
  if (compact->last_sequence_for_key <= compact->smallest_snapshot) {
    // Rule A: a newer entry of this key is visible to every snapshot, so
    // no reader can see this one.
    drop = true;
  } else if (ikey.type == kTypeDeletion &&
             ikey.sequence <= compact->smallest_snapshot &&
             compact->compaction->IsBaseLevelForKey(ikey.user_key)) {
    // Rule B: a tombstone every snapshot sees, with nothing older below
    // the output level: older entries of this key in the inputs are
    // dropped by rule A in the next steps, so the tombstone has nothing
    // left to hide.
    drop = true;
  }
  compact->last_sequence_for_key = ikey.sequence;
  return drop;
}

bool DBImpl::ShouldCutOutputBefore(CompactionState* compact, const Slice& key) {
  if (compact->builder == nullptr) return false;
  // Never split one user key's entries across two files of a level: the
  // level invariants (and reads) rely on a user key living in one file.
  const Slice user_key = ExtractUserKey(key);
  if (user_comparator()->Compare(user_key,
                                 Slice(compact->output_last_user_key)) == 0) {
    return false;
  }
  // Grandparent overlap (always asked, it keeps its own accounting).
  bool cut = compact->compaction->ShouldStopBefore(key);
  if (compact->builder->FileSize() >=
      compact->compaction->MaxOutputFileSize()) {
    cut = true;
  }
  // The Tair hook: outputs of level >= 1 (all compaction outputs) do not
  // straddle e.g. buckets.
  const int output_level = compact->compaction->output_level();
  if (output_level >= 1 &&
      user_comparator()->ShouldStopBefore(Slice(compact->output_first_user_key),
                                          user_key)) {
    cut = true;
  }
  return cut;
}

Status DBImpl::OpenCompactionOutputFile(CompactionState* compact) {
  assert(compact->builder == nullptr);
  uint64_t file_number;
  {
    MutexLock l(&mutex_);
    file_number = versions_->NewFileNumber();
    pending_outputs_.insert(file_number);
    CompactionState::Output out;
    out.number = file_number;
    compact->outputs.push_back(std::move(out));
  }
  const std::string fname = TableFileName(dbname_, file_number);
  Status s = env_->NewWritableFile(fname, &compact->outfile);
  if (s.ok()) {
    compact->builder =
        std::make_unique<TableBuilder>(options_, compact->outfile.get());
  }
  return s;
}

Status DBImpl::FinishCompactionOutputFile(CompactionState* compact,
                                          Iterator* input) {
  assert(compact->outfile != nullptr);
  assert(compact->builder != nullptr);
  CompactionState::Output* out = compact->current_output();
  const uint64_t output_number = out->number;
  assert(output_number != 0);

  const uint64_t current_entries = compact->builder->NumEntries();
  Status s = input->status();
  if (s.ok()) {
    s = compact->builder->Finish();
  } else {
    compact->builder->Abandon();
  }
  const uint64_t current_bytes = compact->builder->FileSize();
  out->file_size = current_bytes;
  compact->total_bytes += current_bytes;
  compact->builder.reset();

  if (s.ok()) s = compact->outfile->Sync();
  if (s.ok()) {
    s = compact->outfile->Close();
  } else {
    compact->outfile->Close().IgnoreError();
  }
  compact->outfile.reset();

  if (s.ok() && current_entries > 0) {
    // Check that the table is usable before it is installed.
    std::unique_ptr<Iterator> iter =
        table_cache_->NewIterator(ReadOptions(), output_number, current_bytes);
    s = iter->status();
    if (s.ok()) {
      Log(options_.info_log,
          "Generated table #%" PRIu64 "@%d: %" PRIu64 " keys, %" PRIu64
          " bytes",
          output_number, compact->compaction->level(), current_entries,
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
  for (const CompactionState::Output& out : compact->outputs) {
    c->edit()->AddFile(output_level, out.number, out.file_size, out.smallest,
                       out.largest, out.max_sequence);
  }
  return versions_->LogAndApply(c->edit(), &mutex_);
}

void DBImpl::CleanupCompaction(CompactionState* compact) {
  mutex_.AssertHeld();
  if (compact->builder != nullptr) {
    // Only after an error: abandon the unfinished output.
    compact->builder->Abandon();
    compact->builder.reset();
  }
  if (compact->outfile != nullptr) {
    compact->outfile->Close().IgnoreError();
    compact->outfile.reset();
  }
  for (const CompactionState::Output& out : compact->outputs) {
    pending_outputs_.erase(out.number);
  }
}

Status DBImpl::DoCompactionWork(CompactionState* compact) {
  mutex_.AssertHeld();
  Compaction* c = compact->compaction;
  const uint64_t start_micros = env_->NowMicros();
  int64_t imm_micros = 0;  // time spent flushing memtables meanwhile

  Log(options_.info_log, "Compacting %d@%d + %d@%d files",
      c->num_input_files(0), c->level(), c->num_input_files(1), c->level() + 1);
  assert(versions_->NumLevelFiles(c->level()) > 0);
  assert(compact->builder == nullptr);
  assert(compact->outfile == nullptr);

  compact->smallest_snapshot = snapshots_.empty()
                                   ? versions_->LastSequence()
                                   : snapshots_.oldest()->sequence();
  compact->now_seconds = env_->NowSeconds();

  std::unique_ptr<Iterator> input = versions_->MakeInputIterator(c);

  // Release the mutex while reading and writing tables.
  mutex_.Unlock();

  input->SeekToFirst();
  Status status;
  while (input->Valid() && !shutting_down_.load(std::memory_order_acquire)) {
    // A full memtable waits for this compaction otherwise: flush it first.
    if (has_imm_.load(std::memory_order_relaxed)) {
      const uint64_t imm_start = env_->NowMicros();
      mutex_.Lock();
      if (imm_ != nullptr) {
        CompactMemTable();
        background_work_finished_signal_.SignalAll();  // wake writers
      }
      mutex_.Unlock();
      imm_micros += static_cast<int64_t>(env_->NowMicros() - imm_start);
    }

    const Slice key = input->key();
    if (ShouldCutOutputBefore(compact, key)) {
      status = FinishCompactionOutputFile(compact, input.get());
      if (!status.ok()) break;
    }

    if (ShouldDropEntry(compact, key)) {
      ++compact->entries_dropped;
    } else {
      if (compact->builder == nullptr) {
        status = OpenCompactionOutputFile(compact);
        if (!status.ok()) break;
      }
      CompactionState::Output* out = compact->current_output();
      const Slice user_key = key.size() >= 8 ? ExtractUserKey(key) : Slice(key);
      if (compact->builder->NumEntries() == 0) {
        out->smallest.DecodeFrom(key);
        compact->output_first_user_key.assign(user_key.data(), user_key.size());
      }
      out->largest.DecodeFrom(key);
      compact->output_last_user_key.assign(user_key.data(), user_key.size());
      if (key.size() >= 8) {
        const SequenceNumber seq =
            DecodeFixed64(key.data() + key.size() - 8) >> 8;
        out->max_sequence = std::max(out->max_sequence, seq);
      }
      compact->builder->Add(key, input->value());
    }
    input->Next();
  }

  if (status.ok() && shutting_down_.load(std::memory_order_acquire)) {
    status = Status::IOError("Deleting DB during compaction");
  }
  if (status.ok() && compact->builder != nullptr) {
    status = FinishCompactionOutputFile(compact, input.get());
  }
  if (status.ok()) status = input->status();
  input.reset();

  CompactionStats stats;
  stats.micros =
      static_cast<int64_t>(env_->NowMicros() - start_micros) - imm_micros;
  for (int which = 0; which < 2; ++which) {
    for (int i = 0; i < c->num_input_files(which); ++i) {
      stats.bytes_read += static_cast<int64_t>(c->input(which, i)->file_size);
    }
  }
  for (const CompactionState::Output& out : compact->outputs) {
    stats.bytes_written += static_cast<int64_t>(out.file_size);
  }
  stats.count = 1;

  mutex_.Lock();
  stats_[c->output_level()].Add(stats);

  if (status.ok()) status = InstallCompactionResults(compact);
  Log(options_.info_log, "Compacted to %s: %s, %" PRIu64 " entries dropped",
      versions_->LevelSummary().c_str(), status.ToString().c_str(),
      compact->entries_dropped);
  return status;
}

}  // namespace ldb
