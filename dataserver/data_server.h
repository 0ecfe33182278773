// DataServer: one Tessera data server process's worth of parts: the StorageManager
// (ldb in data_dir), the RequestHandler behind an RpcServer, and the HeartbeatClient
// that keeps the bucket table current and the config servers informed.
//
// Start: opens storage, starts listening, then heartbeats (the table, and with it
// the area quotas, arrives with the first answer; until then requests are answered
// UNAVAILABLE "no table yet"). Stop is graceful: new requests are refused, queued
// writes finish and are answered, connections close, heartbeats stop, the WAL is
// synced and the DB closed.
//
// Thread-compatible: Start / Stop from one thread. The accessors are thread-safe.
#ifndef TESSERA_DATASERVER_DATA_SERVER_H_
#define TESSERA_DATASERVER_DATA_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/bucket_table.h"
#include "common/limits.h"
#include "common/proto/rpc.pb.h"
#include "common/status.h"
#include "dataserver/storage_manager.h"

namespace tessera {
class RpcServer;
}

namespace tessera::migration {
class CleanupScheduler;
class MigrationManager;
}  // namespace tessera::migration

namespace tessera::ds {

class HeartbeatClient;
class OrphanSweeper;
class RequestHandler;

struct DataServerOptions {
  std::string listen = "127.0.0.1:0";  // "host:port"; port 0 picks a free port
  // How this server appears in tables (its identity); empty = listen with the bound
  // port ("0.0.0.0" is not an identity: set it when listening on a wildcard).
  std::string advertise_address;
  std::vector<HostPort> config_servers;
  std::string data_dir;

  int io_threads = 2;
  bool pin_connections = true;  // RpcServerOptions::pin_connections (see main.cc)
  // Time slice of the threads that serve requests (io and write threads), in
  // microseconds; 0 keeps the kernel's. See main.cc --request_slice_us.
  uint32_t request_slice_us = 0;
  // Threading (measured on 2 cores, 50 requests in flight, 100-byte values): without
  // fsync, writes inline on the io threads beat the pool (~57-92k vs ~49-68k puts/s:
  // the hand-off costs more than the write); with sync_writes the pool is used and
  // more writers make bigger group commits (64: ~20-23k puts/s, 16: ~13-20k).
  int write_threads = 64;
  size_t write_queue_limit = 16384;
  bool inline_writes = true;  // non-sync writes on the io threads
  bool sync_writes = false;
  // Requests held around a bucket's flip instead of refused (RequestHandlerOptions;
  // 0 refuses at once).
  uint32_t hold_for_table_ms = 100;
  uint32_t hold_fenced_ms = 200;
  size_t max_value_bytes = kDefaultMaxValueBytes;
  uint32_t heartbeat_interval_ms = 1000;

  size_t write_buffer_bytes = 16u << 20;
  size_t flush_cut_bytes = 256u << 10;  // StorageOptions::flush_cut_bytes
  size_t block_cache_bytes = 64u << 20;
  int max_open_tables = 20000;  // StorageOptions::max_open_files
  // CPU niceness (0..19) of background work: ldb compactions, migration scans and
  // sends, the orphan sweep. Above 0 client requests win the CPU. (Not the threads
  // applying incoming migration batches: see RequestHandlerOptions.)
  int background_nice = 10;
  uint32_t max_connections = 1024;
  uint32_t idle_timeout_ms = 600000;
  // Migration (migration/README.md): buckets sent at once, bandwidth cap (0 =
  // unlimited), batch caps, per-RPC timeout, pause before redoing a failed bucket.
  int migrate_parallel = 2;
  // Threads applying incoming migration batches (RequestHandlerOptions): 1 keeps
  // a migration to at most one CPU's worth of nice-0 work on this node (see main.cc).
  int migrate_apply_threads = 1;
  int migrate_apply_nice = 0;  // RequestHandlerOptions::migrate_apply_nice
  // Run the threads that scan and send migrating buckets in the SCHED_IDLE class
  // (tessera::SetCurrentThreadIdle): a request thread that wakes takes the CPU from
  // them at once. Replaces background_nice for them. See main.cc for the figures.
  bool migrate_sched_idle = true;
  bool migrate_io_idle = true;  // MigrationOptions::io_idle
  bool migrate_apply_idle = false;  // RequestHandlerOptions::migrate_apply_idle
  // Encode ingested batches and build their tables on SCHED_IDLE threads, one per
  // apply thread (StorageOptions::migrate_ingest_idle_builders). See main.cc.
  bool migrate_ingest_idle = true;
  // Incoming scan batches of at least this many bytes go straight into ldb tables
  // (StorageOptions::migrate_ingest_min_bytes; SIZE_MAX: never).
  size_t migrate_ingest_min_bytes = 64u << 10;
  uint64_t migrate_bytes_per_sec = 0;
  size_t migrate_batch_bytes = 1u << 20;
  size_t migrate_batch_entries = 1024;
  uint32_t migrate_rpc_timeout_ms = 5000;
  uint32_t migrate_retry_backoff_ms = 200;
  // Cleanup of buckets this server gave away: pause between buckets, and the local
  // hours "HH-HH" in which cleanups may start ("" = any time).
  uint32_t cleanup_pause_ms = 1000;
  std::string cleanup_window;
  // Reclaim buckets held elsewhere whose keys are still here (OrphanSweeper).
  bool orphan_sweep = true;

