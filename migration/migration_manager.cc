#include "migration/migration_manager.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/thread_name.h"
#include "common/thread_policy.h"
#include "migration/bulk_thread.h"

namespace tessera::migration {

MigrationManager::MigrationManager(MigrationOptions options, BucketStore* store,
                                   MigrationCallbacks callbacks)
    : options_(std::move(options)), store_(store), callbacks_(std::move(callbacks)) {
  RpcChannelOptions co;
  co.max_frame_bytes = options_.max_frame_bytes;
  for (const HostPort& hp : options_.config_servers) {
    config_channels_.push_back(std::make_unique<RpcChannel>(report_io_.io(), hp, co));
  }
}

MigrationManager::~MigrationManager() {
  Stop();
  {
    std::lock_guard<std::mutex> l(channels_mu_);
    channels_.clear();
  }
  config_channels_.clear();
  io_.Stop();
  report_io_.Stop();
}

void MigrationManager::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (!workers_.empty() || stopping()) return;
  if (options_.io_idle) {
    boost::asio::post(*io_.io(), [] {
      if (!SetCurrentThreadIdle()) LOG(WARNING) << "migration: mig-io stays in its class";
    });
  }
  const int n = std::max(1, options_.parallel);
  const bool idle = options_.worker_idle;
  const int nice = options_.worker_nice;
  for (int i = 0; i < n; ++i) {
    scanners_.push_back(std::make_unique<BulkThread>(
        [idle, nice] { StartBulkWorkOnCurrentThread("mig-scan", idle, nice); }));
    workers_.emplace_back([this, scanner = scanners_.back().get()] { Worker(scanner); });
  }
}

void MigrationManager::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_.store(true, std::memory_order_release);
    pending_.clear();
  }
  cv_.notify_all();
  // Break calls in flight.
  {
    std::lock_guard<std::mutex> l(channels_mu_);
    for (auto& [addr, ch] : channels_) ch->Close();
  }
  for (auto& ch : config_channels_) ch->Close();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  scanners_.clear();  // after the workers: none is in a Run() any more
}

bool MigrationManager::PlanFor(const BucketTable* table, uint32_t bucket, Plan* plan) const {
  if (table == nullptr || !table->migrating() || bucket >= table->bucket_count()) return false;
  if (!table->BucketMoving(bucket)) return false;
  const int self = table->ServerIndex(options_.self_address);
  if (!table->IsMaster(bucket, self)) return false;
  const uint32_t dest = table->DestinationCopies(bucket)[0];
  if (dest == static_cast<uint32_t>(self)) return false;  // master stays; replicas only
  plan->destination = table->server(dest).address();
  return true;
}

bool MigrationManager::Flipped(const BucketTable* table, uint32_t bucket,
                               const std::string& dest) {
  return table != nullptr && bucket < table->bucket_count() && table->MasterAddress(bucket) == dest;
}

void MigrationManager::OnTable(const std::shared_ptr<const BucketTable>& table) {
  if (!table) return;
  std::vector<uint32_t> add;
  if (table->migrating() && !table->migration_paused()) {
    const int self = table->ServerIndex(options_.self_address);
    if (self >= 0) {
      Plan plan;
      for (uint32_t b = 0; b < table->bucket_count(); ++b) {
        if (table->IsMaster(b, self) && PlanFor(table.get(), b, &plan)) add.push_back(b);
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    migration_id_ = table->migration_id();
    if (stopping()) return;
    for (uint32_t b : add) {
      if (busy_.insert(b).second) pending_.push_back(b);
    }
  }
  if (!add.empty()) cv_.notify_all();
}

size_t MigrationManager::busy() const {
  std::lock_guard<std::mutex> l(mu_);
  return busy_.size();
}

void MigrationManager::Worker(BulkThread* scanner) {
  // Normal class: the fenced phase runs here (the scan on `scanner`).
  SetCurrentThreadName("mig-send");
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stopping() || !pending_.empty(); });
    if (stopping()) return;
    const uint32_t b = pending_.front();
    pending_.pop_front();
    l.unlock();
    RunBucket(b, scanner);
    l.lock();
    busy_.erase(b);
    in_flight_.erase(b);
  }
}

