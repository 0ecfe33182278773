#include "client/single_call.h"

#include <algorithm>

#include <glog/logging.h>

#include "client/checks.h"
#include "common/bucket_hash.h"

namespace tessera::client {

using Clock = std::chrono::steady_clock;

namespace {
// Pause before re-sending when a refresh brought no newer table: 5, 10, 20, ... 200 ms.
uint32_t BackoffMs(uint32_t round) { return std::min<uint32_t>(5u << std::min(round, 6u), 200); }
}  // namespace

void SingleCall::Start(ClientCore* core, Kind kind, std::string key, proto::Request request,
                       uint32_t timeout_ms, Done done) {
  core->OpStarted();
  auto call = std::make_shared<SingleCall>(core, kind, std::move(key), std::move(request),
                                           timeout_ms, std::move(done));
  call->Send();
}

SingleCall::SingleCall(ClientCore* core, Kind kind, std::string key, proto::Request request,
                       uint32_t timeout_ms, Done done)
    : core_(core),
      kind_(kind),
      key_(std::move(key)),
      deadline_(Clock::now() + std::chrono::milliseconds(timeout_ms)),
      request_(std::move(request)),
      done_(std::move(done)) {}

uint32_t SingleCall::RemainingMs() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<uint32_t>(left.count());
}

void SingleCall::Send() {
  if (core_->closed()) {
    Finish(Status::Unavailable("client is closing"), nullptr);
    return;
  }
  std::shared_ptr<const ClientCore::Route> route = core_->route();
  if (route == nullptr) {
    // No table yet (Open normally fetched one): fetch, a bounded number of times.
    last_error_ = core_->last_refresh_error();
    if (refreshes_++ >= core_->options().max_attempts || RemainingMs() == 0) {
      Finish(last_error_, nullptr);
      return;
    }
    core_->Refresh(1, true, [self = shared_from_this()] { self->Send(); });
    return;
  }
  const BucketTable& table = *route->table;
  const uint32_t bucket = BucketOf(key_, table.bucket_count());
  if (!table.MasterUp(bucket)) {
    last_error_ = Status::Unavailable("bucket " + std::to_string(bucket) + ": master " +
                                      table.MasterAddress(bucket) + " is down (table version " +
                                      std::to_string(table.version()) + ")");
    if (!down_refreshed_) {
      // A newer table may have moved the bucket already.
      down_refreshed_ = true;
      core_->Refresh(table.version() + 1, true,
                     [self = shared_from_this()] { self->AfterRefresh(); });
      return;
    }
    Finish(last_error_, nullptr);
    return;
  }
  const uint32_t remaining = RemainingMs();
  if (remaining == 0) {
    Finish(attempts_ == 0 ? Status::Timeout("deadline passed before sending") : last_error_,
           nullptr);
    return;
  }
  ++attempts_;
  sent_version_ = table.version();
  request_.set_table_version(sent_version_);
  RpcChannel* channel = route->Channel(table.MasterIndex(bucket), bucket);
  VLOG(2) << "client: bucket " << bucket << " -> " << channel->address() << " attempt "
          << attempts_;
  channel->Call(&request_, remaining,
                [self = shared_from_this()](const tessera::Status& transport,
                                            proto::Response* response) {
                  self->OnResponse(transport, response);
                });
}

void SingleCall::OnResponse(const tessera::Status& transport, proto::Response* response) {
  if (!transport.ok()) {
    if (transport.Is(tessera::Code::kTimeout)) {
      // The per-send timeout is the call's remaining time: the budget is spent. A write
      // may have been applied; say so instead of guessing.
      Finish(Status::Timeout(transport.message() +
                             (kind_ == Kind::kRead ? "" : "; the write may have been applied")),
             nullptr);
      return;
    }
    if (transport.Is(tessera::Code::kUnavailable)) {
      const bool resend = kind_ != Kind::kWrite || FailedBeforeSend(transport);
      if (resend) {
        last_error_ = FromCommon(transport);
        Retry(0, true);
      } else {
        Finish(Status::Unavailable(transport.message() + "; the write may have been applied"),
               nullptr);
      }
      return;
    }
    Finish(FromCommon(transport), nullptr);
    return;
  }
  const proto::Code code = response->code();
  switch (code) {
    case proto::WRONG_OWNER:
    case proto::STALE_TABLE:
      last_error_ = FromWire(code, response->message());
      Retry(response->table_version(), true);
      return;
    case proto::UNAVAILABLE:
      // The server refused the request (not ready, owner down): nothing was applied.
      last_error_ = FromWire(code, response->message());
      Retry(response->table_version(), true);
      return;
    default:
      break;
  }
  if (response->table_version() > sent_version_) {
    core_->Refresh(response->table_version(), false, [] {});
  }
  Finish(FromWire(code, response->message()), response);
}

void SingleCall::Retry(uint64_t min_version, bool force) {
  if (attempts_ >= core_->options().max_attempts || RemainingMs() == 0 || core_->closed()) {
    Finish(Status(last_error_.code(), "gave up after " + std::to_string(attempts_) +
                                          " attempts: " + last_error_.message()),
           nullptr);
    return;
  }
  core_->Refresh(min_version, force, [self = shared_from_this()] { self->AfterRefresh(); });
}

void SingleCall::AfterRefresh() {
  const uint64_t now_version = core_->table_version();
  if (attempts_ == 0 || now_version > sent_version_) {
    Send();
    return;
  }
  // Same table as before: the owner may not have caught up yet. Pause, within budget.
  const uint32_t pause = std::min(BackoffMs(refreshes_++), RemainingMs());
  if (pause == 0) {
    Send();
    return;
  }
  core_->RunAfter(pause, [self = shared_from_this()] { self->Send(); });
}

void SingleCall::Finish(const Status& status, proto::Response* response) {
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(status, response);
  core_->OpFinished();
}

}  // namespace tessera::client

