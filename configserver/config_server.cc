#include "configserver/config_server.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>

#include "common/address.h"
#include "common/cluster_config.h"
#include "common/thread_name.h"

namespace tessera::cs {

ConfigServer::ConfigServer(ConfigServerOptions options) : options_(std::move(options)) {}

ConfigServer::~ConfigServer() { Stop(); }

Status ConfigServer::Start() {
  CHECK(!service_) << "ConfigServer::Start called twice";
  Status s;
  if (options_.config) {
    config_ = *options_.config;
    s = ValidateClusterConfig(&config_);
  } else {
    s = LoadClusterConfig(options_.config_path, &config_);
  }
  if (!s.ok()) return s;
  if (config_.copy_count() > 1 && !options_.allow_copies_without_replication) {
    return Status::InvalidArgument(
        "copy_count " + std::to_string(config_.copy_count()) +
        ": replication is not built yet (data servers keep one copy of each bucket, and "
        "a promoted copy would hold none of its master's data); use copy_count: 1");
  }
  if (options_.data_dir.empty()) return Status::InvalidArgument("data_dir is required");
  // The listen address may have port 0 (RpcServer validates it and picks a port).
  const size_t colon = options_.listen_address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("listen address \"" + options_.listen_address +
                                   "\": expected HOST:PORT");
  }

  s = TableStore::Open(options_.data_dir, &store_);
  if (!s.ok()) return s;
  ConfigServiceOptions so;
  so.config = config_;
  so.clock = options_.clock ? options_.clock : SystemClock::Default();
  so.store = store_.get();
  auto service = std::make_unique<ConfigService>(std::move(so));
  s = service->Init();
  if (!s.ok()) {
    store_.reset();
    return s;
  }
  RpcServerOptions ro;
  ro.listen_address = options_.listen_address;
  ro.io_threads = options_.io_threads;
  ro.pin_connections = false;  // a flip's persist (fsync) must not hold up other peers
  auto rpc = std::make_unique<RpcServer>(ro, service.get());
  s = rpc->Start();
  if (!s.ok()) {
    store_.reset();
    return s;
  }
  service_ = std::move(service);
  rpc_ = std::move(rpc);
  address_ = options_.listen_address.substr(0, colon) + ":" + std::to_string(rpc_->port());
  {
    std::lock_guard<std::mutex> l(ticker_mu_);
    stopping_ = false;
  }
  ticker_ = std::thread([this] { TickerLoop(); });
  return Status::OK();
}

void ConfigServer::TickerLoop() {
  SetCurrentThreadName("cs-ticker");
  const auto period = std::chrono::milliseconds(std::max<uint32_t>(1, options_.tick_interval_ms));
  std::unique_lock<std::mutex> l(ticker_mu_);
  while (!stopping_) {
    if (ticker_cv_.wait_for(l, period, [this] { return stopping_; })) break;
    l.unlock();
    service_->Tick();
    l.lock();
  }
}

void ConfigServer::Stop() {
  {
    std::lock_guard<std::mutex> l(ticker_mu_);
    stopping_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (rpc_) rpc_->Stop();
  rpc_.reset();
  service_.reset();
  store_.reset();  // releases the data_dir lock
}

std::string ConfigServer::address() const { return address_; }

uint16_t ConfigServer::port() const { return rpc_ ? rpc_->port() : 0; }

}  // namespace tessera::cs