bool MigrationManager::Sleep(uint32_t ms) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return stopping(); });
  return !stopping();
}

void MigrationManager::SetPhase(uint32_t bucket, const char* phase) {
  std::lock_guard<std::mutex> l(mu_);
  in_flight_[bucket].set_phase(phase);
}

void MigrationManager::AddSent(uint32_t bucket, uint64_t keys, uint64_t bytes) {
  keys_sent_.fetch_add(keys, std::memory_order_relaxed);
  bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(mu_);
  proto::BucketMigration& m = in_flight_[bucket];
  m.set_keys_sent(m.keys_sent() + keys);
  m.set_bytes_sent(m.bytes_sent() + bytes);
}

void MigrationManager::RunBucket(uint32_t bucket, BulkThread* scanner) {
  uint32_t attempt = 0;
  while (!stopping()) {
    std::shared_ptr<const BucketTable> table = callbacks_.current_table();
    Plan plan;
    if (!PlanFor(table.get(), bucket, &plan)) return;  // flipped, or the plan changed
    if (table->migration_paused()) return;             // paused: start nothing new
    ++attempt;
    {
      std::lock_guard<std::mutex> l(mu_);
      proto::BucketMigration& m = in_flight_[bucket];
      m.Clear();
      m.set_bucket(bucket);
      m.set_destination(plan.destination);
      m.set_attempt(attempt);
      m.set_phase("scan");
    }
    AttemptTimes times;
    Status s = RunAttempt(bucket, plan, scanner, &times);
    if (s.ok()) {
      buckets_sent_.fetch_add(1);
      LOG(INFO) << "migration: bucket " << bucket << " moved to " << plan.destination << " in "
                << times.Ms(times.start, times.done) << " ms (scan "
                << times.Ms(times.start, times.catch_up) << ", catch-up "
                << times.Ms(times.catch_up, times.fenced) << ", fenced "
                << times.Ms(times.fenced, times.reported) << ", report "
                << times.Ms(times.reported, times.done) << "; attempt " << attempt << ")";
      return;
    }
    if (stopping()) return;
    LOG(WARNING) << "migration: bucket " << bucket << " to " << plan.destination << " attempt "
                 << attempt << " abandoned: " << s.ToString();
    if (!Sleep(options_.retry_backoff_ms)) return;
  }
}

