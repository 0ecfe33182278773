// DBImpl's write path: a queue of writers with group commit.
//
// Each writer enqueues itself. Write groups run one at a time: the thread
// running a group makes room in the memtable, merges the batches of the
// writers at the front of the queue into one batch, appends it to the WAL as
// one record (and syncs the WAL if the group is a sync group), inserts it
// into the memtable with the mutex released, publishes its sequence numbers,
// and releases the writers of the group with the shared status. Normally the
// front writer runs the next group; a writer arriving while no group runs
// may run it itself, which saves a thread wake-up.
//
// Gathering sync writers. With N threads each doing sync writes one after
// another, a plain leader/follower queue covers only about N/2 writes per
// WAL sync: the writers released by sync k queue again while sync k+1 (of
// whoever queued first) is already running, and wait for sync k+2. So when a
// sync group is released, the number of its sync writers is remembered;
// every sync writer that queues counts one of them as back. While some are
// missing, the next sync group waits for them, for a bounded time: about
// twice as long as they usually take to come back, and never more than 3/4
// of the average sync latency (beyond that the wait cannot pay off). The
// writer whose arrival completes the set runs the group at once, as does
// one arriving after the deadline; if nobody comes, the front writer's timer
// starts the group a little later. A writer alone never waits: it is the
// only one released and the first one back.
//
// Waking writers. Waiting writers sleep under wait_mu_, not mutex_: the
// thread that ran a group pops its writers under mutex_, then marks them
// done under wait_mu_ with mutex_ released, so the woken writers return
// without touching mutex_ and the next group's writers can queue meanwhile.
// A writer that queued while a group was being gathered (or that is in the
// running group) sleeps on that group's condition variable, group_cv_[g % 2]
// for group number g, so one broadcast wakes the whole group; any other
// writer sleeps on its own condition variable and is signalled alone. Only
// the writers of the group and the new front writer are woken (no
// thundering herd; at most a writer that queued while group g was gathered
// but did not fit into it wakes up once too early).
//
// Durability and ordering: a group's memtable insert and sequence numbers
// happen after its WAL append and (for sync groups) its WAL sync succeeded,
// so a write is visible only after it is in the WAL, durable if it asked for
// sync, and groups become visible in sequence order. A failed append or
// sync is a sticky background error (the WAL ends in an unknown state); the
// whole group gets it and later groups fail in MakeRoomForWrite. Only the
// thread running a group touches logfile_ / log_ (append, sync, switch to a
// new WAL), so a sync never races with an append or a WAL switch. A WAL
// switch does not sync the old WAL (nor the directory entry of the new
// one): the next sync group does, before its own WAL sync, so every write
// issued before an acknowledged sync write is durable with it.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <vector>

#include "db/db_impl.h"
#include "db/filename.h"
#include "db/memtable.h"
#include "db/version_set.h"
#include "db/write_batch_internal.h"
#include "util/mutexlock.h"

namespace ldb {

namespace {

// Bounds of the gather wait (see above).
constexpr uint64_t kMinGatherMicros = 10;
constexpr uint64_t kMaxGatherMicros = 2000;
// How late a timed wait may wake up (Linux's default timer slack is 50us).
constexpr uint64_t kTimerSlackMicros = 100;
// Gathers that must succeed after one timed out before the front writer's
// timer allows for the sync again (see Write).
constexpr int kTimeoutMemory = 8;

uint64_t SteadyMicros() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

// One pending write. Lives on the writing thread's stack; the thread leaves
// Write only after seeing kDone under wait_mu_, so whoever releases it may
// touch it until it lets go of wait_mu_.
struct DBImpl::Writer {
  enum class Wake {
    kNone,
    kFront,  // became the front writer: look at the queue again
    kDone,   // released: status is final
  };

  explicit Writer(port::Mutex* wait_mu) : cv(wait_mu) {}

  // Protected by DBImpl::mutex_.
  Status status;                // final once done
  WriteBatch* batch = nullptr;  // null: only make room (force a flush)
  bool sync = false;
  bool done = false;   // released; wake becomes kDone (unless this thread
                       // released itself)
  uint64_t group = 0;  // number of the write group holding it, 0 if none

  // Protected by DBImpl::wait_mu_.
  Wake wake = Wake::kNone;
  // Where the thread sleeps: cv, a group_cv_, or null when awake.
  port::CondVar* sleeping_on = nullptr;
  port::CondVar cv;  // bound to wait_mu_
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
  Writer w(&wait_mu_);
  w.batch = updates;
  w.sync = options.sync;

