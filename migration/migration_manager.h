// MigrationManager: the source side of bucket migration (migration/README.md).
//
// Driven by tables (OnTable): for each bucket that is moving in the table and that
// this node masters (unless the migration is paused), a worker (parallel of them)
// runs attempts until the bucket is flipped or its plan changes:
//   StartRecording -> scan under a snapshot, MigrateBatch to the destination (first
//   batch first = true; caps batch_bytes / batch_entries; throttled to bytes_per_sec
//   over all workers) -> catch up on the change set while it shrinks -> Fence, send
//   the last changes -> BucketDone to the config servers (each in turn) -> adopt the
//   answer's table -> Unfence.
// Every batch is stamped with the source's current table version and migration_id
// and sent only while that table still plans the bucket from here to the same
// destination. A failure before the report (destination down, refused, timeout)
// lifts the fence and redoes the bucket from scratch after retry_backoff_ms. While
// fenced and reporting, the fence is lifted only once the config server refused (or
// a newer table shows the plan changed): a lost answer to an accepted report never
// lets a write in after the flip. Nothing is persisted: after a restart the table
// says which buckets still move.
//
// Thread-safe. Callbacks are called from worker threads and must not call Stop.
#ifndef TESSERA_MIGRATION_MIGRATION_MANAGER_H_
#define TESSERA_MIGRATION_MIGRATION_MANAGER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/address.h"
#include "common/bucket_table.h"
#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "common/rpc_channel.h"
#include "common/status.h"
#include "migration/bucket_store.h"

namespace tessera::migration {

class BulkThread;

struct MigrationOptions {
  std::string self_address;              // our identity in tables
  std::vector<HostPort> config_servers;  // for BucketDone
  int parallel = 2;                      // buckets in flight at once
  uint64_t bytes_per_sec = 0;            // all buckets together; 0 = unlimited
  size_t batch_bytes = 1u << 20;         // per batch: EntryBatch::bytes (keys, values, meta)
  size_t batch_entries = 1024;
  uint32_t rpc_timeout_ms = 5000;
  size_t catchup_fence_keys = 64;  // fence once a change set is this small
  int max_catchup_rounds = 20;
  uint32_t retry_backoff_ms = 200;
  size_t max_frame_bytes = 16u << 20;
  // CPU niceness of the threads that scan buckets and send the scan's batches
  // (0..19): client requests on the same machine win the CPU (see
  // ldb::LowerCurrentThreadPriority). Catch-up, fence, drain and report run on the
  // worker's own thread in the normal class, so that a busy machine does not stretch
  // the fence (writes to the bucket refused meanwhile).
  int worker_nice = 10;
  // The scan threads in the SCHED_IDLE class instead (tessera::SetCurrentThreadIdle):
  // a request thread that wakes takes the CPU from them at once, not after their
  // time slice.
  bool worker_idle = false;
  // The io thread that writes the batches to the destinations' sockets (and reads
  // their answers) in the SCHED_IDLE class too. Reports to the config servers go
  // through another io thread, in the normal class.
  bool io_idle = true;
};

struct MigrationCallbacks {
  // The table the data server serves now (may be null before the first).
  std::function<std::shared_ptr<const BucketTable>()> current_table;
  // Installs a table from a BucketDone answer (ignored unless newer).
  std::function<void(std::shared_ptr<const BucketTable>)> adopt_table;
  // Asks for an early heartbeat (a newer table exists).
  std::function<void()> fetch_table;
};

class MigrationManager {
 public:
  // `store` must outlive the manager.
  MigrationManager(MigrationOptions options, BucketStore* store, MigrationCallbacks callbacks);
  ~MigrationManager();  // Stops
  MigrationManager(const MigrationManager&) = delete;
  MigrationManager& operator=(const MigrationManager&) = delete;

  void Start();
  // Abandons the buckets in flight (fences lifted) and joins the workers. Idempotent.
  void Stop();

  // Queues the buckets `table` moves away from this node. Non-blocking.
  void OnTable(const std::shared_ptr<const BucketTable>& table);

  // Heartbeat figures: in_flight, totals (buckets/keys/bytes sent), migration_id.
  void FillStats(proto::MigrationStats* stats) const;

  // Buckets queued or in flight (tests).
  size_t busy() const;

 private:
  struct Plan {
    std::string destination;
  };

  // A worker runs its buckets' scans on `scanner`, the rest on its own thread.
  void Worker(BulkThread* scanner);
  void RunBucket(uint32_t bucket, BulkThread* scanner);
  // True when `table` moves `bucket` from this node; fills *plan.
  bool PlanFor(const BucketTable* table, uint32_t bucket, Plan* plan) const;
  // True when owners[bucket]'s master is `destination` (the bucket flipped).
  static bool Flipped(const BucketTable* table, uint32_t bucket, const std::string& dest);
  // When each phase of an attempt began, for the log.
  struct AttemptTimes {
    using TimePoint = std::chrono::steady_clock::time_point;
    TimePoint start, catch_up, fenced, reported, done;
    static int64_t Ms(TimePoint from, TimePoint to) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
    }
  };
  Status RunAttempt(uint32_t bucket, const Plan& plan, BulkThread* scanner,
                    AttemptTimes* times);
  // Sends one batch; fails when the plan changed or the destination refused.
  // fresh_keys: a batch of the snapshot scan (MigrateBatchRequest.fresh_keys).
  // Sends *batch as a Request.migrate_packed; *batch is then empty (its buffer kept)
  // unless the plan changed or the manager is stopping before it went out.
  Status SendBatch(uint32_t bucket, const Plan& plan, bool first, bool fresh_keys,
                   EntryBatch* batch);
  // Reports the bucket done; OK once the table we serve shows the flip.
  Status Report(uint32_t bucket, const Plan& plan);
  RpcChannel* ChannelTo(const std::string& address);
  void Throttle(size_t bytes);
  // Sleeps up to ms; false when stopping.
  bool Sleep(uint32_t ms);
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  void SetPhase(uint32_t bucket, const char* phase);
  void AddSent(uint32_t bucket, uint64_t keys, uint64_t bytes);

  // Constant after construction.
  const MigrationOptions options_;
  BucketStore* const store_;
  const MigrationCallbacks callbacks_;

  IoThread io_{1, "mig-io"};  // the destinations' channels (SCHED_IDLE with io_idle)
  std::mutex channels_mu_;
  std::map<std::string, std::unique_ptr<RpcChannel>> channels_;  // channels_mu_
  // The reports go through a thread of their own, in the normal class: a flip waits
  // for them while writes to the bucket are held.
  IoThread report_io_{1, "mig-report-io"};
  std::vector<std::unique_ptr<RpcChannel>> config_channels_;  // constant

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint32_t> pending_;                      // guarded by mu_
  std::set<uint32_t> busy_;                           // pending or running; mu_
  std::map<uint32_t, proto::BucketMigration> in_flight_;  // guarded by mu_
  uint64_t migration_id_ = 0;                         // guarded by mu_
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
  std::vector<std::unique_ptr<BulkThread>> scanners_;  // one per worker

  std::mutex throttle_mu_;
  std::chrono::steady_clock::time_point next_send_{};  // guarded by throttle_mu_

  std::atomic<uint64_t> buckets_sent_{0}, keys_sent_{0}, bytes_sent_{0};
};

}  // namespace tessera::migration

#endif  // TESSERA_MIGRATION_MIGRATION_MANAGER_H_
