// ConfigServer: a whole config server in one object: the cluster config, the
// persisted state in data_dir (TableStore), the ConfigService behind an RpcServer,
// and a ticker thread that runs down detection every tick_interval_ms.
//
// Start() refuses to start (and says why) on a bad cluster.conf, a data_dir locked
// by another config server, a corrupt state file, a persisted table that does not
// match cluster.conf, or a listen address it cannot bind. See config_service.h for
// the RPCs and the table rules, table_store.h for the files.
//
// Thread-safety: Start/Stop from one thread; the accessors are safe from any thread
// after Start.
#ifndef TESSERA_CONFIGSERVER_CONFIG_SERVER_H_
#define TESSERA_CONFIGSERVER_CONFIG_SERVER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/proto/cluster.pb.h"
#include "common/rpc_server.h"
#include "common/status.h"
#include "configserver/clock.h"
#include "configserver/config_service.h"
#include "configserver/table_store.h"

namespace tessera::cs {

struct ConfigServerOptions {
  // The cluster config: read from config_path unless `config` is set (then it is
  // validated and its defaults filled).
  std::string config_path;
  std::optional<proto::ClusterConfig> config;
  std::string listen_address = "127.0.0.1:0";  // port 0 picks a free port
  std::string data_dir;                        // required
  const Clock* clock = nullptr;                // nullptr: SystemClock; must outlive
  uint32_t tick_interval_ms = 100;             // down detection period
  int io_threads = 2;  // one may wait in an fsync (persisting) while another serves
  // copy_count > 1 needs replication, which is not built yet: the data servers do not
  // forward writes to a bucket's other copies, so a copy promoted when its master is
  // down would hold none of the master's data and its keys would read as not found.
  // Start refuses such a config (InvalidArgument) unless this is set, for tests of
  // the table and promotion logic only.
  bool allow_copies_without_replication = false;
};

class ConfigServer {
 public:
  explicit ConfigServer(ConfigServerOptions options);
  ~ConfigServer();  // Stops.
  ConfigServer(const ConfigServer&) = delete;
  ConfigServer& operator=(const ConfigServer&) = delete;

  // Loads the config and the persisted state, starts serving and ticking.
  // REQUIRES: called at most once.
  Status Start();
  // Stops ticking and serving; releases data_dir. Idempotent.
  void Stop();

  // The bound "host:port" (after a successful Start).
  std::string address() const;
  uint16_t port() const;
  // The running service (after a successful Start), e.g. to tick it in tests.
  ConfigService* service() { return service_.get(); }
  const proto::ClusterConfig& config() const { return config_; }

 private:
  void TickerLoop();

  const ConfigServerOptions options_;
  proto::ClusterConfig config_;
  std::unique_ptr<TableStore> store_;
  std::unique_ptr<ConfigService> service_;
  std::unique_ptr<RpcServer> rpc_;
  std::string address_;

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool stopping_ = false;  // protected by ticker_mu_
  std::thread ticker_;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_CONFIG_SERVER_H_