  mutex_.Lock();
  if (options.low_priority && updates != nullptr) {
    WaitForLowPriorityRoom(WriteBatchInternal::ByteSize(updates));
  }
  writers_.push_back(&w);
  if (w.sync && sync_writers_outstanding_ > 0 &&
      --sync_writers_outstanding_ == 0) {
    // Everyone released by the last sync group is back. (A late sample
    // counts as the deadline: GatherWaitMicros deals with those.)
    const uint64_t back_micros =
        std::min(SteadyMicros(), gather_deadline_micros_);
    rejoin_micros_avg_ =
        (7 * rejoin_micros_avg_ + (back_micros - released_micros_)) / 8;
    if (recent_gather_timeouts_ > 0) --recent_gather_timeouts_;
  }
  std::vector<Writer*> wake_list;
  while (true) {
    uint64_t wait_micros = 0;
    // A writer of the running group sleeps where the group's release is
    // broadcast (one wake-up call for all its writers).
    port::CondVar* sleep_cv = group_running_ && w.group == groups_started_
                                  ? &group_cv_[w.group % 2]
                                  : &w.cv;
    if (w.done) {
      mutex_.Unlock();
      break;
    }
    if (!group_running_) {
      wait_micros = GatherWaitMicros();
      if (wait_micros == 0) {
        RunWriteGroup(&w, &wake_list);
        const bool self_done = w.done;
        mutex_.Unlock();
        ReleaseWriters(wake_list);
        wake_list.clear();
        if (self_done) return w.status;
        mutex_.Lock();
        continue;
      }
      // Gathering for the next group, which w will most likely be in: sleep
      // where its release is broadcast. A writer whose arrival completes the
      // set, or comes after the deadline, runs the group (w included). Only
      // the front writer sets a timer, for when nobody comes at all. While
      // gathers succeed, the timer allows one more sync's time, so that the
      // group's release wakes w first: a timer going off during the group's
      // WAL sync slows the sync down measurably on a small machine. For a
      // while after a gather timed out (a writer that comes back late, or
      // not at all), the timer keeps to the deadline.
      sleep_cv = &group_cv_[(groups_started_ + 1) % 2];
      if (&w != writers_.front()) {
        wait_micros = 0;
      } else if (recent_gather_timeouts_ == 0) {
        wait_micros += sync_micros_avg_ + kTimerSlackMicros;
      }
    }
    // Sleep until released, made the front writer, or (gathering) the
    // deadline passed.
    mutex_.Unlock();
    wait_mu_.Lock();
    if (w.wake == Writer::Wake::kNone) {
      w.sleeping_on = sleep_cv;
      if (wait_micros > 0) {
        sleep_cv->TimedWait(wait_micros);
      } else {
        sleep_cv->Wait();
      }
      w.sleeping_on = nullptr;
    }
    const Writer::Wake wake = w.wake;
    if (wake == Writer::Wake::kFront) w.wake = Writer::Wake::kNone;
    wait_mu_.Unlock();
    if (wake == Writer::Wake::kDone) return w.status;
    mutex_.Lock();
  }
  // Released by another thread while this one held or waited for mutex_:
  // wait for that thread's kDone.
  wait_mu_.Lock();
  while (w.wake != Writer::Wake::kDone) {
    w.sleeping_on = &w.cv;
    w.cv.Wait();
    w.sleeping_on = nullptr;
  }
  wait_mu_.Unlock();
  return w.status;
}

void DBImpl::ReleaseWriters(const std::vector<Writer*>& writers) {
  if (writers.empty()) return;
  bool broadcast[2] = {false, false};
  wait_mu_.Lock();
  for (Writer* w : writers) {
    w->wake = Writer::Wake::kDone;
    if (w->sleeping_on == &w->cv) {
      w->cv.Signal();  // w cannot leave before wait_mu_ is released
    } else if (w->sleeping_on != nullptr) {
      broadcast[w->sleeping_on == &group_cv_[1] ? 1 : 0] = true;
    }
  }
  wait_mu_.Unlock();
  // Members of the DB: safe to signal without wait_mu_.
  for (int i = 0; i < 2; i++) {
    if (broadcast[i]) group_cv_[i].SignalAll();
  }
}

void DBImpl::WakeFront(Writer* w) {
  wait_mu_.Lock();
  w->wake = Writer::Wake::kFront;
  if (w->sleeping_on == &w->cv) {
    w->cv.Signal();
  } else if (w->sleeping_on != nullptr) {
    w->sleeping_on->SignalAll();
  }
  wait_mu_.Unlock();
}

uint64_t DBImpl::GatherWaitMicros() {
  mutex_.AssertHeld();
  if (sync_writers_outstanding_ == 0) return 0;
  const Writer* front = writers_.front();
  if (!front->sync || front->batch == nullptr) return 0;
  const uint64_t now = SteadyMicros();
  if (now < gather_deadline_micros_) return gather_deadline_micros_ - now;
  // Some did not come back in time: they stopped, do other work between
  // writes, or were slow to get the CPU. Stop waiting for them, and move
  // the estimate up a little: if they are merely slow, later waits become
  // long enough; writers that do come back in time pull it down again.
  sync_writers_outstanding_ = 0;
  recent_gather_timeouts_ = kTimeoutMemory;
  ++write_group_stats_.gather_timeouts;
  const uint64_t limit = gather_deadline_micros_ - released_micros_;
  if (limit > rejoin_micros_avg_) {
    rejoin_micros_avg_ += (limit - rejoin_micros_avg_) / 16;
  }
  return 0;
}

void DBImpl::RunWriteGroup(Writer* self, std::vector<Writer*>* wake_list) {
  mutex_.AssertHeld();
  assert(!group_running_ && !writers_.empty());
  group_running_ = true;
  ++groups_started_;
  Writer* const first = writers_.front();
  Writer* last_writer = first;
  const bool wrote = first->batch != nullptr;  // else a forced flush
  const bool sync = first->sync && wrote;
  bool synced = false;
  Status status = MakeRoomForWrite(/*force=*/!wrote);
  if (status.ok() && wrote) {
    SequenceNumber last_sequence = versions_->LastSequence();
    WriteBatch* group = BuildBatchGroup(&last_writer);
    for (Writer* member : writers_) {
      member->group = groups_started_;
      if (member == last_writer) break;
    }
    WriteBatchInternal::SetSequence(group, last_sequence + 1);
    last_sequence +=
        static_cast<SequenceNumber>(WriteBatchInternal::Count(group));
    // Time the sync (for the gather bounds) whenever the group has several
    // writers; a lone writer's syncs only one in 8, as reading the clock is
    // not free and it never gathers anyway.
    const bool time_sync = last_writer != first || groups_started_ % 8 == 0;

    // Only the thread running the group appends to the WAL and inserts into
    // mem_, so both can happen without the mutex; other writers queue
    // meanwhile. The new entries stay invisible until SetLastSequence
    // publishes them below.
    mutex_.Unlock();
    status = log_->AddRecord(WriteBatchInternal::Contents(group));
    bool wal_error = !status.ok();
    uint64_t sync_micros = 0;
    if (status.ok() && sync) {
      // The earlier WALs first (after a WAL switch), then this one.
      status = SyncEarlierWals();
      if (status.ok()) {
        const uint64_t start = time_sync ? SteadyMicros() : 0;
        status = logfile_->Sync();
        if (time_sync) sync_micros = SteadyMicros() - start;
      }
      wal_error = !status.ok();
      synced = status.ok();
    }
    if (status.ok()) {
      status = WriteBatchInternal::InsertInto(group, mem_);
    }
    mutex_.Lock();
    if (wal_error) {
      // The WAL now ends in an unknown state: the record may or may not
      // come back after a restart. Refuse every later write (so no sequence
      // number is handed out again).
      RecordBackgroundError(status);
    }
    if (synced && time_sync) {
      sync_micros_avg_ = sync_micros_avg_ == 0
                             ? sync_micros
                             : (7 * sync_micros_avg_ + sync_micros) / 8;
      ++write_group_stats_.timed_syncs;
      write_group_stats_.timed_sync_micros += sync_micros;
    }
    if (group == &tmp_batch_) tmp_batch_.Clear();
    // The group's sequence numbers are used up even if it failed: they may
    // be in the WAL (or partly in mem_) and must never be handed out again.
    versions_->SetLastSequence(last_sequence);
  }

  // Release the group with the shared status. The caller wakes the writers
  // in *wake_list once it has released mutex_.
  int sync_writers = 0;
  uint64_t writers = 0;
  while (true) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready->sync) ++sync_writers;
    ++writers;
    ready->status = status;
    ready->done = true;
    if (ready != self) wake_list->push_back(ready);
    if (ready == last_writer) break;
  }
  if (wrote) {
    ++write_group_stats_.groups;
    write_group_stats_.writers += writers;
    if (synced) {
      ++write_group_stats_.sync_groups;
      write_group_stats_.sync_writers += writers;
    }
  }
  if (synced && (sync_writers > 1 || !writers_.empty())) {
    // Expect the released sync writers back (see the file comment); not
    // when a writer is alone (nobody could gather with it). Wait
    // for them about twice as long as they usually take, and never so long
    // that another sync would have been faster.
    sync_writers_outstanding_ = sync_writers;
    const uint64_t cap = std::clamp(sync_micros_avg_ * 3 / 4, kMinGatherMicros,
                                    kMaxGatherMicros);
    const uint64_t limit = std::clamp(2 * rejoin_micros_avg_ + kMinGatherMicros,
                                      kMinGatherMicros, cap);
    released_micros_ = SteadyMicros();
    gather_deadline_micros_ = released_micros_ + limit;
  }
  group_running_ = false;
  if (!sequence_requests_.empty()) ServeSequenceRequests();
  // The new front writer runs (or gathers) the next group. It cannot leave
  // while mutex_ is held, so it is woken right here.
  if (!writers_.empty() && writers_.front() != self) {
    WakeFront(writers_.front());
  }
}

