// cluster_bench: load generator for a running Tessera cluster (client SDK, async
// calls, a fixed number of requests in flight). Prints ops/s, latency percentiles and
// errors by code.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "bench_runner.h"
#include "common/cpu_times.h"
#include "tessera/client.h"

DEFINE_string(config_servers, "127.0.0.1:7100", "Comma-separated host:port of the config servers.");
DEFINE_uint32(threads, 1, "Client io threads (they run the network loop and issue the calls).");
DEFINE_uint32(client_slice_us, tessera::client::Options().io_thread_slice_us,
              "Time slice of the client's io threads, us (client::Options::io_thread_slice_us; "
              "0 = the kernel's default).");
DEFINE_uint32(connections, tessera::client::Options().connections_per_server,
              "TCP connections to each data server (client::Options::connections_per_server).");
DEFINE_uint32(inflight, 50, "Requests in flight in total.");
DEFINE_double(mix, 0.5, "Fraction of puts: 0 = gets only, 1 = puts only.");
DEFINE_uint64(keys, 100000, "Number of distinct keys (chosen uniformly).");
DEFINE_uint64(value_size, 100, "Bytes per value.");
DEFINE_uint32(ttl, 0, "TTL of written keys in seconds (0 = never expire).");
DEFINE_uint32(area, 0, "Area (namespace).");
DEFINE_double(duration_s, 10, "Measured seconds (ignored when --ops is set).");
DEFINE_uint64(ops, 0, "Measured operations (0: run for --duration_s).");
DEFINE_double(warmup_s, 1, "Unmeasured seconds before the measurement.");
DEFINE_bool(load, false, "Put every key once before the run (use before a get run).");
DEFINE_uint32(timeout_ms, 2000, "Deadline per call.");
DEFINE_uint64(seed, 301, "Random seed of key choice.");

static bool ValidateMix(const char*, double v) { return v >= 0 && v <= 1; }
DEFINE_validator(mix, &ValidateMix);
static bool ValidatePositive(const char*, uint32_t v) { return v > 0; }
DEFINE_validator(inflight, &ValidatePositive);
DEFINE_validator(threads, &ValidatePositive);
static bool ValidateKeys(const char*, uint64_t v) { return v > 0; }
DEFINE_validator(keys, &ValidateKeys);

namespace {

using tessera::bench::LatencyHistogram;
using tessera::bench::PhaseReport;

std::string LatencyLine(const char* name, const LatencyHistogram& h, double seconds) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "  %-5s %10.0f ops/s  avg %6.0f  p50 %6llu  p99 %6llu  p999 %6llu  max %7llu us",
                name, seconds > 0 ? static_cast<double>(h.count()) / seconds : 0.0, h.Average(),
                static_cast<unsigned long long>(h.Percentile(0.50)),
                static_cast<unsigned long long>(h.Percentile(0.99)),
                static_cast<unsigned long long>(h.Percentile(0.999)),
                static_cast<unsigned long long>(h.max()));
  return buf;
}

void Print(const char* phase, const PhaseReport& r) {
  std::printf("%s: %llu ops in %.2f s = %.0f ops/s\n", phase,
              static_cast<unsigned long long>(r.ops), r.seconds,
              r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0.0);
  if (r.gets.count() > 0) std::printf("%s\n", LatencyLine("get", r.gets, r.seconds).c_str());
  if (r.puts.count() > 0) std::printf("%s\n", LatencyLine("put", r.puts, r.seconds).c_str());
  if (r.gets.count() > 0 && r.puts.count() > 0) {
    std::printf("%s\n", LatencyLine("all", r.all, r.seconds).c_str());
  }
  std::string errors;
  for (size_t i = 0; i < r.errors.size(); ++i) {
    if (r.errors[i] == 0) continue;
    errors += ' ';
    errors += tessera::client::CodeName(static_cast<tessera::client::Code>(i));
    errors += '=';
    errors += std::to_string(r.errors[i]);
  }
  std::printf("  errors:%s\n", errors.empty() ? " none" : errors.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 1;
  gflags::SetUsageMessage(
      "cluster_bench --config_servers=HOST:PORT [--threads=1 --inflight=50 --mix=0.5 "
      "--keys=100000 --value_size=100 --ttl=0 --duration_s=10 | --ops=N --warmup_s=1 --load "
      "--area=0]\nRuns gets and puts against a running cluster and prints ops/s, "
      "p50/p99/p999 latency (us) and errors by code.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);

  tessera::client::Options options;
  options.config_servers.clear();
  std::stringstream ss(FLAGS_config_servers);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) options.config_servers.push_back(item);
  }
  options.io_threads = FLAGS_threads;
  options.io_thread_slice_us = FLAGS_client_slice_us;
  options.connections_per_server = FLAGS_connections;
  options.timeout_ms = FLAGS_timeout_ms;
  std::unique_ptr<tessera::client::Client> client;
  tessera::client::Status s = tessera::client::Client::Open(options, &client);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot open the cluster: %s\n", s.ToString().c_str());
    return 1;
  }
  const tessera::client::TableInfo table = client->table();
  std::printf("cluster_bench: table version %llu, %zu servers, %u buckets; %u in flight, %u io "
              "threads, %u connections per server, mix %.2f puts, %llu keys, %llu-byte "
              "values, ttl %u\n",
              static_cast<unsigned long long>(table.version), table.servers.size(),
              table.bucket_count, FLAGS_inflight, FLAGS_threads, FLAGS_connections, FLAGS_mix,
              static_cast<unsigned long long>(FLAGS_keys),
              static_cast<unsigned long long>(FLAGS_value_size), FLAGS_ttl);

  tessera::bench::BenchOptions bo;
  bo.inflight = FLAGS_inflight;
  bo.put_fraction = FLAGS_mix;
  bo.keys = FLAGS_keys;
  bo.value_size = FLAGS_value_size;
  bo.ttl_seconds = FLAGS_ttl;
  bo.area = FLAGS_area;
  bo.duration_s = FLAGS_duration_s;
  bo.ops = FLAGS_ops;
  bo.warmup_s = FLAGS_warmup_s;
  bo.load = FLAGS_load;
  bo.seed = FLAGS_seed;
  tessera::bench::BenchRunner runner(client.get(), bo);
  if (bo.load) Print("load", runner.Load());
  tessera::CpuTimes cpu_before, cpu_after;
  const bool cpu_ok = tessera::CpuTimes::Read(&cpu_before);
  PhaseReport r = runner.Run();
  Print("run", r);
  // The whole machine during the run, warmup included: on a shared VM a round that
  // lost CPU time to the hypervisor (steal) measures the host more than Tessera.
  if (cpu_ok && tessera::CpuTimes::Read(&cpu_after)) {
    const tessera::CpuShare c = tessera::CpuShareBetween(cpu_before, cpu_after);
    if (c.busy_pct >= 0) {
      std::printf("  machine cpu: busy %.0f %% steal %.1f %%\n", c.busy_pct, c.steal_pct);
    }
  }
  uint64_t errors = 0;
  for (uint64_t e : r.errors) errors += e;
  return errors == 0 ? 0 : 3;
}
