#include "dataserver/request_handler.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "common/bucket_hash.h"
#include "common/thread_name.h"
#include "common/thread_policy.h"
#include "dataserver/storage_manager.h"
#include "migration/bulk_thread.h"

namespace tessera::ds {

namespace {

Expiry ToExpiry(const proto::Expiry& e) { return Expiry{e.ttl_seconds(), e.expire_at()}; }

constexpr int kMaxCleanupBuckets = 65536;

bool IsWrite(proto::Request::BodyCase body) {
  switch (body) {
    case proto::Request::kPut:
    case proto::Request::kRemove:
    case proto::Request::kIncr:
    case proto::Request::kExpire:
    case proto::Request::kMput:
      return true;
    default:
      return false;
  }
}

void SetResult(const Status& s, proto::KeyResult* r) {
  r->set_code(static_cast<proto::Code>(s.code()));
  if (!s.message().empty()) r->set_message(s.message());
}

}  // namespace

RequestHandler::RequestHandler(const RequestHandlerOptions& options, StorageManager* storage,
                               NewerTableHook on_newer_table)
    : options_(options), storage_(storage), on_newer_table_(std::move(on_newer_table)) {
  routing_.store(std::make_shared<const Routing>());
  if (!options_.inline_writes) {
    pool_ = std::make_unique<CallPool>(
        options_.write_threads > 0 ? options_.write_threads : 1,
        options_.write_queue_limit > 0 ? options_.write_queue_limit : 1,
        [this](std::unique_ptr<ServerCall> call, uint32_t tag) { Execute(std::move(call), tag); },
        [slice_us = options_.write_thread_slice_us] {
          SetCurrentThreadName("ds-write");
          // A kernel without per-thread slices is logged by the RpcServer.
          if (slice_us > 0) SetCurrentThreadSlice(slice_us);
        });
  }
  const int nice = options_.migrate_apply_nice;
  const bool idle = options_.migrate_apply_idle;
  const int apply_threads = std::max(1, options_.migrate_apply_threads);
  for (int i = 0; i < apply_threads; ++i) {
    migrate_pools_.push_back(std::make_unique<CallPool>(
        1, options_.migrate_queue_limit > 0 ? options_.migrate_queue_limit : 1,
        [this](std::unique_ptr<ServerCall> call, uint32_t tag) { Execute(std::move(call), tag); },
        [nice, idle] { migration::StartBulkWorkOnCurrentThread("mig-apply", idle, nice); }));
  }
  held_ = std::make_unique<HeldCalls>(options_.max_held_calls,
                                      [this](std::unique_ptr<ServerCall> call) {
                                        Dispatch(std::move(call), kResumed);
                                      });
  storage_->SetUnfenceListener([this](uint32_t bucket) { held_->BucketUnfenced(bucket); });
}

RequestHandler::~RequestHandler() {
  Drain();
  storage_->SetUnfenceListener({});
}

void RequestHandler::SetSelfAddress(const std::string& address) {
  std::lock_guard<std::mutex> l(routing_mu_);
  self_address_ = address;
  auto next = std::make_shared<Routing>(*routing_.load());
  next->self_index = next->table ? next->table->ServerIndex(self_address_) : -1;
  routing_.store(std::move(next));
}

bool RequestHandler::SetTable(std::shared_ptr<const BucketTable> table) {
  if (!table) return false;
  uint64_t version = 0;
  {
    std::lock_guard<std::mutex> l(routing_mu_);
    std::shared_ptr<const Routing> cur = routing_.load();
    if (cur->table && table->version() <= cur->table->version()) return false;
    auto next = std::make_shared<Routing>();
    next->self_index = table->ServerIndex(self_address_);
    next->table = std::move(table);
    const int self = next->self_index;
    version = next->table->version();
    const uint32_t masters = next->table->MasterCount(self);
    routing_.store(std::move(next));
    LOG(INFO) << "dataserver " << self_address_ << " table version " << version
              << ": master of " << masters << " buckets"
              << (self < 0 ? " (not in the table)" : "");
  }
  held_->TableInstalled(version);  // they run on the HeldCalls' thread
  return true;
}

uint64_t RequestHandler::table_version() const { return routing()->version(); }

std::shared_ptr<const BucketTable> RequestHandler::table() const { return routing()->table; }

void RequestHandler::StopAccepting() {
  accepting_.store(false);
  held_->ReleaseAll();
}

void RequestHandler::Drain() {
  held_->ReleaseAll();  // before the pools stop: the writes it resumes queue there
  if (pool_) pool_->Stop();
  for (auto& p : migrate_pools_) p->Stop();
}

RequestHandler::Counters RequestHandler::counters() const {
  Counters c;
  c.gets = gets_.load(std::memory_order_relaxed);
  c.puts = puts_.load(std::memory_order_relaxed);
  c.removes = removes_.load(std::memory_order_relaxed);
  c.errors = errors_.load(std::memory_order_relaxed);
  c.migrate_batches = batches_.load(std::memory_order_relaxed);
  c.held_for_table = held_for_table_.load(std::memory_order_relaxed);
  c.held_fenced = held_fenced_.load(std::memory_order_relaxed);
  c.held_expired = held_->expired();
  return c;
}

void RequestHandler::Reply(ServerCall* call, const Status& status, uint64_t version,
                           proto::Response* response) {
  if (!status.ok() && !status.Is(Code::kNotFound)) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  response->set_code(static_cast<proto::Code>(status.code()));
  if (!status.message().empty()) response->set_message(status.message());
  response->set_table_version(version);
  call->Reply(response);
}

Status RequestHandler::Validate(const proto::Request& req) const {
  switch (req.body_case()) {
    case proto::Request::kPut: {
      const proto::PutRequest& p = req.put();
      Status s = CheckArea(p.area());
      if (s.ok()) s = CheckKey(p.key());
      if (s.ok()) s = CheckValue(p.value(), options_.max_value_bytes);
      return s;
    }
    case proto::Request::kGet: {
      Status s = CheckArea(req.get().area());
      return s.ok() ? CheckKey(req.get().key()) : s;
    }
    case proto::Request::kRemove: {
      Status s = CheckArea(req.remove().area());
      return s.ok() ? CheckKey(req.remove().key()) : s;
    }
    case proto::Request::kIncr: {
      Status s = CheckArea(req.incr().area());
      return s.ok() ? CheckKey(req.incr().key()) : s;
    }
    case proto::Request::kExpire: {
      Status s = CheckArea(req.expire().area());
      return s.ok() ? CheckKey(req.expire().key()) : s;
    }
    case proto::Request::kMget: {
      const proto::MGetRequest& m = req.mget();
      Status s = CheckArea(m.area());
      if (!s.ok()) return s;
      s = CheckBatchSize(static_cast<size_t>(m.keys_size()));
      if (!s.ok()) return s;
      for (int i = 0; i < m.keys_size(); ++i) {
        s = CheckKey(m.keys(i));
        if (!s.ok()) return Status::InvalidArgument("key " + std::to_string(i) + ": " + s.message());
      }
      return Status::OK();
    }
    case proto::Request::kMput: {
      const proto::MPutRequest& m = req.mput();
      Status s = CheckArea(m.area());
      if (!s.ok()) return s;
      s = CheckBatchSize(static_cast<size_t>(m.entries_size()));
      if (!s.ok()) return s;
      for (int i = 0; i < m.entries_size(); ++i) {
        const proto::PutRequest& p = m.entries(i);
        s = CheckKey(p.key());
        if (s.ok()) s = CheckValue(p.value(), options_.max_value_bytes);
        if (!s.ok()) {
          return Status::InvalidArgument("entry " + std::to_string(i) + ": " + s.message());
        }
      }
      return Status::OK();
    }
    case proto::Request::kMigrateBatch:
    case proto::Request::kMigratePacked: {
      // Decoded here to be checked, and again on the apply thread to be applied
      // (packed entries decode in microseconds; no state rides along with the call).
      thread_local std::vector<migration::MigratedEntryView> entries;
      return DecodeMigrateBatch(req, &entries);
    }
    case proto::Request::kCleanup: {
      const proto::CleanupRequest& c = req.cleanup();
      if (c.op_case() == proto::CleanupRequest::OP_NOT_SET) {
        return Status::InvalidArgument("cleanup request without an op");
      }
      if (c.has_run() && c.run().buckets_size() > kMaxCleanupBuckets) {
        return Status::InvalidArgument("more than " + std::to_string(kMaxCleanupBuckets) +
                                       " buckets in a cleanup run");
      }
      return Status::OK();
    }
    case proto::Request::BODY_NOT_SET:
      return Status::InvalidArgument("request without a body");
    default:
      return Status::InvalidArgument("not a data server request");
  }
}

Status RequestHandler::Route(const Routing& r, const std::string& key, uint32_t* bucket) {
  if (!r.table) return Status::Unavailable("no table yet");
  *bucket = BucketOf(key, r.table->bucket_count());
  if (!r.table->IsMaster(*bucket, r.self_index)) {
    return Status::WrongOwner("wrong owner, table version " + std::to_string(r.version()));
  }
  return Status::OK();
}

const proto::MigrateBatchRequest* RequestHandler::MigrateBatchOf(const proto::Request& req) {
  switch (req.body_case()) {
    case proto::Request::kMigrateBatch:
      return &req.migrate_batch();
    case proto::Request::kMigratePacked:
      return &req.migrate_packed();
    default:
      return nullptr;
  }
}

Status RequestHandler::DecodeMigrateBatch(const proto::Request& req,
                                          std::vector<migration::MigratedEntryView>* out) const {
  if (req.body_case() == proto::Request::kMigratePacked) {
    if (req.migrate_packed().entries_size() != 0) {
      return Status::InvalidArgument("entries in a migrate_packed (pack them)");
    }
    Status s = migration::DecodeEntryBatch(req.migrate_packed().packed_entries(), out);
    if (!s.ok()) return s;
  } else {
    if (!req.migrate_batch().packed_entries().empty()) {
      return Status::InvalidArgument("packed_entries in a migrate_batch (send migrate_packed)");
    }
    migration::ViewEntries(req.migrate_batch().entries(), out);
  }
  for (size_t i = 0; i < out->size(); ++i) {
    const migration::MigratedEntryView& e = (*out)[i];
    Status s = CheckArea(e.area);
    if (s.ok()) s = CheckKey(e.key);
    if (s.ok()) s = CheckValue(e.value, options_.max_value_bytes);
    if (!s.ok()) return Status::InvalidArgument("entry " + std::to_string(i) + ": " + s.message());
  }
  return Status::OK();
}

Status RequestHandler::CheckMigrateBatch(const Routing& r, uint64_t request_version,
                                         const proto::MigrateBatchRequest& m,
                                         std::span<const migration::MigratedEntryView> entries) {
  if (!r.table) return Status::Unavailable("no table yet");
  // A batch stamped with a newer table than ours is still applied when our table plans
  // this bucket from this source to us under the same migration_id: a newer version of
  // the same plan differs only in buckets already flipped (each flip bumps the version,
  // and a source sends a bucket's last batch before reporting it), so refusing would
  // only make the source abandon and redo the bucket (measured: about half of all
  // attempts during a 1 GiB join). Handle() has already asked for the newer table.
  const BucketTable& t = *r.table;
  const uint32_t b = m.bucket();
  if (b >= t.bucket_count()) return Status::InvalidArgument("bucket out of range");
  const bool planned = t.migrating() && t.migration_id() == m.migration_id() &&
                       t.BucketMoving(b) && r.self_index >= 0 &&
                       t.DestinationCopies(b)[0] == static_cast<uint32_t>(r.self_index) &&
                       t.MasterAddress(b) == m.source();
  if (!planned && request_version > r.version()) {
    return Status::StaleTable("table version " + std::to_string(r.version()) +
                              " is older than the request's " +
                              std::to_string(request_version) + " (fetching)");
  }
  if (!planned) {
    const std::string why = "table version " + std::to_string(r.version()) +
                            " does not plan bucket " + std::to_string(b) + " from " +
                            m.source() + " to this server under migration " +
                            std::to_string(m.migration_id());
    return request_version < r.version() ? Status::StaleTable(why) : Status::WrongOwner(why);
  }
  for (const migration::MigratedEntryView& e : entries) {
    if (BucketOf(e.key, t.bucket_count()) != b) {
      return Status::InvalidArgument("a key of another bucket in the batch of bucket " +
                                     std::to_string(b));
    }
  }
  return Status::OK();
}

void RequestHandler::Handle(std::unique_ptr<ServerCall> call) {
  const proto::Request& req = call->request();
  std::shared_ptr<const Routing> r = routing();
  proto::Response resp;
  if (!accepting_.load(std::memory_order_acquire)) {
    Reply(call.get(), Status::Unavailable("shutting down"), r->version(), &resp);
    return;
  }
  const bool newer = req.table_version() > r->version();
  Status s = Validate(req);
  if (!s.ok()) {
    Reply(call.get(), s, r->version(), &resp);
    return;
  }
  if (req.body_case() == proto::Request::kCleanup) {
    s = cleanup_hook_ ? cleanup_hook_(req.cleanup(), resp.mutable_cleanup())
                      : Status::Unavailable("cleanup is not available on this server");
    if (!s.ok()) resp.clear_body();
    Reply(call.get(), s, r->version(), &resp);
    return;
  }
  if (newer && r->table && RoutesAway(*r, req) && HoldForTable(req.table_version(), &call)) {
    return;
  }
  if (newer && on_newer_table_) on_newer_table_(req.table_version(), /*urgent=*/false);
  if (!r->table) {
    Reply(call.get(), Status::Unavailable("no table yet"), 0, &resp);
    return;
  }
  Dispatch(std::move(call), kMayHold);
}

void RequestHandler::Dispatch(std::unique_ptr<ServerCall> call, uint32_t tag) {
  const proto::Request& req = call->request();
  CallPool* pool = nullptr;
  if (const proto::MigrateBatchRequest* m = MigrateBatchOf(req)) {
    pool = migrate_pools_[m->bucket() % migrate_pools_.size()].get();
  } else if (IsWrite(req.body_case())) {
    pool = pool_.get();
  }
  if (pool != nullptr) {
    if (!pool->TrySubmit(&call, tag)) {
      proto::Response resp;
      Reply(call.get(), Status::Unavailable("overloaded"), table_version(), &resp);
    }
    return;
  }
  Execute(std::move(call), tag);
}

bool RequestHandler::RoutesAway(const Routing& r, const proto::Request& req) {
  const BucketTable& t = *r.table;
  auto away = [&](const std::string& key) {
    return !t.IsMaster(BucketOf(key, t.bucket_count()), r.self_index);
  };
  if (const std::string* key = SingleWriteKey(req)) return away(*key);
  switch (req.body_case()) {
    case proto::Request::kGet:
      return away(req.get().key());
    case proto::Request::kMget:
      return std::any_of(req.mget().keys().begin(), req.mget().keys().end(), away);
    case proto::Request::kMput:
      return std::any_of(req.mput().entries().begin(), req.mput().entries().end(),
                         [&](const proto::PutRequest& p) { return away(p.key()); });
    default:
      return false;  // migration batches have rules of their own (CheckMigrateBatch)
  }
}

const std::string* RequestHandler::SingleWriteKey(const proto::Request& req) {
  switch (req.body_case()) {
    case proto::Request::kPut:
      return &req.put().key();
    case proto::Request::kRemove:
      return &req.remove().key();
    case proto::Request::kIncr:
      return &req.incr().key();
    case proto::Request::kExpire:
      return &req.expire().key();
    default:
      return nullptr;
  }
}

bool RequestHandler::HoldForTable(uint64_t version, std::unique_ptr<ServerCall>* call) {
  if (options_.hold_for_table_ms == 0 ||
      !held_->HoldForTable(version, options_.hold_for_table_ms, call)) {
    return false;
  }
  if (on_newer_table_) on_newer_table_(version, /*urgent=*/true);
  held_for_table_.fetch_add(1, std::memory_order_relaxed);
  // The table may have arrived between the caller's look and the hold.
  const uint64_t now = table_version();
  if (now >= version) held_->TableInstalled(now);
  return true;
}

bool RequestHandler::HoldWhileFenced(uint32_t bucket, std::unique_ptr<ServerCall>* call) {
  if (options_.hold_fenced_ms == 0 || !storage_->Fenced(bucket) ||
      !held_->HoldForBucket(bucket, options_.hold_fenced_ms, call)) {
    return false;
  }
  held_fenced_.fetch_add(1, std::memory_order_relaxed);
  // The fence may have lifted between the look and the hold.
  if (!storage_->Fenced(bucket)) held_->BucketUnfenced(bucket);
  return true;
}

void RequestHandler::Execute(std::unique_ptr<ServerCall> call, uint32_t tag) {
  const proto::Request& req = call->request();
  // The table of this moment decides (a write queued under an older table is
  // checked again here).
  std::shared_ptr<const Routing> r = routing();
  const uint64_t version = r->version();
  proto::Response resp;
  uint32_t bucket = 0;
  if (tag == kMayHold) {
    const std::string* key = SingleWriteKey(req);
    if (key != nullptr && Route(*r, *key, &bucket).ok() && HoldWhileFenced(bucket, &call)) {
      return;  // the call is not ours any more: nothing of it may be touched
    }
  }
  Status s;
  switch (req.body_case()) {
    case proto::Request::kGet: {
      gets_.fetch_add(1, std::memory_order_relaxed);
      const proto::GetRequest& g = req.get();
      s = Route(*r, g.key(), &bucket);
      if (!s.ok()) break;
      GetResult result;
      s = storage_->Get(g.area(), g.key(), bucket, &result);
      if (!s.ok()) break;
      proto::GetResponse* out = resp.mutable_get();
      out->set_value(std::move(result.value));
      out->set_version(result.version);
      out->set_expire_at(result.expire_at);
      out->set_ttl_seconds(result.ttl_seconds);
      break;
    }
    case proto::Request::kPut: {
      puts_.fetch_add(1, std::memory_order_relaxed);
      const proto::PutRequest& p = req.put();
      s = Route(*r, p.key(), &bucket);
      if (!s.ok()) break;
      uint32_t new_version = 0;
      s = storage_->Put(p.area(), p.key(), bucket, p.value(), p.version(),
                        ToExpiry(p.expiry()), &new_version);
      if (s.ok()) resp.mutable_put()->set_version(new_version);
      break;
    }
    case proto::Request::kRemove: {
      removes_.fetch_add(1, std::memory_order_relaxed);
      const proto::RemoveRequest& m = req.remove();
      s = Route(*r, m.key(), &bucket);
      if (!s.ok()) break;
      s = storage_->Remove(m.area(), m.key(), bucket, m.version());
      if (s.ok()) resp.mutable_remove();
      break;
    }
    case proto::Request::kIncr: {
      puts_.fetch_add(1, std::memory_order_relaxed);
      const proto::IncrRequest& m = req.incr();
      s = Route(*r, m.key(), &bucket);
      if (!s.ok()) break;
      int64_t value = 0;
      uint32_t new_version = 0;
      s = storage_->Incr(m.area(), m.key(), bucket, m.delta(), m.initial_value(),
                         ToExpiry(m.expiry()), m.version(), &value, &new_version);
      if (s.ok()) {
        resp.mutable_incr()->set_value(value);
        resp.mutable_incr()->set_version(new_version);
      }
      break;
    }
    case proto::Request::kExpire: {
      puts_.fetch_add(1, std::memory_order_relaxed);
      const proto::ExpireRequest& m = req.expire();
      s = Route(*r, m.key(), &bucket);
      if (!s.ok()) break;
      uint32_t expire_at = 0;
      s = storage_->Expire(m.area(), m.key(), bucket, ToExpiry(m.expiry()), &expire_at);
      if (s.ok()) resp.mutable_expire()->set_expire_at(expire_at);
      break;
    }
    case proto::Request::kMget: {
      const proto::MGetRequest& m = req.mget();
      gets_.fetch_add(m.keys_size(), std::memory_order_relaxed);
      proto::MGetResponse* out = resp.mutable_mget();
      for (const std::string& key : m.keys()) {
        proto::KeyResult* kr = out->add_results();
        Status ks = Route(*r, key, &bucket);
        GetResult result;
        if (ks.ok()) ks = storage_->Get(m.area(), key, bucket, &result);
        SetResult(ks, kr);
        if (ks.ok()) {
          kr->set_value(std::move(result.value));
          kr->set_version(result.version);
          kr->set_expire_at(result.expire_at);
          kr->set_ttl_seconds(result.ttl_seconds);
        }
      }
      break;
    }
    case proto::Request::kMput: {
      const proto::MPutRequest& m = req.mput();
      puts_.fetch_add(m.entries_size(), std::memory_order_relaxed);
      proto::MPutResponse* out = resp.mutable_mput();
      for (const proto::PutRequest& p : m.entries()) {
        proto::KeyResult* kr = out->add_results();
        Status ks = Route(*r, p.key(), &bucket);
        uint32_t new_version = 0;
        if (ks.ok()) {
          ks = storage_->Put(m.area(), p.key(), bucket, p.value(), p.version(),
                             ToExpiry(p.expiry()), &new_version);
        }
        SetResult(ks, kr);
        if (ks.ok()) kr->set_version(new_version);
      }
      break;
    }
    case proto::Request::kMigrateBatch:
    case proto::Request::kMigratePacked: {
      const proto::MigrateBatchRequest& m = *MigrateBatchOf(req);
      // Views into the request; the vector is the apply thread's, reused.
      thread_local std::vector<migration::MigratedEntryView> entries;
      s = DecodeMigrateBatch(req, &entries);
      if (s.ok()) s = CheckMigrateBatch(*r, req.table_version(), m, entries);
      if (!s.ok()) break;
      if (m.first()) {
        migration::ReclaimTicket ticket;
        s = storage_->ReclaimBucket(m.bucket(), &ticket);
        if (!s.ok()) break;
        if (reclaim_hook_ && !ticket.nothing_to_reclaim) reclaim_hook_(ticket);
        LOG(INFO) << "dataserver: receiving bucket " << m.bucket()
                  << " from " << m.source() << " (migration " << m.migration_id() << ")";
      }
      s = storage_->ApplyMigrated(m.bucket(), entries, m.fresh_keys());
      if (s.ok()) {
        batches_.fetch_add(1, std::memory_order_relaxed);
        if (req.has_migrate_packed()) {
          resp.mutable_migrate_packed();
        } else {
          resp.mutable_migrate_batch();
        }
      }
      break;
    }
    default:
      s = Status::InvalidArgument("not a data server request");
      break;
  }
  if (!s.ok()) resp.clear_body();
  Reply(call.get(), s, version, &resp);
}

}  // namespace tessera::ds