Status MigrationManager::RunAttempt(uint32_t bucket, const Plan& plan, BulkThread* scanner,
                                    AttemptTimes* times) {
  using Clock = std::chrono::steady_clock;
  times->start = Clock::now();
  store_->StartRecording(bucket);
  bool fenced = false;
  // Any return lifts the fence and stops recording.
  struct Cleanup {
    BucketStore* store;
    uint32_t bucket;
    bool* fenced;
    ~Cleanup() {
      if (*fenced) store->Unfence(bucket);
      store->StopRecording(bucket);
    }
  } cleanup{store_, bucket, &fenced};

  // 1. Scan under a snapshot, on the scanner thread (the bulk of the CPU a bucket
  // takes, in a lower class). One batch buffer for the whole attempt, sized for a
  // full batch and one more entry (a bucket is often a batch or two: growing the
  // buffer by doubling cost about as much as the batch's own copy).
  EntryBatch batch;
  batch.Reserve(options_.batch_bytes + (64u << 10));
  auto full = [&] {
    return batch.count() >= options_.batch_entries || batch.bytes() >= options_.batch_bytes;
  };
  Status s;
  scanner->Run([&] {
    bool first = true;
    Status send_status;
    s = store_->ScanBucket(bucket, [&](const MigratedEntryView& e) {
      batch.Add(e);
      if (full()) {
        send_status = SendBatch(bucket, plan, first, /*fresh_keys=*/true, &batch);
        first = false;
        if (!send_status.ok()) return false;
      }
      return true;
    });
    if (!s.ok()) return;
    if (!send_status.ok()) {
      s = send_status;
      return;
    }
    // The first batch goes out even when the bucket is empty: the destination reclaims.
    if (first || !batch.empty()) s = SendBatch(bucket, plan, first, /*fresh_keys=*/true, &batch);
  });
  if (!s.ok()) return s;

  // 2. Catch up while the change set shrinks.
  auto send_changes = [&](const std::vector<ChangedKey>& keys) -> Status {
    for (const ChangedKey& k : keys) {
      Status rs = store_->ReadEntry(bucket, k.first, k.second, &batch);
      if (!rs.ok()) return rs;
      if (full()) {
        rs = SendBatch(bucket, plan, false, false, &batch);
        if (!rs.ok()) return rs;
      }
    }
    if (!batch.empty()) return SendBatch(bucket, plan, false, false, &batch);
    return Status::OK();
  };
  SetPhase(bucket, "catch-up");
  times->catch_up = Clock::now();
  size_t previous = SIZE_MAX;
  for (int round = 0; round < options_.max_catchup_rounds; ++round) {
    if (stopping()) return Status::Unavailable("stopping");
    std::vector<ChangedKey> changes = store_->TakeChanges(bucket);
    s = send_changes(changes);
    if (!s.ok()) return s;
    if (changes.size() <= options_.catchup_fence_keys || changes.size() >= previous) break;
    previous = changes.size();
  }

  // 3. Fence, drain, send the last changes.
  SetPhase(bucket, "fenced");
  times->fenced = Clock::now();
  store_->Fence(bucket);
  fenced = true;
  s = send_changes(store_->TakeChanges(bucket));
  if (!s.ok()) return s;

  // 4. Report.
  SetPhase(bucket, "reported");
  times->reported = Clock::now();
  s = Report(bucket, plan);
  times->done = Clock::now();
  return s;
}

RpcChannel* MigrationManager::ChannelTo(const std::string& address) {
  std::lock_guard<std::mutex> l(channels_mu_);
  auto it = channels_.find(address);
  if (it != channels_.end()) return it->second.get();
  HostPort hp;
  if (!ParseHostPort(address, &hp).ok()) return nullptr;
  RpcChannelOptions co;
  co.max_frame_bytes = options_.max_frame_bytes;
  auto ch = std::make_unique<RpcChannel>(io_.io(), hp, co);
  if (stopping()) ch->Close();
  RpcChannel* raw = ch.get();
  channels_.emplace(address, std::move(ch));
  return raw;
}

void MigrationManager::Throttle(size_t bytes) {
  if (options_.bytes_per_sec == 0) return;
  using Clock = std::chrono::steady_clock;
  Clock::time_point until;
  {
    std::lock_guard<std::mutex> l(throttle_mu_);
    const Clock::time_point now = Clock::now();
    if (next_send_ < now) next_send_ = now;
    until = next_send_;
    next_send_ += std::chrono::nanoseconds(
        static_cast<int64_t>(static_cast<double>(bytes) * 1e9 / options_.bytes_per_sec));
  }
  const auto wait = until - Clock::now();
  if (wait > Clock::duration::zero()) {
    Sleep(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() + 1));
  }
}