// A ReserveSequence call waiting for a write group to end.
struct DBImpl::SequenceRequest {
  SequenceNumber sequence = 0;  // 0 until served
};

SequenceNumber DBImpl::ReserveSequence() {
  MutexLock l(&mutex_);
  SequenceRequest request;
  sequence_requests_.push_back(&request);
  if (!group_running_) ServeSequenceRequests();
  // Else served by the group's thread as it ends: this thread may be slow to
  // get the CPU back (a niced bulk loader), and must not hold up the next
  // group meanwhile.
  while (request.sequence == 0) sequence_reserved_signal_.Wait();
  return request.sequence;
}

void DBImpl::ServeSequenceRequests() {
  mutex_.AssertHeld();
  assert(!group_running_);
  for (SequenceRequest* r : sequence_requests_) {
    r->sequence = versions_->LastSequence() + 1;
    versions_->SetLastSequence(r->sequence);
  }
  sequence_requests_.clear();
  sequence_reserved_signal_.SignalAll();
}

Status DBImpl::SyncEarlierWals() {
  if (prev_logfile_ != nullptr) {
    Status s = prev_logfile_->Sync();
    if (!s.ok()) return s;
    s = prev_logfile_->Close();
    prev_logfile_.reset();
    if (!s.ok()) return s;
  }
  if (logfile_dir_unsynced_) {
    Status s = env_->SyncDir(dbname_);
    if (!s.ok()) return s;
    logfile_dir_unsynced_ = false;
  }
  return Status::OK();
}

