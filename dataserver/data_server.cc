#include "dataserver/data_server.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "common/rpc_server.h"
#include "dataserver/heartbeat_client.h"
#include "dataserver/orphan_sweeper.h"
#include "dataserver/request_handler.h"
#include "dataserver/table_file.h"
#include "ldb/env.h"
#include "migration/cleanup_scheduler.h"
#include "migration/migration_manager.h"

namespace tessera::ds {

namespace {
// Buckets a cleanup run may name before a table arrived (the key codec's limit).
constexpr uint32_t kMaxCleanupBucket = (1u << 24) - 1;

// A numeric ldb property; nullopt when ldb has no such property (or is closed).
std::optional<uint64_t> NumberProperty(StorageManager* storage, const std::string& name) {
  const std::string v = storage->Property(name);
  if (v.empty()) return std::nullopt;
  return std::strtoull(v.c_str(), nullptr, 10);
}
}  // namespace

DataServer::DataServer(DataServerOptions options) : options_(std::move(options)) {}

DataServer::~DataServer() { Stop(); }

uint16_t DataServer::port() const { return server_ ? server_->port() : 0; }

uint64_t DataServer::table_version() const {
  return handler_ ? handler_->table_version() : 0;
}

Status DataServer::Start() {
  if (running_) return Status::OK();
  HostPort listen;
  Status s = ParseHostPort(options_.listen, &listen);
  if (!s.ok() && options_.listen.size() > 2 &&
      options_.listen.compare(options_.listen.size() - 2, 2, ":0") == 0) {
    // Port 0 (pick a free one) is fine for listening, not for an identity.
    s = ParseHostPort(options_.listen.substr(0, options_.listen.size() - 1) + "1", &listen);
    listen.port = 0;
  }
  if (!s.ok()) return Status::InvalidArgument("listen: " + s.message());
  if (options_.config_servers.empty()) {
    return Status::InvalidArgument("no config servers given");
  }
  if (options_.data_dir.empty()) return Status::InvalidArgument("data_dir is empty");
  if (options_.heartbeat_interval_ms == 0) {
    return Status::InvalidArgument("heartbeat_interval_ms must be positive");
  }
  if (options_.env == nullptr) {
    std::error_code ec;
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) {
      return Status::Internal("cannot create data_dir " + options_.data_dir + ": " +
                              ec.message());
    }
  }
  migration::CleanupOptions co;
  co.pause_ms = options_.cleanup_pause_ms;
  // (Capped by CleanupOptions::max_hold_ms: a migration retrying forever does
  // not keep the disk from being reclaimed.)
  co.hold = [this] {
    migration::MigrationManager* m = migration_ptr_.load(std::memory_order_acquire);
    if (m != nullptr && m->busy() > 0) return true;  // buckets of ours queued or moving
    // And while other nodes still move buckets: a node done sending first started its
    // cleanups mid-migration, and the memtable flush the first one needs took ~70 ms
    // of CPU at normal priority on ldb's background thread, on each source in turn
    // (perf sched: the largest holder of the CPUs while client requests waited over
    // 1 ms in bench_migration). handler_ outlives the cleanup thread.
    std::shared_ptr<const BucketTable> table = handler_->table();
    return table != nullptr && table->migrating() && !table->migration_paused();
  };
  s = migration::ParseCleanupWindow(options_.cleanup_window, &co.window_start, &co.window_end);
  if (!s.ok()) return s;
  if (options_.migrate_batch_bytes == 0 || options_.migrate_batch_entries == 0) {
    return Status::InvalidArgument("migrate batch caps must be positive");
  }
  started_ = std::chrono::steady_clock::now();

