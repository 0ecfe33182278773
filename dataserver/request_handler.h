// RequestHandler: the data server's RpcService. Validates each request, routes it
// against the current bucket table, and applies it to the StorageManager.
//
// Validation (INVALID_ARGUMENT, nothing applied): a request without a body or with a
// body that is not a data request; area > 65535; a key empty or over 1024 bytes; a
// value over max_value_bytes; more than 1024 keys in an mget / mput (one bad key or
// value fails the whole batch).
//
// Routing: the bucket of a key is BucketOf(user key, table->bucket_count()). Only the
// bucket's master serves it, reads included. Otherwise the key is refused with
// WRONG_OWNER "wrong owner, table version N" and never applied (per key in mget /
// mput results, where the response itself is OK). Before any table arrived every
// request is answered UNAVAILABLE "no table yet". Every response carries the table
// version this server had when it answered. A request stamped with a newer table
// version than ours calls on_newer_table (the heartbeat client fetches at once).
//
// Held instead of refused (HeldCalls; see there for why): a request stamped with a
// newer table version than ours for a key whose bucket we do not master (any key, in
// an mget / mput) waits up to hold_for_table_ms for that table (on_newer_table is then
// told it is urgent); a put / remove / incr / expire to a fenced bucket waits up to
// hold_fenced_ms for the fence to lift. Either then runs once more and is answered
// under the table of that moment: the flip's WRONG_OWNER with the new version (one
// table refresh for the client instead of a back-off), or served. Past the hold, or
// beyond max_held_calls, it is answered as without holds. The handler registers
// itself as the storage's unfence listener for its lifetime.
//
// Migration (migration/README.md, destination side): a migration batch (migrate_packed,
// or migrate_batch from a source that predates packed entries) is applied only
// when our table names this server the bucket's destination under the request's
// migration_id with the request's source as the bucket's master, even when the
// request carries a newer table version than ours (a newer version of the same plan
// differs only in buckets already flipped; we fetch it meanwhile). Otherwise it is
// refused: STALE_TABLE when the versions differ (and we fetch when the request's is
// newer), WRONG_OWNER when they are equal. Its entries must decode and keep the
// limits above (checked before anything else), and every key must hash to the
// bucket; otherwise INVALID_ARGUMENT, nothing applied. A `first` batch reclaims the bucket
// (BucketStore::ReclaimBucket; the ticket goes to the reclaim hook) before applying.
// Batches run on migrate_apply_threads dedicated threads (at migrate_apply_nice)
// rather than on the io threads, so a 1 MiB batch never holds up the client requests
// read behind it. A bucket's batches always go to the same thread (bucket modulo the
// thread count), FIFO: a batch of an abandoned attempt still queued is applied before
// the next attempt's first batch reclaims it, never after. A full queue answers
// UNAVAILABLE "overloaded" (the source redoes the bucket).
//
// Cleanup (`cleanup` body): answered by the cleanup hook (the data server's
// CleanupScheduler) inline on the io thread, with or without a table; at most 65536
// buckets in a run (INVALID_ARGUMENT); UNAVAILABLE when no hook is set.
//
// Threading: gets and mgets run inline on the RpcServer's io thread. Writes (put,
// remove, incr, expire, mput) run on the io thread too when inline_writes is set;
// otherwise on a pool of write_threads workers with a bounded queue (full:
// UNAVAILABLE "overloaded"), so that many synced writers meet in one ldb group
// commit. Ownership is checked when the write runs, against the table of that moment.
// (Inline writes share the io threads with reads: an ldb write stall, e.g. at the
// level-0 stop trigger, delays that thread's reads too.)
//
// Thread-safe. SetTable / SetSelfAddress may be called from any thread at any time.
#ifndef TESSERA_DATASERVER_REQUEST_HANDLER_H_
#define TESSERA_DATASERVER_REQUEST_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/bucket_table.h"
#include "common/limits.h"
#include "common/rpc_server.h"
#include "common/status.h"
#include "dataserver/call_pool.h"
#include "dataserver/held_calls.h"
#include "migration/bucket_store.h"

