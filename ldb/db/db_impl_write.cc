// DBImpl's write path: a queue of writers with group commit.
//
// Each writer enqueues itself and waits until it is at the front. The front
// writer (the leader) makes room in the memtable, merges the batches of the
// writers queued behind it into one group, appends the group to the WAL as
// one record (syncing it if asked), inserts it into the memtable with the
// mutex released (only the leader touches mem_), then hands the shared
// status to every writer of the group and wakes the next leader.
#include <cinttypes>

#include "db/db_impl.h"
#include "db/filename.h"
#include "db/memtable.h"
#include "db/version_set.h"
#include "db/write_batch_internal.h"
#include "util/mutexlock.h"

namespace ldb {

// One pending write. Lives on the writing thread's stack.
struct DBImpl::Writer {
  explicit Writer(port::Mutex* mu) : cv(mu) {}

  Status status;
  WriteBatch* batch = nullptr;  // null: only make room (force a flush)
  bool sync = false;
  bool done = false;
  port::CondVar cv;
};

Status DBImpl::Put(const WriteOptions& options, const Slice& key,
                   const Slice& value) {
  WriteBatch batch;
  batch.Put(key, value);
  return Write(options, &batch);
}

Status DBImpl::Delete(const WriteOptions& options, const Slice& key) {
  WriteBatch batch;
  batch.Delete(key);
  return Write(options, &batch);
}

Status DBImpl::Write(const WriteOptions& options, WriteBatch* updates) {
  Writer w(&mutex_);
  w.batch = updates;
  w.sync = options.sync;

  MutexLock l(&mutex_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) {
    w.cv.Wait();
  }
  if (w.done) {
    return w.status;  // a leader wrote our batch as part of its group
  }

  // We are the leader.
  Status status = MakeRoomForWrite(/*force=*/updates == nullptr);
  SequenceNumber last_sequence = versions_->LastSequence();
  Writer* last_writer = &w;
  if (status.ok() && updates != nullptr) {
    WriteBatch* group = BuildBatchGroup(&last_writer);
    WriteBatchInternal::SetSequence(group, last_sequence + 1);
    last_sequence +=
        static_cast<SequenceNumber>(WriteBatchInternal::Count(group));

    {
      // Only the leader appends to the WAL and inserts into mem_, so both
      // can happen without the mutex; other writers queue meanwhile.
      mutex_.Unlock();
      status = log_->AddRecord(WriteBatchInternal::Contents(group));
      bool wal_error = !status.ok();
      if (status.ok() && options.sync) {
        status = logfile_->Sync();
        wal_error = !status.ok();
      }
      if (status.ok()) {
        status = WriteBatchInternal::InsertInto(group, mem_);
      }
      mutex_.Lock();
      if (wal_error) {
        // The WAL now ends in an unknown state: the record may or may not
        // come back after a restart. Refuse every later write.
        RecordBackgroundError(status);
      }
    }
    if (group == &tmp_batch_) tmp_batch_.Clear();
    // The group's sequence numbers are used up even if it failed: they may
    // be in the WAL (or partly in mem_) and must never be handed out again.
    versions_->SetLastSequence(last_sequence);
  }

  // Wake every writer of the group with the shared status.
  while (true) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready != &w) {
      ready->status = status;
      ready->done = true;
      ready->cv.Signal();
    }
    if (ready == last_writer) break;
  }
  // Hand leadership to the next writer.
  if (!writers_.empty()) writers_.front()->cv.Signal();
  return status;
}