  StorageOptions so;
  so.data_dir = options_.data_dir;
  so.env = options_.env;
  so.sync_writes = options_.sync_writes;
  so.write_buffer_bytes = options_.write_buffer_bytes;
  so.flush_cut_bytes = options_.flush_cut_bytes;
  so.block_cache_bytes = options_.block_cache_bytes;
  so.max_open_files = options_.max_open_tables;
  so.compaction_nice = options_.background_nice;
  so.migrate_ingest_min_bytes = options_.migrate_ingest_min_bytes;
  so.migrate_ingest_idle_builders =
      options_.migrate_ingest_idle ? std::max(1, options_.migrate_apply_threads) : 0;
  s = StorageManager::Open(so, &storage_);
  if (!s.ok()) return s;

  RequestHandlerOptions ho;
  ho.max_value_bytes = options_.max_value_bytes;
  ho.write_threads = options_.write_threads;
  ho.write_queue_limit = options_.write_queue_limit;
  ho.write_thread_slice_us = options_.request_slice_us;
  ho.hold_for_table_ms = options_.hold_for_table_ms;
  ho.hold_fenced_ms = options_.hold_fenced_ms;
  // With synced writes the pool lets many writers share one WAL sync.
  ho.inline_writes = options_.inline_writes && !options_.sync_writes;
  // Not background_nice: the apply threads write through ldb's write queue, which
  // client writes share (RequestHandlerOptions::migrate_apply_nice). Tried again
  // on 2026-11-21 with smaller writes (nice 10, 32 KiB per write instead of 128):
  // 3 interleaved bench_migration runs each gave 51-83 MB/s and a client p99 of
  // 19-41 ms during the migration, against 84-96 MB/s and 9-15 ms at nice 0.
  ho.migrate_apply_nice = options_.migrate_apply_nice;
  ho.migrate_apply_idle = options_.migrate_apply_idle;
  ho.migrate_apply_threads = options_.migrate_apply_threads;
  handler_ = std::make_unique<RequestHandler>(ho, storage_.get(), [this](uint64_t, bool urgent) {
    if (HeartbeatClient* hb = heartbeat_ptr_.load()) hb->FetchNow(urgent);
  });
  cleanup_ = std::make_unique<migration::CleanupScheduler>(co, storage_.get());
  handler_->SetReclaimHook(
      [this](const migration::ReclaimTicket& t) { cleanup_->Enqueue(t); });
  handler_->SetCleanupHook(
      [this](const proto::CleanupRequest& req, proto::CleanupResponse* resp) {
        return HandleCleanup(req, resp);
      });

  RpcServerOptions ro;
  ro.listen_address = options_.listen;
  ro.io_threads = options_.io_threads;
  ro.pin_connections = options_.pin_connections;
  ro.io_thread_slice_us = options_.request_slice_us;
  ro.max_frame_bytes = std::max<size_t>(kDefaultMaxFrameBytes, options_.max_value_bytes + 65536);
  ro.max_connections = options_.max_connections;
  ro.idle_timeout_ms = options_.idle_timeout_ms;
  server_ = std::make_unique<RpcServer>(ro, handler_.get());
  s = server_->Start();
  if (!s.ok()) {
    server_.reset();
    handler_.reset();
    cleanup_.reset();
    storage_->Close().IgnoreError();
    storage_.reset();
    return s;
  }
  address_ = options_.advertise_address.empty()
                 ? HostPort{listen.host, server_->port()}.ToString()
                 : options_.advertise_address;
  handler_->SetSelfAddress(address_);
  cleanup_->Start();
  StartOrphanSweeper();