namespace tessera::ds {

class StorageManager;

struct RequestHandlerOptions {
  size_t max_value_bytes = kDefaultMaxValueBytes;
  int write_threads = 64;
  size_t write_queue_limit = 16384;  // queued writes before UNAVAILABLE "overloaded"
  bool inline_writes = false;        // run writes on the io thread (no pool)
  // The write threads' time slice (RpcServerOptions::io_thread_slice_us); 0: default.
  uint32_t write_thread_slice_us = 0;
  // Incoming migration batches run on threads of their own, off the io threads (a
  // batch of up to 1 MiB must not hold up the requests behind it), at this CPU
  // niceness (0..19; see ldb::LowerCurrentThreadPriority). Keep it 0: the apply
  // threads write through ldb's write queue, which client writes share, so a write
  // group led by a niced apply thread holds the client writes queued behind it (and
  // the gets behind those on their io thread) while the scheduler prefers everything
  // else. In bench_migration the client p99 during a migration was 20 ms at nice 10
  // and 10 ms at 0, the same throughput.
  int migrate_apply_nice = 0;
  // Apply threads in the SCHED_IDLE class (tessera::SetCurrentThreadIdle) instead: a
  // request thread that wakes preempts them at once, and an apply thread leading a
  // write group (catch-up batches) holds the writers behind it only while no request
  // thread wants its CPU.
  bool migrate_apply_idle = false;
  int migrate_apply_threads = 1;    // batches of different buckets applied at once
  size_t migrate_queue_limit = 64;  // per thread: queued batches before "overloaded"
  // Holds (see the class comment); 0 ms answers at once (WRONG_OWNER / UNAVAILABLE).
  uint32_t hold_for_table_ms = 100;
  uint32_t hold_fenced_ms = 200;
  size_t max_held_calls = 4096;
};

class RequestHandler final : public RpcService {
 public:
  // `storage` must outlive the handler. `on_newer_table` (may be empty) is called
  // from io/worker threads with the newer version a request carried, and `urgent`
  // when a request is held for it; it must not block.
  using NewerTableHook = std::function<void(uint64_t version, bool urgent)>;
  RequestHandler(const RequestHandlerOptions& options, StorageManager* storage,
                 NewerTableHook on_newer_table);
  ~RequestHandler() override;
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  void Handle(std::unique_ptr<ServerCall> call) override;

  // Called with the ticket of every bucket a `first` batch reclaimed. Set before the
  // server starts.
  void SetReclaimHook(std::function<void(const migration::ReclaimTicket&)> hook) {
    reclaim_hook_ = std::move(hook);
  }

  // Answers a cleanup request (filling the response or returning an error). Set
  // before the server starts; called on io threads, must not block for long.
  using CleanupHook =
      std::function<Status(const proto::CleanupRequest&, proto::CleanupResponse*)>;
  void SetCleanupHook(CleanupHook hook) { cleanup_hook_ = std::move(hook); }

  // The address under which this server appears in tables ("host:port").
  void SetSelfAddress(const std::string& address);
  // Installs `table` if it is newer than the current one (or the first). Returns
  // true when installed. Requests held for it are handed to the HeldCalls' thread.
  bool SetTable(std::shared_ptr<const BucketTable> table);
  uint64_t table_version() const;
  std::shared_ptr<const BucketTable> table() const;

  // New requests are answered UNAVAILABLE "shutting down" from now on; held requests
  // run now and queued writes still run. Then Drain() waits until every queued write
  // was answered.
  void StopAccepting();
  void Drain();

