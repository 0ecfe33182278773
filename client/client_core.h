// ClientCore: what every call of a Client shares: the cached bucket table,
// Options::connections_per_server RpcChannels per server, single-flight table
// refreshes, timers, and the count of calls in flight.
//
// Thread-safety: thread-safe. Callbacks given to Refresh / RunAfter run on the io
// threads, never inline.
#ifndef TESSERA_CLIENT_CLIENT_CORE_H_
#define TESSERA_CLIENT_CLIENT_CORE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/address.h"
#include "common/bucket_table.h"
#include "common/rpc_channel.h"
#include "common/status.h"
#include "tessera/client.h"

namespace boost::asio {
class io_context;
}

namespace tessera::client {

class ClientCore {
 public:
  // An immutable routing snapshot: the table and, per server index, its channels.
  struct Route {
    std::shared_ptr<const BucketTable> table;
    // per_server channels for each server index, in order; owned by the core and live
    // as long as it.
    std::vector<RpcChannel*> channels;
    uint32_t per_server = 1;

    // The connection to server `server` that carries the calls for `bucket`: always
    // the same one for a bucket, so one key's calls keep their order on the wire.
    RpcChannel* Channel(uint32_t server, uint32_t bucket) const {
      return channels[static_cast<size_t>(server) * per_server + bucket % per_server];
    }
  };

  // `io` must outlive the core and be run by some threads.
  ClientCore(const Options& options, boost::asio::io_context* io);
  // REQUIRES: CloseAndDrain() was called.
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Validates the options and parses the config server addresses. Call once, first.
  Status Init();

  const Options& options() const { return options_; }

  // The current route, or null before the first table arrived.
  std::shared_ptr<const Route> route() const;
  uint64_t table_version() const;

  // Runs `done` (on an io thread) once the cached table is at least `min_version`
  // (without contacting anyone if it already is and !force), or after one fetch from
  // the config servers. A forced refresh within min_refresh_interval_ms of the last
  // fetch reuses that fetch's result. Concurrent refreshes share one fetch. The
  // outcome of the last fetch is last_refresh_error().
  void Refresh(uint64_t min_version, bool force, std::function<void()> done);
  Status last_refresh_error() const;

  // Runs fn on an io thread after delay_ms (0: as soon as possible).
  void RunAfter(uint32_t delay_ms, std::function<void()> fn);

  // Accounting of calls in flight (CloseAndDrain waits for them).
  void OpStarted();
  void OpFinished();
  bool closed() const;

  // Closes every channel (calls in flight fail with Unavailable, later ones at once)
  // and waits until every started call finished.
  // REQUIRES: not on an io thread.
  void CloseAndDrain();

 private:
  // Sends get_table to config server `index`; `tries` servers were asked already.
  void FetchFrom(size_t index, size_t tries);
  void FetchDone(const Status& status);
  // Installs `table` when newer than the cached one.
  void Install(std::shared_ptr<const BucketTable> table);
  // Appends the channels to `address` to *out, creating them on first use (each
  // connects at its first call).
  void ChannelsFor(const std::string& address,
                   std::vector<RpcChannel*>* out);  // EXCLUSIVE_LOCKS_REQUIRED(mu_)

  // Constant after construction (and Init).
  const Options options_;
  boost::asio::io_context* const io_;
  std::vector<std::unique_ptr<RpcChannel>> config_channels_;

  mutable std::mutex mu_;
  // Protected by mu_.
  std::shared_ptr<const Route> route_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<RpcChannel>>> channels_;
  bool fetching_ = false;
  std::vector<std::function<void()>> waiters_;
  std::chrono::steady_clock::time_point last_fetch_done_{};
  Status last_refresh_error_ = Status::Unavailable("no table fetched yet");
  size_t preferred_config_server_ = 0;
  bool closed_ = false;
  uint64_t ops_in_flight_ = 0;
  std::condition_variable drained_cv_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_CLIENT_CORE_H_