WriteBatch* DBImpl::BuildBatchGroup(Writer** last_writer) {
  mutex_.AssertHeld();
  assert(!writers_.empty());
  Writer* first = writers_.front();
  WriteBatch* result = first->batch;
  assert(result != nullptr);

  size_t size = WriteBatchInternal::ByteSize(first->batch);
  // Cap the group so one large group does not delay its members too much;
  // keep small writes cheap by capping much lower behind a small first writer.
  size_t max_size = size_t{1} << 20;
  if (size <= (size_t{128} << 10)) max_size = size + (size_t{128} << 10);

  *last_writer = first;
  auto it = writers_.begin();
  ++it;
  for (; it != writers_.end(); ++it) {
    Writer* w = *it;
    if (w->sync && !first->sync) {
      break;  // a sync write must not ride on a non-sync group
    }
    if (w->batch == nullptr) {
      break;  // a forced flush request is a group of its own
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

double DBImpl::Level0Load(bool waiting_only) const {
  if (options_.cut_flush_at_stop_before) {
    uint64_t bytes = static_cast<uint64_t>(versions_->NumLevelBytes(0));
    if (waiting_only) bytes -= std::min(bytes, level0_bytes_compacting_);
    return static_cast<double>(bytes) /
           static_cast<double>(options_.write_buffer_size);
  }
  int files = versions_->NumLevelFiles(0);
  if (waiting_only) files -= std::min(files, level0_files_compacting_);
  return files;
}

void DBImpl::WaitForLowPriorityRoom(size_t bytes) {
  mutex_.AssertHeld();
  const size_t reserve = options_.write_buffer_size / 16;
  const size_t limit = options_.write_buffer_size - reserve;
  uint64_t start = 0;
  while (bg_error_.ok() && !shutting_down_.load(std::memory_order_acquire)) {
    // Only the flush: a wait for level 0 to drain could last a whole deeper
    // compaction, longer than callers can wait (a migrated batch's RPC times
    // out), while normal writers there are only slowed by 1 ms each.
    if (imm_ == nullptr || mem_->ApproximateMemoryUsage() + bytes <= limit) break;
    if (start == 0) {
      start = env_->NowMicros();
      ++stall_stats_.low_priority_waits;
    }
    // Signalled whenever a flush finishes (imm_ becomes null) or fails.
    background_work_finished_signal_.Wait();
  }
  if (start != 0) stall_stats_.low_priority_micros += env_->NowMicros() - start;
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
    // Both level-0 triggers count the backlog no compaction has started on:
    // files a running compaction already took leave level 0 when it
    // finishes, and holding writes back meanwhile would not make it finish
    // much sooner, only idle the writer. (So level 0 holds at most about
    // twice the stop trigger: the files being compacted, and a stop
    // trigger's worth waiting.)
    if (allow_delay && Level0Load(/*waiting_only=*/true) >=
                           options_.level0_slowdown_writes_trigger) {
      // Close to the stop trigger: rather than stop writes for seconds
      // later, slow each write down by 1 ms now (once per write) and give
      // the compaction threads the CPU.
      const uint64_t start = env_->NowMicros();
      mutex_.Unlock();
      env_->SleepForMicroseconds(1000);
      allow_delay = false;
      mutex_.Lock();
      ++stall_stats_.slowdowns;
      stall_stats_.slowdown_micros += env_->NowMicros() - start;
    } else if (!force &&
               mem_->ApproximateMemoryUsage() <= options_.write_buffer_size) {
      break;  // there is room
    } else if (force && mem_->NumEntries() == 0 && imm_ == nullptr) {
      break;  // nothing to flush
    } else if (imm_ != nullptr) {
      // The previous memtable is still being flushed.
      Log(options_.info_log, "Current memtable full; waiting...");
      const uint64_t start = env_->NowMicros();
      background_work_finished_signal_.Wait();
      stall_stats_.memtable_micros += env_->NowMicros() - start;
    } else if (Level0Load(/*waiting_only=*/true) >=
               options_.level0_stop_writes_trigger) {
      Log(options_.info_log, "Too many L0 files; waiting...");
      const uint64_t start = env_->NowMicros();
      background_work_finished_signal_.Wait();
      stall_stats_.level0_stop_micros += env_->NowMicros() - start;
    } else {
      // Switch to a new memtable and WAL; flush the old memtable.
      //
      // The old WAL is not synced here: a sync write to the new WAL must
      // not survive a machine crash while earlier writes in the old one do
      // not, so the first sync group after the switch syncs the old WAL
      // first (SyncEarlierWals); until then nothing was promised. The WAL
      // before the old one held imm_'s writes, which are in a table now
      // (imm_ is null): it can be closed unsynced. Only the thread running
      // the group (this one) touches the WAL files.
      if (prev_logfile_ != nullptr) {
        Status closed = prev_logfile_->Close();
        if (!closed.ok()) {
          Log(options_.info_log, "Closing a flushed WAL: %s",
              closed.ToString().c_str());
        }
        prev_logfile_.reset();
      }
      const uint64_t new_log_number = versions_->NewFileNumber();
      std::unique_ptr<WritableFile> lfile;
      s = env_->NewLogFile(LogFileName(dbname_, new_log_number), &lfile);
      if (!s.ok()) {
        versions_->ReuseFileNumber(new_log_number);
        break;
      }
      log_.reset();
      prev_logfile_ = std::move(logfile_);
      logfile_ = std::move(lfile);
      // Made durable by the first sync group, before it acknowledges a sync
      // write to the new WAL.
      logfile_dir_unsynced_ = true;
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
