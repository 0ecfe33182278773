// LocalCluster: starts real `configserver` and `dataserver` processes on 127.0.0.1
// free ports with a temp directory, for integration tests; kills and restarts them;
// reads the table and node list over RPC. Everything it started is SIGKILLed and its
// directory removed on destruction.
//
// Thread-compatible: drive it from the test's main thread.
#ifndef TESSERA_TESTS_CLUSTER_LOCAL_CLUSTER_H_
#define TESSERA_TESTS_CLUSTER_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "common/rpc_channel.h"
#include "common/status.h"
#include "tessera/client.h"

namespace tessera::testing {

struct ClusterSpec {
  int data_servers = 3;
  uint32_t bucket_count = 64;
  uint32_t copy_count = 1;
  uint32_t heartbeat_interval_ms = 100;
  // Not less: on a loaded 2-vCPU machine a heartbeat can be late by a second (the
  // config server answers heartbeats under the lock it holds while it fsyncs a new
  // table), and a node wrongly marked DOWN mid-migration changes the plan.
  uint32_t server_down_time_ms = 3000;
  std::string admin_token = "test-token";
  // Extra lines appended to cluster.conf (e.g. area_quotas { ... }).
  std::string extra_conf;
  // Extra flags for every data server.
  std::vector<std::string> data_server_flags;
};

class LocalCluster {
 public:
  LocalCluster();
  ~LocalCluster();

  // Starts everything and waits until the config server serves a table in which
  // every data server is up. On failure the message includes the processes' logs.
  Status Start(const ClusterSpec& spec);

  const std::string& config_server() const { return cs_.address; }
  // Opens a client of this cluster: 3 s per call, at most `max_attempts` tries per
  // call (tests that move buckets under a client need many).
  client::Status OpenClient(uint32_t max_attempts, std::unique_ptr<client::Client>* out) const;
  const std::string& data_server(int i) const { return ds_[i].address; }
  const std::string& dir() const { return dir_; }
  const ClusterSpec& spec() const { return spec_; }

  // SIGKILL (or another signal) and reap.
  void KillDataServer(int i, int signal = 9);
  Status RestartDataServer(int i);
  void KillConfigServer(int signal = 9);
  Status RestartConfigServer();
  bool DataServerRunning(int i) const { return ds_[i].pid > 0; }
  // Starts one more data server that is not in cluster.conf (it heartbeats as a
  // non-member until an admin adds it). Sets *index for data_server(i).
  Status StartExtraDataServer(int* index);
  int data_server_count() const { return static_cast<int>(ds_.size()); }
  // Starts an extra data server (as above) and waits until the config server lists
  // it; sets *address. Unavailable when it is not heard within 10 s.
  Status StartExtraDataServerAndWait(std::string* address);
  // Sends an admin request with the cluster's token; answers its response code.
  Status Admin(const std::string& add_node, const std::string& remove_node);

  // Admin move_bucket with the cluster's token: bucket's master to `to` (a member).
  Status MoveBucket(uint32_t bucket, const std::string& to);

  // RPCs to the config server.
  Status GetTable(proto::Table* table);
  Status ListNodes(proto::ListNodesResponse* nodes);
  // The config server's entry for the node at `address`; false when it cannot be
  // asked or does not list that node. *table_version (when given) is the config
  // server's current table version.
  bool FindNode(const std::string& address, proto::NodeInfo* info,
                uint64_t* table_version = nullptr);
  Status MigrationStatus(proto::MigrationStatusResponse* status);
  // Waits until no migration runs (status says so and the table has no destination).
  bool WaitMigrationDone(std::chrono::milliseconds timeout);
  // One request to any server (by address), answer in *response.
  Status Call(const std::string& address, proto::Request* request, proto::Response* response,
              uint32_t timeout_ms = 2000);

  // Polls `done` every 20 ms until it returns true or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  // The last lines of every process's output (for failure messages).
  std::string Logs() const;

 private:
  // Call to the config server; a response code other than OK is the error.
  Status CallConfigServer(proto::Request* request, proto::Response* response);

  struct Process {
    std::string name;
    std::string address;
    std::vector<std::string> argv;
    pid_t pid = -1;
  };
  Status Launch(Process* p);
  void SetDataServerArgv(Process* p);
  void Kill(Process* p, int signal);
  RpcChannel* ChannelTo(const std::string& address);

  ClusterSpec spec_;
  std::string dir_;
  Process cs_;
  std::vector<Process> ds_;
  std::set<uint16_t> ports_;  // every port this cluster picked
  IoThread io_;
  std::vector<std::unique_ptr<RpcChannel>> channels_;
};

#ifdef TESSERA_CLI_BIN
// Runs the `tessera` CLI with `args` (a shell word list); stdout and stderr together.
struct CliResult {
  int exit_code = -1;
  std::string out;
};
CliResult RunCli(const std::string& args);
#endif

// A free TCP port on 127.0.0.1 (bound and released; another process could take it
// before use, which the tests accept).
uint16_t PickFreePort();

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_CLUSTER_LOCAL_CLUSTER_H_
