// configserver: the Tessera config server.
//
//   configserver --config=cluster.conf --listen=127.0.0.1:7100 --data_dir=./run/cs
//
// Exit status: 0 after SIGTERM/SIGINT; 2 on bad flags, a bad cluster.conf, or a
// cluster.conf that contradicts the persisted table; 1 when the server cannot start
// otherwise (data_dir locked or corrupt, address in use).
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "common/cluster_config.h"
#include "configserver/config_server.h"

DEFINE_string(config, "",
              "Path of cluster.conf (protobuf text format, message tessera.proto.ClusterConfig: "
              "cluster_name, bucket_count, copy_count, data_servers, min_data_server_count, "
              "heartbeat_interval_ms, server_down_time_ms, area_quotas, admin_token). Required.");
DEFINE_string(listen, "127.0.0.1:7100",
              "HOST:PORT to serve the config RPCs on (get_table, heartbeat, list_nodes, admin). "
              "Port 0 picks a free port (printed in the \"serving\" log line).");
DEFINE_string(data_dir, "",
              "Directory for the persisted table and admin membership changes "
              "(CONFIGSERVER_STATE, CONFIGSERVER_STATE.log, LOCK). Created if missing; one "
              "config server per directory. Required.");
DEFINE_uint32(tick_interval_ms, 100,
              "How often down detection runs, in ms (1..1000). A silent data server is marked "
              "down within server_down_time_ms + tick_interval_ms.");
DEFINE_int32(io_threads, 2, "Threads serving RPCs (1..64). With 2, table reads and heartbeats are "
             "answered while another thread persists a new table (an fsync).");

static bool ValidateTick(const char*, uint32_t v) { return v >= 1 && v <= 1000; }
DEFINE_validator(tick_interval_ms, &ValidateTick);
static bool ValidateIoThreads(const char*, int32_t v) { return v >= 1 && v <= 64; }
DEFINE_validator(io_threads, &ValidateIoThreads);

namespace {

int WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "the Tessera config server: tracks data server membership through heartbeats, "
      "builds and persists the versioned bucket table, serves it to data servers and "
      "clients.\n  configserver --config=FILE --listen=HOST:PORT --data_dir=DIR");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = FLAGS_logtostderr || FLAGS_log_dir.empty();
  google::InitGoogleLogging(argv[0]);

  if (argc > 1) {
    std::fprintf(stderr, "configserver: unexpected argument '%s' (see --help)\n", argv[1]);
    return 2;
  }
  if (FLAGS_config.empty()) {
    std::fprintf(stderr, "configserver: --config=FILE is required (see --help)\n");
    return 2;
  }
  if (FLAGS_data_dir.empty()) {
    std::fprintf(stderr, "configserver: --data_dir=DIR is required (see --help)\n");
    return 2;
  }
  tessera::proto::ClusterConfig config;
  tessera::Status s = tessera::LoadClusterConfig(FLAGS_config, &config);
  if (!s.ok()) {
    std::fprintf(stderr, "configserver: %s\n", s.message().c_str());
    return 2;
  }

  // Block the stop signals in every thread (those started below inherit the mask),
  // so that only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  tessera::cs::ConfigServerOptions options;
  options.config = config;
  options.listen_address = FLAGS_listen;
  options.data_dir = FLAGS_data_dir;
  options.tick_interval_ms = FLAGS_tick_interval_ms;
  options.io_threads = FLAGS_io_threads;
  tessera::cs::ConfigServer server(options);
  s = server.Start();
  if (!s.ok()) {
    LOG(ERROR) << "configserver: cannot start: " << s.ToString();
    std::fprintf(stderr, "configserver: cannot start: %s\n", s.ToString().c_str());
    // A bad --listen or a cluster.conf that contradicts the persisted table is a usage
    // error (2); an unusable data_dir or address in use is a start failure (1).
    return s.code() == tessera::Code::kInvalidArgument ? 2 : 1;
  }
  LOG(INFO) << "configserver " << server.address() << " serving (cluster "
            << server.config().cluster_name() << ", data_dir " << FLAGS_data_dir
            << ", table version " << server.service()->table_version() << ")";
  const int sig = WaitForStopSignal();
  LOG(INFO) << "configserver: " << strsignal(sig) << ", stopping";
  server.Stop();
  LOG(INFO) << "configserver: stopped";
  return 0;
}
