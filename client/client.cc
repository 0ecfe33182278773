// Client: the public SDK object; the blocking calls wait on the async ones.
#include "tessera/client.h"

#include <condition_variable>
#include <mutex>

#include "client/checks.h"
#include "client/client_core.h"
#include "client/multi_call.h"
#include "client/single_call.h"
#include "common/io_thread.h"

namespace tessera::client {

class Client::Impl {
 public:
  explicit Impl(const Options& options)
      : io_(static_cast<int>(options.io_threads == 0 ? 1 : options.io_threads), "io",
            options.io_thread_slice_us),
        core_(std::make_unique<ClientCore>(options, io_.io())) {}
  ~Impl() {
    core_->CloseAndDrain();
    core_.reset();
    io_.Stop();
  }
  ClientCore* core() { return core_.get(); }
  uint32_t Timeout(const CallOptions& opts) const {
    return opts.timeout_ms != 0 ? opts.timeout_ms : core_->options().timeout_ms;
  }

 private:
  IoThread io_;  // declared first: destroyed after the core
  std::unique_ptr<ClientCore> core_;
};

namespace {

// One blocking caller waiting for its async call.
class Waiter {
 public:
  void Notify() {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
    cv_.notify_one();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

Status CheckKeyAndOptions(std::string_view key, const CallOptions& opts) {
  Status s = CheckKey(key);
  if (s.ok()) s = CheckOptions(opts);
  return s;
}

Value TakeValue(proto::GetResponse* g) {
  Value v;
  v.data = std::move(*g->mutable_value());
  v.version = g->version();
  v.expire_at = g->expire_at();
  v.ttl_seconds = g->ttl_seconds();
  return v;
}

Status KeyStatus(const proto::KeyResult& r) { return FromWire(r.code(), r.message()); }

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Status Client::Open(const Options& options, std::unique_ptr<Client>* out) {
  auto impl = std::make_unique<Impl>(options);
  Status s = impl->core()->Init();
  if (!s.ok()) return s;
  Waiter w;
  impl->core()->Refresh(1, true, [&w] { w.Notify(); });
  w.Wait();
  if (impl->core()->route() == nullptr) {
    Status why = impl->core()->last_refresh_error();
    return Status::Unavailable("no bucket table: " + why.message());
  }
  out->reset(new Client(std::move(impl)));
  return Status::OK();
}

// ---- async ----

void Client::GetAsync(std::string_view key, const CallOptions& opts, GetCallback done) {
  Status s = CheckKeyAndOptions(key, opts);
  if (!s.ok()) {
    done(s, Value());
    return;
  }
  proto::Request request;
  request.mutable_get()->set_area(opts.area);
  request.mutable_get()->set_key(key.data(), key.size());
  SingleCall::Start(impl_->core(), SingleCall::Kind::kRead, std::string(key), std::move(request),
                    impl_->Timeout(opts),
                    [done = std::move(done)](const Status& s, proto::Response* r) {
                      if (s.ok()) {
                        done(s, TakeValue(r->mutable_get()));
                      } else {
                        done(s, Value());
                      }
                    });
}

void Client::PutAsync(std::string_view key, std::string_view value, const CallOptions& opts,
                      WriteCallback done) {
  Status s = CheckKeyAndOptions(key, opts);
  if (s.ok()) s = CheckValue(value, impl_->core()->options().max_value_bytes);
  if (!s.ok()) {
    done(s, 0);
    return;
  }
  proto::Request request;
  proto::PutRequest* put = request.mutable_put();
  put->set_area(opts.area);
  put->set_key(key.data(), key.size());
  put->set_value(value.data(), value.size());
  put->set_version(opts.version);
  SetExpiry(opts, put->mutable_expiry());
  const auto kind = opts.version != 0 ? SingleCall::Kind::kWrite : SingleCall::Kind::kIdempotentWrite;
  SingleCall::Start(impl_->core(), kind, std::string(key), std::move(request), impl_->Timeout(opts),
                    [done = std::move(done)](const Status& s, proto::Response* r) {
                      done(s, s.ok() ? r->put().version() : 0);
                    });
}

void Client::RemoveAsync(std::string_view key, const CallOptions& opts, WriteCallback done) {
  Status s = CheckKeyAndOptions(key, opts);
  if (!s.ok()) {
    done(s, 0);
    return;
  }
  proto::Request request;
  proto::RemoveRequest* rm = request.mutable_remove();
  rm->set_area(opts.area);
  rm->set_key(key.data(), key.size());
  rm->set_version(opts.version);
  SingleCall::Start(impl_->core(), SingleCall::Kind::kWrite, std::string(key), std::move(request),
                    impl_->Timeout(opts),
                    [done = std::move(done)](const Status& s, proto::Response*) { done(s, 0); });
}

// ---- blocking ----

Status Client::Put(std::string_view key, std::string_view value, const CallOptions& opts,
                   uint32_t* new_version) {
  Status result;
  Waiter w;
  PutAsync(key, value, opts, [&](const Status& s, uint32_t version) {
    result = s;
    if (new_version != nullptr) *new_version = version;
    w.Notify();
  });
  w.Wait();
  return result;
}

Status Client::Get(std::string_view key, Value* out, const CallOptions& opts) {
  Status result;
  Waiter w;
  GetAsync(key, opts, [&](const Status& s, Value&& v) {
    result = s;
    *out = std::move(v);
    w.Notify();
  });
  w.Wait();
  return result;
}

Status Client::Remove(std::string_view key, const CallOptions& opts) {
  Status result;
  Waiter w;
  RemoveAsync(key, opts, [&](const Status& s, uint32_t) {
    result = s;
    w.Notify();
  });
  w.Wait();
  return result;
}

Status Client::Incr(std::string_view key, int64_t delta, int64_t* value, const CallOptions& opts,
                    uint32_t* new_version) {
  Status s = CheckKeyAndOptions(key, opts);
  if (!s.ok()) return s;
  proto::Request request;
  proto::IncrRequest* incr = request.mutable_incr();
  incr->set_area(opts.area);
  incr->set_key(key.data(), key.size());
  incr->set_delta(delta);
  incr->set_initial_value(opts.initial_value);
  incr->set_version(opts.version);
  SetExpiry(opts, incr->mutable_expiry());
  Status result;
  Waiter w;
  SingleCall::Start(impl_->core(), SingleCall::Kind::kWrite, std::string(key), std::move(request),
                    impl_->Timeout(opts), [&](const Status& st, proto::Response* r) {
                      result = st;
                      if (st.ok()) {
                        if (value != nullptr) *value = r->incr().value();
                        if (new_version != nullptr) *new_version = r->incr().version();
                      }
                      w.Notify();
                    });
  w.Wait();
  return result;
}

Status Client::Decr(std::string_view key, int64_t delta, int64_t* value, const CallOptions& opts,
                    uint32_t* new_version) {
  if (delta == INT64_MIN) return Status::InvalidArgument("delta out of range");
  return Incr(key, -delta, value, opts, new_version);
}

Status Client::Expire(std::string_view key, const CallOptions& opts, uint32_t* expire_at) {
  Status s = CheckKeyAndOptions(key, opts);
  if (!s.ok()) return s;
  proto::Request request;
  proto::ExpireRequest* ex = request.mutable_expire();
  ex->set_area(opts.area);
  ex->set_key(key.data(), key.size());
  SetExpiry(opts, ex->mutable_expiry());
  // A relative TTL may be re-sent after a lost connection (same outcome). An absolute
  // expire_at may lie in the past, which deletes the key: a re-send would then answer
  // NotFound for an operation that succeeded, so it is not re-sent.
  const auto kind =
      opts.expire_at != 0 ? SingleCall::Kind::kWrite : SingleCall::Kind::kIdempotentWrite;
  Status result;
  Waiter w;
  SingleCall::Start(impl_->core(), kind, std::string(key), std::move(request),
                    impl_->Timeout(opts),
                    [&](const Status& st, proto::Response* r) {
                      result = st;
                      if (st.ok() && expire_at != nullptr) *expire_at = r->expire().expire_at();
                      w.Notify();
                    });
  w.Wait();
  return result;
}

Status Client::MGet(const std::vector<std::string>& keys, std::vector<MGetItem>* out,
                    const CallOptions& opts) {
  out->clear();
  Status s = CheckBatch(keys.size());
  if (s.ok()) s = CheckOptions(opts);
  for (size_t i = 0; s.ok() && i < keys.size(); ++i) s = CheckKey(keys[i]);
  if (!s.ok()) return s;
  Waiter w;
  Status first_error;
  MultiCall::StartGet(impl_->core(), opts.area, keys, impl_->Timeout(opts),
                      [&](std::vector<proto::KeyResult>* results) {
                        out->resize(results->size());
                        for (size_t i = 0; i < results->size(); ++i) {
                          proto::KeyResult& r = (*results)[i];
                          MGetItem& item = (*out)[i];
                          item.status = KeyStatus(r);
                          if (item.status.ok()) {
                            item.value.data = std::move(*r.mutable_value());
                            item.value.version = r.version();
                            item.value.expire_at = r.expire_at();
                            item.value.ttl_seconds = r.ttl_seconds();
                          } else if (!item.status.IsNotFound() && first_error.ok()) {
                            first_error = item.status;
                          }
                        }
                        w.Notify();
                      });
  w.Wait();
  return first_error;
}

Status Client::MPut(const std::vector<MPutEntry>& entries, std::vector<MPutItem>* out,
                    const CallOptions& opts) {
  out->clear();
  Status s = CheckBatch(entries.size());
  if (s.ok()) s = CheckOptions(opts);
  const size_t max_value = impl_->core()->options().max_value_bytes;
  for (size_t i = 0; s.ok() && i < entries.size(); ++i) {
    s = CheckKey(entries[i].key);
    if (s.ok()) s = CheckValue(entries[i].value, max_value);
  }
  if (!s.ok()) return s;
  std::vector<proto::PutRequest> wire(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    wire[i].set_area(opts.area);
    wire[i].set_key(entries[i].key);
    wire[i].set_value(entries[i].value);
    wire[i].set_version(entries[i].version);
    SetExpiry(opts, wire[i].mutable_expiry());
  }
  Waiter w;
  Status first_error;
  MultiCall::StartPut(impl_->core(), opts.area, std::move(wire), impl_->Timeout(opts),
                      [&](std::vector<proto::KeyResult>* results) {
                        out->resize(results->size());
                        for (size_t i = 0; i < results->size(); ++i) {
                          MPutItem& item = (*out)[i];
                          item.status = KeyStatus((*results)[i]);
                          item.version = (*results)[i].version();
                          if (!item.status.ok() && first_error.ok()) first_error = item.status;
                        }
                        w.Notify();
                      });
  w.Wait();
  return first_error;
}

// ---- table ----

TableInfo Client::table() const {
  TableInfo info;
  auto route = impl_->core()->route();
  if (route == nullptr) return info;
  info.version = route->table->version();
  info.bucket_count = route->table->bucket_count();
  info.copy_count = route->table->copy_count();
  for (const auto& s : route->table->proto().servers()) info.servers.push_back(s.address());
  return info;
}

uint64_t Client::table_version() const { return impl_->core()->table_version(); }

Status Client::RefreshTable() {
  Waiter w;
  impl_->core()->Refresh(impl_->core()->table_version() + 1, true, [&w] { w.Notify(); });
  w.Wait();
  return impl_->core()->last_refresh_error();
}

}  // namespace tessera::client