  struct Counters {
    uint64_t gets = 0, puts = 0, removes = 0, errors = 0;
    uint64_t migrate_batches = 0;  // applied
    uint64_t held_for_table = 0, held_fenced = 0;  // requests held (HeldCalls)
    uint64_t held_expired = 0;                     // of them, answered at the deadline
  };
  Counters counters() const;

 private:
  // The table and our index in it, swapped as one.
  struct Routing {
    std::shared_ptr<const BucketTable> table;
    int self_index = -1;
    uint64_t version() const { return table ? table->version() : 0; }
  };

  std::shared_ptr<const Routing> routing() const { return routing_.load(); }
  // Validates the body; OK or InvalidArgument.
  Status Validate(const proto::Request& req) const;
  // Tags of a call on its way to Execute.
  static constexpr uint32_t kMayHold = 0;  // may be held (again)
  static constexpr uint32_t kResumed = 1;  // was held once: answer it this time
  // Runs a validated request on the io thread or queues it to its pool (a full pool
  // answers UNAVAILABLE "overloaded").
  void Dispatch(std::unique_ptr<ServerCall> call, uint32_t tag);
  // Runs a validated request and replies, or holds it (a write to a fenced bucket).
  void Execute(std::unique_ptr<ServerCall> call, uint32_t tag);
  // The key of a put / remove / incr / expire; null for other requests.
  static const std::string* SingleWriteKey(const proto::Request& req);
  // True when `req` has a key whose bucket `r` does not name us the master of.
  static bool RoutesAway(const Routing& r, const proto::Request& req);
  // Holds `*call` until the table of `version` arrives; false when not held.
  bool HoldForTable(uint64_t version, std::unique_ptr<ServerCall>* call);
  // Holds the write `*call` while `bucket` is fenced; false when not held.
  bool HoldWhileFenced(uint32_t bucket, std::unique_ptr<ServerCall>* call);
  // OK when this server masters the key's bucket under `r`; sets *bucket.
  static Status Route(const Routing& r, const std::string& key, uint32_t* bucket);
  // The batch of a migrate_batch or migrate_packed request; null for other requests.
  static const proto::MigrateBatchRequest* MigrateBatchOf(const proto::Request& req);
  // The entries of a migration batch as views into `req` (either form), each checked
  // against the key, area and value limits: OK or InvalidArgument.
  Status DecodeMigrateBatch(const proto::Request& req,
                            std::vector<migration::MigratedEntryView>* out) const;
  // The destination's checks of a migration batch (see the class comment).
  static Status CheckMigrateBatch(const Routing& r, uint64_t request_version,
                                  const proto::MigrateBatchRequest& m,
                                  std::span<const migration::MigratedEntryView> entries);
  void Reply(ServerCall* call, const Status& status, uint64_t version,
             proto::Response* response);

  // Constant after construction.
  const RequestHandlerOptions options_;
  StorageManager* const storage_;
  const NewerTableHook on_newer_table_;

  std::mutex routing_mu_;  // serializes SetTable / SetSelfAddress
  std::string self_address_;  // guarded by routing_mu_
  std::atomic<std::shared_ptr<const Routing>> routing_;
  std::atomic<bool> accepting_{true};
  // Run migrate_batch requests: a bucket's on migrate_pools_[bucket % size].
  std::vector<std::unique_ptr<CallPool>> migrate_pools_;

  std::atomic<uint64_t> gets_{0}, puts_{0}, removes_{0}, errors_{0}, batches_{0};
  std::atomic<uint64_t> held_for_table_{0}, held_fenced_{0};
  std::function<void(const migration::ReclaimTicket&)> reclaim_hook_;  // set before start
  CleanupHook cleanup_hook_;                                          // set before start

  std::unique_ptr<CallPool> pool_;  // null with inline_writes
  // Its thread resumes held calls (Dispatch with kResumed). Declared last: destroyed
  // first, while everything a resumed call touches is still there.
  std::unique_ptr<HeldCalls> held_;
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_REQUEST_HANDLER_H_