Status MigrationManager::SendBatch(uint32_t bucket, const Plan& plan, bool first,
                                   bool fresh_keys, EntryBatch* batch) {
  if (stopping()) return Status::Unavailable("stopping");
  std::shared_ptr<const BucketTable> table = callbacks_.current_table();
  Plan now;
  if (!PlanFor(table.get(), bucket, &now) || now.destination != plan.destination) {
    return Status::StaleTable("the plan for bucket " + std::to_string(bucket) + " changed");
  }
  const uint64_t keys = batch->count();
  const uint64_t bytes = batch->bytes();
  Throttle(bytes);
  RpcChannel* ch = ChannelTo(plan.destination);
  if (ch == nullptr) return Status::InvalidArgument("bad destination " + plan.destination);
  proto::Request req;
  req.set_table_version(table->version());
  proto::MigrateBatchRequest* mb = req.mutable_migrate_packed();
  mb->set_migration_id(table->migration_id());
  mb->set_bucket(bucket);
  mb->set_first(first);
  mb->set_fresh_keys(fresh_keys);
  mb->set_source(options_.self_address);
  batch->TakePacked(mb->mutable_packed_entries());
  proto::Response resp;
  Status s = ch->CallSync(&req, options_.rpc_timeout_ms, &resp);
  // The channel serialized the request before CallSync waited: the buffer is free.
  batch->Recycle(mb->mutable_packed_entries());
  if (!s.ok()) return s;
  if (resp.code() != proto::OK) {
    if (resp.code() == proto::STALE_TABLE && resp.table_version() > table->version() &&
        callbacks_.fetch_table) {
      callbacks_.fetch_table();
    }
    return Status(static_cast<Code>(resp.code()),
                  "destination " + plan.destination + ": " + resp.message());
  }
  AddSent(bucket, keys, bytes);
  return Status::OK();
}

Status MigrationManager::Report(uint32_t bucket, const Plan& plan) {
  int refusals = 0;
  while (!stopping()) {
    std::shared_ptr<const BucketTable> table = callbacks_.current_table();
    if (Flipped(table.get(), bucket, plan.destination)) return Status::OK();
    Plan now;
    if (!PlanFor(table.get(), bucket, &now) || now.destination != plan.destination) {
      return Status::StaleTable("the plan for bucket " + std::to_string(bucket) + " changed");
    }
    proto::Request req;
    req.set_table_version(table->version());
    proto::BucketDoneRequest* bd = req.mutable_bucket_done();
    bd->set_source(options_.self_address);
    bd->set_bucket(bucket);
    bd->set_migration_id(table->migration_id());
    bool answered = false;
    for (auto& ch : config_channels_) {
      proto::Request copy = req;
      proto::Response resp;
      Status s = ch->CallSync(&copy, options_.rpc_timeout_ms, &resp);
      if (!s.ok()) continue;  // try the next config server
      answered = true;
      if (resp.has_bucket_done() && resp.bucket_done().has_table()) {
        std::shared_ptr<const BucketTable> t;
        Status v = BucketTable::FromProto(std::move(*resp.mutable_bucket_done()->mutable_table()), &t);
        if (v.ok()) {
          callbacks_.adopt_table(t);
        } else {
          LOG(WARNING) << "migration: invalid table from " << ch->address() << ": " << v.ToString();
        }
      }
      if (resp.code() == proto::OK || resp.code() == proto::STALE_TABLE) {
        // Accepted (the flip is in a newer table) or our table is old: wait for a table
        // newer than the one we reported with, then look again.
        if (callbacks_.current_table()->version() <= table->version()) {
          if (callbacks_.fetch_table) callbacks_.fetch_table();
          for (int i = 0; i < 200 && callbacks_.current_table()->version() <= table->version();
               ++i) {
            if (!Sleep(10)) return Status::Unavailable("stopping");
          }
        }
      } else {
        LOG(WARNING) << "migration: bucket " << bucket << " report refused by "
                     << ch->address() << ": " << resp.message();
        if (++refusals >= 5) {
          return Status(static_cast<Code>(resp.code()), "report refused: " + resp.message());
        }
        if (callbacks_.fetch_table) callbacks_.fetch_table();
        if (!Sleep(options_.retry_backoff_ms)) return Status::Unavailable("stopping");
      }
      break;
    }
    if (!answered && !Sleep(options_.retry_backoff_ms)) break;
  }
  return Status::Unavailable("stopping");
}

void MigrationManager::FillStats(proto::MigrationStats* stats) const {
  {
    std::lock_guard<std::mutex> l(mu_);
    stats->set_migration_id(migration_id_);
    for (const auto& [b, m] : in_flight_) *stats->add_in_flight() = m;
  }
  stats->set_buckets_sent(buckets_sent_.load());
  stats->set_keys_sent(keys_sent_.load());
  stats->set_bytes_sent(bytes_sent_.load());
}

}  // namespace tessera::migration