  migration::MigrationOptions mo;
  mo.self_address = address_;
  mo.config_servers = options_.config_servers;
  mo.parallel = options_.migrate_parallel;
  mo.worker_nice = options_.background_nice;
  mo.worker_idle = options_.migrate_sched_idle;
  mo.io_idle = options_.migrate_io_idle;
  mo.bytes_per_sec = options_.migrate_bytes_per_sec;
  mo.batch_bytes = options_.migrate_batch_bytes;
  mo.batch_entries = options_.migrate_batch_entries;
  mo.rpc_timeout_ms = options_.migrate_rpc_timeout_ms;
  mo.retry_backoff_ms = options_.migrate_retry_backoff_ms;
  mo.max_frame_bytes = ro.max_frame_bytes;
  migration::MigrationCallbacks mcb;
  mcb.current_table = [this] { return handler_->table(); };
  mcb.adopt_table = [this](std::shared_ptr<const BucketTable> t) { InstallTable(std::move(t)); };
  mcb.fetch_table = [this] {
    if (HeartbeatClient* hb = heartbeat_ptr_.load()) hb->FetchNow();
  };
  migration_ = std::make_unique<migration::MigrationManager>(mo, storage_.get(), std::move(mcb));
  migration_->Start();
  migration_ptr_.store(migration_.get(), std::memory_order_release);

  HeartbeatClientOptions hbo;
  hbo.self_address = address_;
  hbo.config_servers = options_.config_servers;
  hbo.interval_ms = options_.heartbeat_interval_ms;
  hbo.rpc_timeout_ms = std::clamp<uint32_t>(options_.heartbeat_interval_ms, 200, 2000);
  HeartbeatClient::Callbacks cb;
  cb.stats = [this] {
    WriteTableFile(/*force=*/false);  // a table skipped during a migration, at the latest now
    return Stats();
  };
  cb.ready = [] { return true; };
  cb.table_version = [this] { return handler_->table_version(); };
  cb.on_table = [this](std::shared_ptr<const BucketTable> table) {
    InstallTable(std::move(table));
  };
  heartbeat_ = std::make_unique<HeartbeatClient>(hbo, std::move(cb));
  heartbeat_->Start();
  heartbeat_ptr_.store(heartbeat_.get());
  running_ = true;
  LOG(INFO) << "dataserver " << address_ << " serving";
  return Status::OK();
}

void DataServer::Stop() {
  if (!running_) return;
  running_ = false;
  LOG(INFO) << "dataserver " << address_ << " stopping";
  handler_->StopAccepting();
  // Queued (and held) writes run and are answered before the fences lift: a write run
  // after an abandoned bucket's Unfence could be applied here although the config
  // server had already flipped the bucket (a report cut short by the stop).
  handler_->Drain();
  migration_->Stop();  // buckets in flight are abandoned (fences lifted)
  sweeper_->Stop();
  server_->Stop();
  heartbeat_ptr_.store(nullptr);
  heartbeat_->Stop();
  WriteTableFile(/*force=*/true);
  cleanup_->Stop();  // waits for a cleanup compaction in progress
  Status s = storage_->Close();
  if (!s.ok()) LOG(ERROR) << "dataserver " << address_ << " close: " << s.ToString();
  heartbeat_.reset();
  migration_.reset();
  sweeper_.reset();
  server_.reset();
  handler_.reset();
  cleanup_.reset();
  storage_.reset();
  LOG(INFO) << "dataserver " << address_ << " stopped";
}

