#include "client/multi_call.h"

#include <algorithm>
#include <map>

#include "client/checks.h"
#include "common/bucket_hash.h"

namespace tessera::client {

using Clock = std::chrono::steady_clock;

namespace {
uint32_t BackoffMs(uint32_t round) { return std::min<uint32_t>(5u << std::min(round, 6u), 200); }

bool AnyCas(const std::vector<proto::PutRequest>& entries) {
  return std::any_of(entries.begin(), entries.end(),
                     [](const proto::PutRequest& e) { return e.version() != 0; });
}
}  // namespace

void MultiCall::StartGet(ClientCore* core, uint32_t area, std::vector<std::string> keys,
                         uint32_t timeout_ms, Done done) {
  core->OpStarted();
  auto call = std::make_shared<MultiCall>(core, area, std::move(keys),
                                          std::vector<proto::PutRequest>(), timeout_ms,
                                          std::move(done));
  call->Begin();
}

void MultiCall::StartPut(ClientCore* core, uint32_t area, std::vector<proto::PutRequest> entries,
                         uint32_t timeout_ms, Done done) {
  core->OpStarted();
  auto call = std::make_shared<MultiCall>(core, area, std::vector<std::string>(),
                                          std::move(entries), timeout_ms, std::move(done));
  call->Begin();
}

MultiCall::MultiCall(ClientCore* core, uint32_t area, std::vector<std::string> keys,
                     std::vector<proto::PutRequest> entries, uint32_t timeout_ms, Done done)
    : core_(core),
      area_(area),
      keys_(std::move(keys)),
      entries_(std::move(entries)),
      resend_after_loss_(!AnyCas(entries_)),
      deadline_(Clock::now() + std::chrono::milliseconds(timeout_ms)),
      results_(is_put() ? entries_.size() : keys_.size()),
      done_(std::move(done)) {}

uint32_t MultiCall::RemainingMs() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<uint32_t>(left.count());
}

