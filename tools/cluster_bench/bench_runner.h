// BenchRunner: drives a Tessera cluster through the client SDK's async calls with a
// fixed number of requests in flight, and measures throughput and latency.
//
// Each of the `inflight` slots is a chain: one call at a time, the next issued from
// the previous one's callback, so a few io threads keep many requests in flight.
// Thread-safety: Run() from one thread; the slots run on the client's io threads.
#ifndef TESSERA_TOOLS_CLUSTER_BENCH_BENCH_RUNNER_H_
#define TESSERA_TOOLS_CLUSTER_BENCH_BENCH_RUNNER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latency_histogram.h"
#include "tessera/client.h"

namespace tessera::bench {

struct BenchOptions {
  uint32_t inflight = 50;      // requests in flight in total
  double put_fraction = 0.5;   // 0: gets only, 1: puts only
  uint64_t keys = 100000;      // keys "key0000000000" .. keys-1
  size_t value_size = 100;
  uint32_t ttl_seconds = 0;
  uint32_t area = 0;
  double duration_s = 10;      // measured time (ignored when ops > 0)
  uint64_t ops = 0;            // measured operations (0: run for duration_s)
  double warmup_s = 1;         // run unmeasured first
  bool load = false;           // put every key once before the run
  uint64_t seed = 301;
};

struct PhaseReport {
  double seconds = 0;
  uint64_t ops = 0;
  LatencyHistogram gets, puts, all;
  std::array<uint64_t, 16> errors{};  // by client::Code
};

class BenchRunner {
 public:
  // `client` must outlive the runner.
  BenchRunner(client::Client* client, BenchOptions options);
  ~BenchRunner();

  // Puts every key once (all slots in parallel). Returns the phase's figures.
  PhaseReport Load();
  // Warm-up, then the measured run.
  PhaseReport Run();

  static std::string Key(uint64_t n);

  struct Slot;

 private:
  PhaseReport RunPhase(bool load, double seconds, uint64_t ops, double warmup_s);

  client::Client* const client_;
  const BenchOptions options_;
  const std::string value_;
};

}  // namespace tessera::bench

#endif  // TESSERA_TOOLS_CLUSTER_BENCH_BENCH_RUNNER_H_
