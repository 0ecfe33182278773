// HeartbeatClient: tells the config servers that this data server is alive, and
// learns the bucket table from their answers.
//
// Every interval_ms (and after FetchNow: at once, but at least min_fetch_gap_ms after
// the previous heartbeat, or min_urgent_fetch_gap_ms for an urgent one) it sends
// HeartbeatRequest{address, table_version, ready, stats} to the config servers, trying
// each in turn (starting with the last one that answered) until one answers OK. A
// table in the response is validated with BucketTable::FromProto and adopted only if
// its version is newer than the one we have; on_table is then called (on the
// heartbeat thread). Invalid tables are logged and ignored.
//
// Thread-safe. Callbacks run on the client's own thread and must not call Stop.
#ifndef TESSERA_DATASERVER_HEARTBEAT_CLIENT_H_
#define TESSERA_DATASERVER_HEARTBEAT_CLIENT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/address.h"
#include "common/bucket_table.h"
#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "common/rpc_channel.h"

namespace tessera::ds {

struct HeartbeatClientOptions {
  std::string self_address;                // our identity ("host:port")
  std::vector<HostPort> config_servers;    // at least one
  uint32_t interval_ms = 1000;
  uint32_t rpc_timeout_ms = 1000;          // per config server attempt
  uint32_t min_fetch_gap_ms = 20;          // FetchNow never heartbeats more often
  // FetchNow(urgent): requests are held for the table (RequestHandler), so the
  // fetch goes out as soon as this gap allows. Bounds the heartbeats a client stamping
  // bogus versions can cause.
  uint32_t min_urgent_fetch_gap_ms = 2;
};

class HeartbeatClient {
 public:
  struct Callbacks {
    std::function<proto::ServerStats()> stats;  // may be empty
    std::function<bool()> ready;                // may be empty (= ready)
    std::function<void(std::shared_ptr<const BucketTable>)> on_table;
    // The table version we serve (0 = none); when empty, the last adopted one.
    std::function<uint64_t()> table_version;
  };

  HeartbeatClient(HeartbeatClientOptions options, Callbacks callbacks);
  ~HeartbeatClient();  // Stops
  HeartbeatClient(const HeartbeatClient&) = delete;
  HeartbeatClient& operator=(const HeartbeatClient&) = delete;

  // Starts the heartbeat thread (the first heartbeat goes out at once).
  void Start();
  // Joins the thread. Idempotent.
  void Stop();
  // Asks for an early heartbeat (e.g. a request carried a newer table version);
  // `urgent` when requests wait for its answer.
  void FetchNow(bool urgent = false);

  uint64_t adopted_version() const { return adopted_version_.load(); }
  uint64_t heartbeats_answered() const { return answered_.load(); }

 private:
  void Run();
  // One heartbeat round; true when some config server answered.
  bool Beat();

  // Constant after construction.
  const HeartbeatClientOptions options_;
  const Callbacks callbacks_;

  IoThread io_{1, "heartbeat-io"};
  std::vector<std::unique_ptr<RpcChannel>> channels_;  // one per config server
  size_t next_ = 0;                                    // heartbeat thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  bool fetch_now_ = false;  // guarded by mu_
  bool urgent_ = false;     // guarded by mu_
  // FetchNow's lock-free filters (one for each kind of fetch).
  std::atomic<bool> fetch_pending_{false}, urgent_pending_{false};
  std::thread thread_;

  std::atomic<uint64_t> adopted_version_{0};
  std::atomic<uint64_t> answered_{0};
  bool was_answering_ = true;  // heartbeat thread only (log transitions once)
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_HEARTBEAT_CLIENT_H_