void MultiCall::Begin() {
  std::vector<uint32_t> all(results_.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  Hold();
  Dispatch(std::move(all), 0);
  Release();
}

void MultiCall::Dispatch(std::vector<uint32_t> indices, uint32_t round) {
  if (core_->closed()) {
    SetAll(indices, proto::UNAVAILABLE, "client is closing");
    return;
  }
  std::shared_ptr<const ClientCore::Route> route = core_->route();
  if (route == nullptr) {
    Status why = core_->last_refresh_error();
    Redo(std::move(indices), round, 1, 0, why.message());
    return;
  }
  const BucketTable& table = *route->table;
  std::map<uint32_t, std::vector<uint32_t>> by_server;
  std::vector<uint32_t> down;
  std::string down_message;
  for (uint32_t i : indices) {
    const uint32_t bucket = BucketOf(KeyAt(i), table.bucket_count());
    if (!table.MasterUp(bucket)) {
      down.push_back(i);
      down_message = "master " + table.MasterAddress(bucket) + " of bucket " +
                     std::to_string(bucket) + " is down (table version " +
                     std::to_string(table.version()) + ")";
      continue;
    }
    by_server[table.MasterIndex(bucket)].push_back(i);
  }
  if (!down.empty()) {
    if (round == 0) {
      // A newer table may have moved those buckets: look once, then give up on them.
      Redo(std::move(down), round, table.version() + 1, table.version(), down_message);
    } else {
      SetAll(down, proto::UNAVAILABLE, down_message);
    }
  }
  for (auto& [server, group] : by_server) SendGroup(*route, server, std::move(group), round);
}

void MultiCall::SendGroup(const ClientCore::Route& route, uint32_t server,
                          std::vector<uint32_t> indices, uint32_t round) {
  const uint32_t remaining = RemainingMs();
  if (remaining == 0) {
    SetAll(indices, proto::TIMEOUT, "deadline passed before sending");
    return;
  }
  proto::Request request;
  request.set_table_version(route.table->version());
  if (is_put()) {
    proto::MPutRequest* mput = request.mutable_mput();
    mput->set_area(area_);
    for (uint32_t i : indices) *mput->add_entries() = entries_[i];
  } else {
    proto::MGetRequest* mget = request.mutable_mget();
    mget->set_area(area_);
    for (uint32_t i : indices) mget->add_keys(keys_[i]);
  }
  Hold();
  const uint64_t sent_version = route.table->version();
  // The connection of the group's first bucket (any one would do: the group is one
  // request, and the keys of a multi call have no order among themselves).
  const uint32_t bucket = BucketOf(KeyAt(indices.front()), route.table->bucket_count());
  route.Channel(server, bucket)->Call(
      &request, remaining,
      [self = shared_from_this(), indices = std::move(indices), round, sent_version](
          const tessera::Status& transport, proto::Response* response) {
        self->OnGroup(indices, round, sent_version, transport, response);
        self->Release();
      });
}

void MultiCall::OnGroup(const std::vector<uint32_t>& indices, uint32_t round,
                        uint64_t sent_version, const tessera::Status& transport,
                        proto::Response* response) {
  if (!transport.ok()) {
    if (transport.Is(tessera::Code::kTimeout)) {
      SetAll(indices, proto::TIMEOUT,
             transport.message() + (is_put() ? "; the writes may have been applied" : ""));
    } else if (transport.Is(tessera::Code::kUnavailable) &&
               (!is_put() || resend_after_loss_ || FailedBeforeSend(transport))) {
      Redo(indices, round, 0, sent_version, transport.message());
    } else {
      Status s = FromCommon(transport);
      SetAll(indices, static_cast<proto::Code>(static_cast<int>(s.code())),
             s.message() + (is_put() ? "; the writes may have been applied" : ""));
    }
    return;
  }
  const proto::Code code = response->code();
  if (code == proto::WRONG_OWNER || code == proto::STALE_TABLE || code == proto::UNAVAILABLE) {
    Redo(indices, round, response->table_version(), sent_version,
         FromWire(code, response->message()).message());
    return;
  }
  if (code != proto::OK) {
    SetAll(indices, code, response->message());
    return;
  }
  if (response->table_version() > sent_version) {
    core_->Refresh(response->table_version(), false, [] {});
  }
  auto* results = is_put() ? response->mutable_mput()->mutable_results()
                           : response->mutable_mget()->mutable_results();
  if (static_cast<size_t>(results->size()) != indices.size()) {
    SetAll(indices, proto::INTERNAL,
           "server answered " + std::to_string(results->size()) + " results for " +
               std::to_string(indices.size()) + " keys");
    return;
  }
  std::vector<uint32_t> again;
  std::string again_message;
  for (size_t j = 0; j < indices.size(); ++j) {
    proto::KeyResult& r = (*results)[static_cast<int>(j)];
    if (r.code() == proto::WRONG_OWNER || r.code() == proto::UNAVAILABLE ||
        r.code() == proto::STALE_TABLE) {
      again.push_back(indices[j]);
      again_message = r.message();
      continue;
    }
    results_[indices[j]].Swap(&r);
  }
  if (!again.empty()) {
    Redo(std::move(again), round, response->table_version(), sent_version, again_message);
  }
}

void MultiCall::Redo(std::vector<uint32_t> indices, uint32_t round, uint64_t min_version,
                     uint64_t sent_version, const std::string& why) {
  if (round + 1 >= core_->options().max_attempts || RemainingMs() == 0 || core_->closed()) {
    SetAll(indices, proto::UNAVAILABLE,
           "gave up after " + std::to_string(round + 1) + " attempts: " + why);
    return;
  }
  Hold();
  core_->Refresh(min_version, true, [self = shared_from_this(), indices = std::move(indices),
                                     round, sent_version]() mutable {
    if (self->core_->table_version() > sent_version || sent_version == 0) {
      self->Dispatch(std::move(indices), round + 1);
      self->Release();
      return;
    }
    const uint32_t pause = std::min(BackoffMs(round), self->RemainingMs());
    self->core_->RunAfter(pause, [self, indices = std::move(indices), round]() mutable {
      self->Dispatch(std::move(indices), round + 1);
      self->Release();
    });
  });
}

void MultiCall::SetAll(const std::vector<uint32_t>& indices, proto::Code code,
                       const std::string& message) {
  for (uint32_t i : indices) {
    proto::KeyResult& r = results_[i];
    r.Clear();
    r.set_code(code);
    r.set_message(message);
  }
}

void MultiCall::Release() {
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  Done done = std::move(done_);
  done(&results_);
  core_->OpFinished();
}

}  // namespace tessera::client
