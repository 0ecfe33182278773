#include "client/client_core.h"

#include <glog/logging.h>

#include "client/checks.h"
#include "common/asio.h"

namespace tessera::client {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ClientCore::ClientCore(const Options& options, asio::io_context* io)
    : options_(options), io_(io) {}

ClientCore::~ClientCore() = default;

Status ClientCore::Init() {
  if (options_.config_servers.empty()) return Status::InvalidArgument("no config servers given");
  if (options_.timeout_ms == 0) return Status::InvalidArgument("timeout_ms must be positive");
  if (options_.max_attempts == 0) return Status::InvalidArgument("max_attempts must be positive");
  if (options_.io_threads == 0) return Status::InvalidArgument("io_threads must be positive");
  if (options_.connections_per_server == 0 || options_.connections_per_server > 64) {
    return Status::InvalidArgument("connections_per_server must be 1..64");
  }
  RpcChannelOptions channel_options;
  channel_options.connect_timeout_ms = options_.connect_timeout_ms;
  for (const std::string& text : options_.config_servers) {
    HostPort hp;
    tessera::Status s = ParseHostPort(text, &hp);
    if (!s.ok()) return Status::InvalidArgument("config server \"" + text + "\": " + s.message());
    config_channels_.push_back(std::make_unique<RpcChannel>(io_, hp, channel_options));
  }
  return Status::OK();
}

std::shared_ptr<const ClientCore::Route> ClientCore::route() const {
  std::lock_guard<std::mutex> l(mu_);
  return route_;
}

uint64_t ClientCore::table_version() const {
  std::lock_guard<std::mutex> l(mu_);
  return route_ ? route_->table->version() : 0;
}

Status ClientCore::last_refresh_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_refresh_error_;
}

bool ClientCore::closed() const {
  std::lock_guard<std::mutex> l(mu_);
  return closed_;
}

void ClientCore::RunAfter(uint32_t delay_ms, std::function<void()> fn) {
  if (delay_ms == 0) {
    asio::post(*io_, std::move(fn));
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(*io_, std::chrono::milliseconds(delay_ms));
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code&) { fn(); });
}

void ClientCore::OpStarted() {
  std::lock_guard<std::mutex> l(mu_);
  ++ops_in_flight_;
}

void ClientCore::OpFinished() {
  std::lock_guard<std::mutex> l(mu_);
  if (--ops_in_flight_ == 0 && closed_) drained_cv_.notify_all();
}

void ClientCore::CloseAndDrain() {
  std::vector<RpcChannel*> to_close;
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    for (auto& [address, list] : channels_) {
      for (auto& ch : list) to_close.push_back(ch.get());
    }
  }
  for (auto& ch : config_channels_) ch->Close();
  for (RpcChannel* ch : to_close) ch->Close();
  std::unique_lock<std::mutex> l(mu_);
  while (!drained_cv_.wait_for(l, std::chrono::seconds(5), [&] { return ops_in_flight_ == 0; })) {
    LOG(WARNING) << "client: closing, still waiting for " << ops_in_flight_ << " calls";
  }
}

void ClientCore::Refresh(uint64_t min_version, bool force, std::function<void()> done) {
  size_t start;
  {
    std::lock_guard<std::mutex> l(mu_);
    const uint64_t have = route_ ? route_->table->version() : 0;
    bool answered = closed_;
    if (!answered && route_ && have >= min_version) {
      answered = !force || Clock::now() - last_fetch_done_ <
                               std::chrono::milliseconds(options_.min_refresh_interval_ms);
    }
    if (answered) {
      asio::post(*io_, std::move(done));
      return;
    }
    waiters_.push_back(std::move(done));
    if (fetching_) return;
    fetching_ = true;
    ++ops_in_flight_;  // a fetch counts as a call: CloseAndDrain waits for it
    start = preferred_config_server_;
  }
  FetchFrom(start, 0);
}

void ClientCore::FetchFrom(size_t index, size_t tries) {
  proto::Request request;
  request.mutable_get_table()->set_known_version(table_version());
  RpcChannel* channel = config_channels_[index].get();
  const uint32_t timeout_ms = std::min<uint32_t>(options_.timeout_ms, 2000);
  channel->Call(&request, timeout_ms,
                [this, index, tries](const tessera::Status& transport, proto::Response* resp) {
    Status outcome;
    if (!transport.ok()) {
      outcome = FromCommon(transport);
    } else if (resp->code() != proto::OK) {
      outcome = FromWire(resp->code(), resp->message());
    } else if (resp->has_get_table() && resp->get_table().has_table()) {
      std::shared_ptr<const BucketTable> table;
      tessera::Status s = BucketTable::FromProto(std::move(*resp->mutable_get_table()->mutable_table()),
                                                 &table);
      if (s.ok()) {
        Install(std::move(table));
      } else {
        outcome = Status::Internal("config server sent " + s.message());
      }
    } else if (table_version() == 0) {
      outcome = Status::Unavailable("config server has no table yet");
    }
    if (!outcome.ok()) {
      const std::string& address = config_channels_[index]->address();
      LOG(WARNING) << "client: table fetch from " << address << " failed: " << outcome.ToString();
      outcome = Status(outcome.code(), "config server " + address + ": " + outcome.message());
      if (tries + 1 < config_channels_.size() && !closed()) {
        FetchFrom((index + 1) % config_channels_.size(), tries + 1);
        return;
      }
    } else {
      std::lock_guard<std::mutex> l(mu_);
      preferred_config_server_ = index;
    }
    FetchDone(outcome);
  });
}

void ClientCore::FetchDone(const Status& status) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard<std::mutex> l(mu_);
    fetching_ = false;
    last_fetch_done_ = Clock::now();
    last_refresh_error_ = status;
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) asio::post(*io_, std::move(w));
  OpFinished();
}

void ClientCore::ChannelsFor(const std::string& address, std::vector<RpcChannel*>* out) {
  std::vector<std::unique_ptr<RpcChannel>>& list = channels_[address];
  if (list.empty()) {
    HostPort hp;
    // BucketTable validated nothing about the address text; a bad one gets channels
    // to an unusable host, and calls through them fail with Unavailable.
    if (!ParseHostPort(address, &hp).ok()) hp = HostPort{"invalid.address.invalid", 1};
    RpcChannelOptions channel_options;
    channel_options.connect_timeout_ms = options_.connect_timeout_ms;
    for (uint32_t i = 0; i < options_.connections_per_server; ++i) {
      list.push_back(std::make_unique<RpcChannel>(io_, hp, channel_options));
      if (closed_) list.back()->Close();
    }
  }
  for (auto& ch : list) out->push_back(ch.get());
}

void ClientCore::Install(std::shared_ptr<const BucketTable> table) {
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t have = route_ ? route_->table->version() : 0;
  if (table->version() <= have) return;
  auto route = std::make_shared<Route>();
  const auto& servers = table->proto().servers();
  route->per_server = options_.connections_per_server;
  route->channels.reserve(servers.size() * route->per_server);
  for (const proto::TableServer& s : servers) ChannelsFor(s.address(), &route->channels);
  LOG(INFO) << "client: table version " << have << " -> " << table->version() << " ("
            << table->bucket_count() << " buckets, " << servers.size() << " servers)";
  route->table = std::move(table);
  route_ = std::move(route);
}

}  // namespace tessera::client