  // For tests: env for storage (files and clock); nullptr = default.
  ldb::Env* env = nullptr;
};

class DataServer {
 public:
  explicit DataServer(DataServerOptions options);
  ~DataServer();  // Stops
  DataServer(const DataServer&) = delete;
  DataServer& operator=(const DataServer&) = delete;

  // Errors: InvalidArgument (bad options), Internal (storage), Unavailable (cannot
  // bind). On error everything started is stopped again.
  Status Start();
  // Graceful stop; idempotent.
  void Stop();

  // "host:port" identity (after Start).
  const std::string& address() const { return address_; }
  uint16_t port() const;
  uint64_t table_version() const;

  StorageManager* storage() { return storage_.get(); }
  RequestHandler* handler() { return handler_.get(); }
  HeartbeatClient* heartbeat() { return heartbeat_.get(); }
  migration::MigrationManager* migration() { return migration_.get(); }
  migration::CleanupScheduler* cleanup() { return cleanup_.get(); }
  OrphanSweeper* orphan_sweeper() { return sweeper_.get(); }

  // Installs a table (from a heartbeat or a BucketDone answer) if newer: routing,
  // quotas, reclaims + cleanup of buckets this server no longer holds, the
  // migration of buckets moving away; the table is remembered in data_dir
  // (TableFile: at once when it plans no migration, else by the next heartbeat at
  // the latest) and handed to the orphan sweeper. Thread-safe.
  void InstallTable(std::shared_ptr<const BucketTable> table);
  // Writes the newest installed table not written yet to the table file; unless
  // `force`, only when the last write is a heartbeat interval old. Thread-safe.
  void WriteTableFile(bool force);

  // Answers the cleanup RPC (proto::CleanupRequest): status, run (the given buckets,
  // or every bucket with a pending reclaim, now), pause, resume. Thread-safe.
  Status HandleCleanup(const proto::CleanupRequest& request, proto::CleanupResponse* response);

  // What heartbeats carry.
  proto::ServerStats Stats();

 private:
  // Reads the remembered table (TableFile) and starts the orphan sweeper.
  void StartOrphanSweeper();
  // OrphanSweeperCallbacks::reclaim_if_current, under install_mu_.
  Status ReclaimOrphan(uint32_t bucket, uint64_t table_version, bool* current);

  DataServerOptions options_;
  std::string address_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<StorageManager> storage_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<HeartbeatClient> heartbeat_;
  std::unique_ptr<migration::CleanupScheduler> cleanup_;
  std::unique_ptr<migration::MigrationManager> migration_;
  std::unique_ptr<OrphanSweeper> sweeper_;
  std::mutex install_mu_;  // serializes InstallTable
  std::atomic<uint64_t> buckets_received_{0};
  // heartbeat_ as seen by io threads (FetchNow), set once it exists.
  std::atomic<HeartbeatClient*> heartbeat_ptr_{nullptr};
  // The table file (BUCKET_TABLE) lags the installed table by at most a heartbeat
  // interval during a migration (see InstallTable). Leaf lock.
  std::mutex table_file_mu_;
  std::shared_ptr<const BucketTable> table_file_pending_;  // not written yet
  std::chrono::steady_clock::time_point table_file_written_{};
  // migration_ once started, for the cleanup's hold (cleanup_ stops before
  // migration_ is destroyed).
  std::atomic<migration::MigrationManager*> migration_ptr_{nullptr};
  bool running_ = false;
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_DATA_SERVER_H_