void DataServer::InstallTable(std::shared_ptr<const BucketTable> table) {
  if (!table) return;
  std::lock_guard<std::mutex> l(install_mu_);
  std::shared_ptr<const BucketTable> old = handler_->table();
  std::vector<std::pair<uint32_t, uint64_t>> quotas;
  for (const proto::AreaQuota& q : table->proto().area_quotas()) {
    quotas.emplace_back(q.area(), q.quota_bytes());
  }
  if (!handler_->SetTable(table)) return;
  storage_->SetAreaQuotas(quotas);
  if (old && old->bucket_count() == table->bucket_count()) {
    const int old_self = old->ServerIndex(address_);
    const int new_self = table->ServerIndex(address_);
    auto holds = [](const BucketTable& t, int self, uint32_t b) {
      if (self < 0) return false;
      for (uint32_t i : t.Copies(b)) {
        if (i == static_cast<uint32_t>(self)) return true;
      }
      return false;
    };
    for (uint32_t b = 0; b < table->bucket_count(); ++b) {
      const bool had = holds(*old, old_self, b);
      const bool has = holds(*table, new_self, b);
      if (had && !has) {
        // Hidden from reads at once; the data goes in the background.
        migration::ReclaimTicket ticket;
        Status s = storage_->ReclaimBucket(b, &ticket);
        if (s.ok()) {
          if (!ticket.nothing_to_reclaim) cleanup_->Enqueue(ticket);
        } else {
          LOG(ERROR) << "dataserver " << address_ << ": reclaim of bucket " << b
                     << " failed: " << s.ToString();
        }
      } else if (!had && has) {
        buckets_received_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  migration_->OnTable(table);
  {
    std::lock_guard<std::mutex> tl(table_file_mu_);
    table_file_pending_ = table;
  }
  // A migration flips a bucket per table: writing each one (a file created, written,
  // synced and renamed) cost every node an fsync per flip. During a migration the
  // heartbeat writes the newest at most once an interval; a quiet table at once.
  WriteTableFile(/*force=*/!table->migrating());
  sweeper_->OnTable(std::move(table));
}

void DataServer::WriteTableFile(bool force) {
  std::lock_guard<std::mutex> l(table_file_mu_);
  if (!table_file_pending_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto spacing = std::chrono::milliseconds(options_.heartbeat_interval_ms * 9 / 10);
  if (!force && now - table_file_written_ < spacing) return;
  Status ws = TableFile::Write(options_.env != nullptr ? options_.env : ldb::Env::Default(),
                               options_.data_dir, address_, *table_file_pending_);
  if (!ws.ok()) {
    LOG(WARNING) << "dataserver " << address_ << ": " << ws.ToString();
    return;  // retried at the next table or heartbeat
  }
  table_file_pending_.reset();
  table_file_written_ = now;
}

void DataServer::StartOrphanSweeper() {
  OrphanSweeperOptions oo;
  oo.self_address = address_;
  oo.enabled = options_.orphan_sweep;
  oo.nice = options_.background_nice;
  TableFile::Contents remembered;
  Status s = TableFile::Read(options_.env != nullptr ? options_.env : ldb::Env::Default(),
                             options_.data_dir, &remembered);
  if (s.ok()) {
    oo.remembered_address = remembered.self_address;
    oo.remembered_cluster = remembered.table->proto().cluster_name();
    oo.remembered_bucket_count = remembered.table->bucket_count();
    LOG(INFO) << "dataserver " << address_ << ": last applied table version "
              << remembered.table->version() << " as " << remembered.self_address;
  } else if (!s.Is(Code::kNotFound)) {
    LOG(WARNING) << "dataserver " << address_ << ": " << s.ToString() << " (ignored)";
  }
  OrphanSweeperCallbacks cb;
  cb.has_live_key = [this](uint32_t bucket, bool* live) {
    *live = false;
    return storage_->ScanBucket(bucket, [live](const migration::MigratedEntryView&) {
      *live = true;
      return false;  // the first live key is enough
    });
  };
  // Buckets awaiting cleanup hold hidden keys that each check would walk (the
  // sweeper's file comment); sweep once their cleanup purged them.
  cb.defer = [this] { return cleanup_->stats().pending > 0; };
  cb.reclaim_if_current = [this](uint32_t bucket, uint64_t version, bool* current) {
    return ReclaimOrphan(bucket, version, current);
  };
  sweeper_ = std::make_unique<OrphanSweeper>(std::move(oo), std::move(cb));
  sweeper_->Start();
}

Status DataServer::ReclaimOrphan(uint32_t bucket, uint64_t table_version, bool* current) {
  // Holding install_mu_, no table can be installed: none can plan the bucket to us
  // (and no batch of it is accepted) until the entry is in.
  std::lock_guard<std::mutex> l(install_mu_);
  *current = handler_->table_version() == table_version;
  if (!*current) return Status::OK();
  migration::ReclaimTicket ticket;
  Status s = storage_->ReclaimBucket(bucket, &ticket);
  if (s.ok() && !ticket.nothing_to_reclaim) cleanup_->Enqueue(ticket);
  return s;
}

Status DataServer::HandleCleanup(const proto::CleanupRequest& request,
                                 proto::CleanupResponse* response) {
  switch (request.op_case()) {
    case proto::CleanupRequest::kStatus:
      break;
    case proto::CleanupRequest::kPause: {
      Status s = cleanup_->Pause();
      if (!s.ok()) return s;
      break;
    }
    case proto::CleanupRequest::kResume: {
      Status s = cleanup_->Resume();
      if (!s.ok()) return s;
      break;
    }
    case proto::CleanupRequest::kRun: {
      std::vector<migration::ReclaimTicket> tickets;
      if (request.run().buckets_size() == 0) {
        tickets = storage_->PendingReclaims();
      } else {
        std::shared_ptr<const BucketTable> table = handler_->table();
        const uint32_t count = table ? table->bucket_count() : 0;
        for (uint32_t b : request.run().buckets()) {
          if (table ? b >= count : b > kMaxCleanupBucket) {
            return Status::InvalidArgument("bucket " + std::to_string(b) + " out of range");
          }
        }
        for (uint32_t b : request.run().buckets()) {
          tickets.push_back(storage_->CleanupTicket(b));
        }
      }
      LOG(INFO) << "dataserver " << address_ << ": cleanup run of " << tickets.size()
                << " buckets asked for";
      cleanup_->RunNow(tickets);
      break;
    }
    case proto::CleanupRequest::OP_NOT_SET:
      return Status::InvalidArgument("cleanup request without an op");
  }
  const migration::CleanupScheduler::Stats cs = cleanup_->stats();
  response->set_paused(cleanup_->paused());
  response->set_pending(cs.pending);
  response->set_bytes_freed(cs.bytes_freed);
  response->set_bytes_rewritten(cs.bytes_written);
  for (const migration::CleanupScheduler::BucketInfo& b : cleanup_->buckets()) {
    proto::CleanupBucket* out = response->add_buckets();
    out->set_bucket(b.bucket);
    out->set_state(migration::CleanupScheduler::PhaseName(b.phase));
    out->set_bytes_freed(b.bytes_freed);
  }
  response->set_db_bytes(storage_->ApproximateDiskBytes());
  return Status::OK();
}

proto::ServerStats DataServer::Stats() {
  proto::ServerStats st;
  st.set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started_)
                       .count());
  const RequestHandler::Counters c = handler_->counters();
  st.set_gets(c.gets);
  st.set_puts(c.puts);
  st.set_removes(c.removes);
  st.set_errors(c.errors);
  st.set_db_bytes(storage_->ApproximateDiskBytes());
  st.set_write_stall_ms(NumberProperty(storage_.get(), "ldb.write-stall-micros").value_or(0) /
                        1000);
  uint64_t tables = 0;
  for (int level = 0;; ++level) {  // until ldb knows no such level
    const auto files =
        NumberProperty(storage_.get(), "ldb.num-files-at-level" + std::to_string(level));
    if (!files) break;
    tables += *files;
  }
  st.set_table_files(tables);
  st.set_table_opens(NumberProperty(storage_.get(), "ldb.table-opens").value_or(0));
  for (const AreaStat& a : storage_->AreaStats()) {
    proto::AreaStats* out = st.add_areas();
    out->set_area(a.area);
    out->set_ops(a.ops);
    out->set_keys(a.keys);
    out->set_bytes(a.bytes);
  }
  proto::MigrationStats* m = st.mutable_migration();
  migration_->FillStats(m);
  m->set_buckets_received(buckets_received_.load(std::memory_order_relaxed));
  const migration::CleanupScheduler::Stats cs = cleanup_->stats();
  m->set_cleanup_pending(cs.pending);
  m->set_cleanup_bytes_freed(cs.bytes_freed);
  return st;
}

}  // namespace tessera::ds
