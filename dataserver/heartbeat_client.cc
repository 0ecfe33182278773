#include "dataserver/heartbeat_client.h"

#include <glog/logging.h>

#include <chrono>
#include <utility>

#include "common/thread_name.h"

namespace tessera::ds {

HeartbeatClient::HeartbeatClient(HeartbeatClientOptions options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {
  for (const HostPort& hp : options_.config_servers) {
    channels_.push_back(std::make_unique<RpcChannel>(io_.io(), hp));
  }
}

HeartbeatClient::~HeartbeatClient() {
  Stop();
  channels_.clear();
  io_.Stop();
}

void HeartbeatClient::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Run(); });
}

void HeartbeatClient::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HeartbeatClient::FetchNow(bool urgent) {
  // Called for every request stamped with a newer version: skip the lock while a
  // fetch of this kind is already pending.
  std::atomic<bool>& pending = urgent ? urgent_pending_ : fetch_pending_;
  if (pending.exchange(true, std::memory_order_acq_rel)) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (fetch_now_ && (urgent_ || !urgent)) return;
    fetch_now_ = true;
    urgent_ = urgent_ || urgent;
  }
  cv_.notify_all();
}

void HeartbeatClient::Run() {
  SetCurrentThreadName("heartbeat");
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(options_.interval_ms);
  const auto min_gap = std::chrono::milliseconds(options_.min_fetch_gap_ms);
  const auto min_urgent_gap = std::chrono::milliseconds(options_.min_urgent_fetch_gap_ms);
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    // Cleared before the beat: a FetchNow from now on asks for the next one.
    fetch_now_ = false;
    urgent_ = false;
    fetch_pending_.store(false, std::memory_order_release);
    urgent_pending_.store(false, std::memory_order_release);
    l.unlock();
    const Clock::time_point sent = Clock::now();
    Beat();
    l.lock();
    // Sleep until the next period, or until FetchNow (but at least the gap apart; an
    // urgent FetchNow during the wait shortens it).
    const Clock::time_point next = sent + interval;
    cv_.wait_until(l, next, [&] { return stop_ || fetch_now_; });
    while (!stop_ && fetch_now_) {
      const Clock::time_point due = sent + (urgent_ ? min_urgent_gap : min_gap);
      if (Clock::now() >= due) break;
      const bool was_urgent = urgent_;
      cv_.wait_until(l, due, [&] { return stop_ || urgent_ != was_urgent; });
    }
  }
}

bool HeartbeatClient::Beat() {
  if (channels_.empty()) return false;
  proto::Request req;
  proto::HeartbeatRequest* hb = req.mutable_heartbeat();
  hb->set_address(options_.self_address);
  const uint64_t have =
      callbacks_.table_version ? callbacks_.table_version() : adopted_version_.load();
  hb->set_table_version(have);
  req.set_table_version(have);
  hb->set_ready(callbacks_.ready ? callbacks_.ready() : true);
  if (callbacks_.stats) *hb->mutable_stats() = callbacks_.stats();

  for (size_t attempt = 0; attempt < channels_.size(); ++attempt) {
    const size_t i = (next_ + attempt) % channels_.size();
    RpcChannel* ch = channels_[i].get();
    proto::Request copy = req;
    proto::Response resp;
    Status s = ch->CallSync(&copy, options_.rpc_timeout_ms, &resp);
    if (!s.ok()) {
      VLOG(1) << "heartbeat to " << ch->address() << ": " << s.ToString();
      continue;
    }
    if (resp.code() != proto::OK) {
      VLOG(1) << "heartbeat to " << ch->address() << " refused: " << resp.message();
      continue;
    }
    next_ = i;
    answered_.fetch_add(1);
    if (!was_answering_) {
      LOG(INFO) << "dataserver " << options_.self_address << " heartbeats answered again by "
                << ch->address();
      was_answering_ = true;
    }
    if (resp.has_heartbeat() && resp.heartbeat().has_table()) {
      proto::Table* t = resp.mutable_heartbeat()->mutable_table();
      const uint64_t version = t->version();
      const uint64_t current =
          callbacks_.table_version ? callbacks_.table_version() : adopted_version_.load();
      if (version > current) {
        std::shared_ptr<const BucketTable> table;
        Status v = BucketTable::FromProto(std::move(*t), &table);
        if (!v.ok()) {
          LOG(WARNING) << "dataserver " << options_.self_address << ": invalid table version "
                       << version << " from " << ch->address() << ": " << v.ToString();
        } else {
          LOG(INFO) << "dataserver " << options_.self_address << " adopts table version "
                    << version << " (had " << current << ") from " << ch->address();
          adopted_version_.store(version);
          if (callbacks_.on_table) callbacks_.on_table(std::move(table));
        }
      }
    }
    return true;
  }
  if (was_answering_) {
    LOG(WARNING) << "dataserver " << options_.self_address
                 << ": no config server answered the heartbeat";
    was_answering_ = false;
  }
  return false;
}

}  // namespace tessera::ds
