// CleanupScheduler: runs the cleanup compactions of reclaimed buckets in the
// background, one bucket at a time (migration/README.md step 6).
//
// Enqueue(ticket) queues a bucket whose GC registry entry was added (its keys are
// already hidden from reads). A single thread takes the queue in order and, unless
// paused or outside the time window, runs BucketStore::CompactBucket
// (CompactRangeSelfLevel over the bucket's range) and then RetireReclaim; it sleeps
// pause_ms between buckets. A failed compaction is logged and the bucket retried
// later (after the others). Enqueueing a bucket already queued merges the tickets
// (the newer sequence and the larger limit). Start also queues the reclaims persisted
// before a restart (BucketStore::PendingReclaims).
//
// RunNow (the cleanup RPC's `run`) queues tickets ahead of the others and runs them
// even outside the time window or while options.hold says wait, without the pause
// between buckets (a Pause still holds). buckets() reports every bucket queued
// since Start: queued, running or done (with the bytes its last compaction freed).
//
// Thread-safe. Stop waits for a compaction in progress.
#ifndef TESSERA_MIGRATION_CLEANUP_SCHEDULER_H_
#define TESSERA_MIGRATION_CLEANUP_SCHEDULER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "common/status.h"
#include "migration/bucket_store.h"

namespace tessera::migration {

struct CleanupOptions {
  uint32_t pause_ms = 1000;  // sleep between two buckets
  // Hours [window_start, window_end) in local time during which cleanups may start
  // (wrapping past midnight when start > end); -1 = any time.
  int window_start = -1;
  int window_end = -1;
  // The current local hour 0..23; empty = the system clock. For tests.
  std::function<int()> hour_now;
  // Optional: true while cleanups should wait (like outside the window). The data
  // server holds them while it sends buckets: each cleanup writes the MANIFEST and
  // lists the data directory on ldb's background thread at normal priority, and
  // the flips of a migration queue one per bucket moved (in bench_migration a
  // tenth of the CPU of the migration window). Asked every hold_poll_ms.
  std::function<bool()> hold;
  uint32_t hold_poll_ms = 200;
  // A hold that lasts longer than this is ignored until it ends (a migration
  // that keeps retrying must not keep the disk from being reclaimed forever).
  uint32_t max_hold_ms = 10 * 60 * 1000;
};

// Parses "HH-HH" (00..23 each; equal hours = any time) or "" (any time).
Status ParseCleanupWindow(const std::string& text, int* start, int* end);

class CleanupScheduler {
 public:
  // `store` must outlive the scheduler.
  CleanupScheduler(CleanupOptions options, BucketStore* store);
  ~CleanupScheduler();  // Stops
  CleanupScheduler(const CleanupScheduler&) = delete;
  CleanupScheduler& operator=(const CleanupScheduler&) = delete;

  void Start();
  void Stop();  // idempotent

  void Enqueue(const ReclaimTicket& ticket);
  // Queues `tickets` at the front, to run now (see the class comment).
  void RunNow(const std::vector<ReclaimTicket>& tickets);

  // Persisted through the store (GC registry); a compaction in progress finishes.
  Status Pause();
  Status Resume();
  bool paused() const;

  struct Stats {
    uint64_t pending = 0;          // queued or in progress
    uint64_t buckets_cleaned = 0;  // since start
    uint64_t bytes_freed = 0;
    uint64_t bytes_written = 0;
  };
  Stats stats() const;

  enum class BucketPhase { kQueued, kRunning, kDone };
  struct BucketInfo {
    uint32_t bucket = 0;
    BucketPhase phase = BucketPhase::kQueued;
    uint64_t bytes_freed = 0;  // by its last finished compaction
  };
  // Every bucket queued since Start, by bucket number.
  std::vector<BucketInfo> buckets() const;
  static const char* PhaseName(BucketPhase phase);

  // Waits until nothing is pending (or timeout); true when idle. For tests and tools.
  bool WaitIdle(uint32_t timeout_ms);

 private:
  void Run();
  bool InWindow() const;
  // Queues (or merges) one ticket; with `front` it moves to the front. mu_ held.
  void EnqueueLocked(const ReclaimTicket& ticket, bool front);
  bool QueuedLocked(uint32_t bucket) const;

  // Constant after construction.
  const CleanupOptions options_;
  BucketStore* const store_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ReclaimTicket> queue_;  // guarded by mu_
  bool running_one_ = false;         // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool paused_ = false;              // guarded by mu_
  std::set<uint32_t> forced_;        // buckets queued by RunNow; guarded by mu_
  std::map<uint32_t, BucketInfo> seen_;  // guarded by mu_
  std::thread thread_;

  std::atomic<uint64_t> buckets_cleaned_{0};
  std::atomic<uint64_t> bytes_freed_{0};
  std::atomic<uint64_t> bytes_written_{0};
};

}  // namespace tessera::migration

#endif  // TESSERA_MIGRATION_CLEANUP_SCHEDULER_H_