WriteBatch* DBImpl::BuildBatchGroup(Writer** last_writer) {
  mutex_.AssertHeld();
  assert(!writers_.empty());
  Writer* first = writers_.front();
  WriteBatch* result = first->batch;
  assert(result != nullptr);

  size_t size = WriteBatchInternal::ByteSize(first->batch);
  // Cap the group so one large group does not delay its members too much;
  // keep small writes cheap by capping much lower behind a small leader.
  size_t max_size = size_t{1} << 20;
  if (size <= (size_t{128} << 10)) max_size = size + (size_t{128} << 10);

  *last_writer = first;
  auto it = writers_.begin();
  ++it;
  for (; it != writers_.end(); ++it) {
    Writer* w = *it;
    if (w->sync && !first->sync) {
      break;  // a sync write must not ride on a non-sync leader
    }
    if (w->batch == nullptr) {
      break;  // a forced flush request is served as its own leader
    }
    size += WriteBatchInternal::ByteSize(w->batch);
    if (size > max_size) break;
    if (result == first->batch) {
      // Switch to the scratch batch rather than modify the caller's.
      result = &tmp_batch_;
      assert(WriteBatchInternal::Count(result) == 0);
      WriteBatchInternal::Append(result, first->batch);
    }
    WriteBatchInternal::Append(result, w->batch);
    *last_writer = w;
  }
  return result;
}

double DBImpl::Level0Load() const {
  if (options_.cut_flush_at_stop_before) {
    return static_cast<double>(versions_->NumLevelBytes(0)) /
           static_cast<double>(options_.write_buffer_size);
  }
  return versions_->NumLevelFiles(0);
}

Status DBImpl::MakeRoomForWrite(bool force) {
  mutex_.AssertHeld();
  assert(!writers_.empty());
  bool allow_delay = !force;
  Status s;
  while (true) {
    if (!bg_error_.ok()) {
      s = bg_error_;
      break;
    }
    if (allow_delay &&
        Level0Load() >= options_.level0_slowdown_writes_trigger) {
      // Close to the stop trigger: rather than stop writes for seconds
      // later, slow each write down by 1 ms now (once per write) and give
      // the compaction thread the CPU.
      mutex_.Unlock();
      env_->SleepForMicroseconds(1000);
      allow_delay = false;
      mutex_.Lock();
    } else if (!force &&
               mem_->ApproximateMemoryUsage() <= options_.write_buffer_size) {
      break;  // there is room
    } else if (force && mem_->NumEntries() == 0 && imm_ == nullptr) {
      break;  // nothing to flush
    } else if (imm_ != nullptr) {
      // The previous memtable is still being flushed.
      Log(options_.info_log, "Current memtable full; waiting...");
      background_work_finished_signal_.Wait();
    } else if (Level0Load() >= options_.level0_stop_writes_trigger) {
      Log(options_.info_log, "Too many L0 files; waiting...");
      background_work_finished_signal_.Wait();
    } else {
      // Switch to a new memtable and WAL; flush the old memtable.
      //
      // First make the old WAL durable: otherwise a later sync write to the
      // new WAL could survive a machine crash while earlier writes in the
      // old one do not. Only the leader (this thread) touches logfile_, and
      // while the mutex is released imm_ can only go from set to null.
      mutex_.Unlock();
      Status synced = logfile_->Sync();
      mutex_.Lock();
      if (!synced.ok()) {
        RecordBackgroundError(synced);
        s = synced;
        break;
      }
      const uint64_t new_log_number = versions_->NewFileNumber();
      std::unique_ptr<WritableFile> lfile;
      s = env_->NewLogFile(LogFileName(dbname_, new_log_number), &lfile);
      if (s.ok()) {
        // The new WAL's directory entry must be durable before any sync
        // write to it is acknowledged.
        s = env_->SyncDir(dbname_);
        if (!s.ok()) {
          lfile->Close().IgnoreError();
          lfile.reset();
          env_->RemoveFile(LogFileName(dbname_, new_log_number)).IgnoreError();
        }
      }
      if (!s.ok()) {
        versions_->ReuseFileNumber(new_log_number);
        break;
      }
      log_.reset();
      Status closed = logfile_->Close();
      if (!closed.ok()) {
        // Writes acknowledged to the old WAL may be lost.
        RecordBackgroundError(closed);
      }
      logfile_ = std::move(lfile);
      logfile_number_ = new_log_number;
      log_ = std::make_unique<log::Writer>(logfile_.get());
      imm_ = mem_;
      has_imm_.store(true, std::memory_order_release);
      mem_ = new MemTable(internal_comparator_);
      mem_->Ref();
      force = false;  // do not switch again
      MaybeScheduleCompaction();
    }
  }
  return s;
}

}  // namespace ldb
