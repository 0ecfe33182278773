#include "bench_runner.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

namespace tessera::bench {

using Clock = std::chrono::steady_clock;

namespace {

uint64_t MicrosSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

// What all slots of one phase share.
struct Shared {
  client::Client* client = nullptr;
  const BenchOptions* options = nullptr;
  const std::string* value = nullptr;
  bool load = false;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> next_load_key{0};
  std::atomic<uint64_t> issued{0};     // measured ops issued (ops mode)
  uint64_t op_limit = 0;               // measured ops to issue; 0 = until stop
  // Calls started in [measure_start, measure_end) (ns since Clock's epoch) are measured.
  std::atomic<int64_t> measure_start_ns{INT64_MAX};
  std::atomic<int64_t> measure_end_ns{INT64_MAX};
  std::mutex mu;
  std::condition_variable cv;
  uint32_t active = 0;  // slots still running; protected by mu
};

}  // namespace

struct BenchRunner::Slot {
  Shared* shared;
  std::mt19937_64 rng;
  // Only this slot's chain touches the figures, one call at a time.
  LatencyHistogram gets, puts;
  std::array<uint64_t, 16> errors{};
  uint64_t measured = 0;
  // 0 idle, 1 issuing, 2 completed while issuing (see Issue()).
  std::atomic<int> state{0};

  // Issues calls until the phase ends. A call that completes inline (before the async
  // call returned) is noticed through `state` and the loop issues the next one,
  // so the stack never grows.
  void Issue() {
    while (true) {
      if (!StartOne()) {
        Finished();
        return;
      }
      if (state.exchange(0) != 2) return;  // the callback will call Issue()
    }
  }

  // Returns false when the phase is over for this slot.
  bool StartOne() {
    const BenchOptions& o = *shared->options;
    if (shared->stop.load(std::memory_order_relaxed)) return false;
    uint64_t key_n;
    bool put;
    if (shared->load) {
      key_n = shared->next_load_key.fetch_add(1, std::memory_order_relaxed);
      if (key_n >= o.keys) return false;
      put = true;
    } else {
      if (shared->op_limit != 0 &&
          Clock::now().time_since_epoch().count() >= shared->measure_start_ns.load() &&
          shared->issued.fetch_add(1, std::memory_order_relaxed) >= shared->op_limit) {
        return false;
      }
      key_n = rng() % o.keys;
      put = o.put_fraction >= 1.0 ||
            (o.put_fraction > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < o.put_fraction);
    }
    client::CallOptions opts;
    opts.area = o.area;
    opts.ttl_seconds = o.ttl_seconds;
    const Clock::time_point start = Clock::now();
    state.store(1);
    const std::string key = Key(key_n);
    if (put) {
      shared->client->PutAsync(key, *shared->value, opts,
                               [this, start](const client::Status& s, uint32_t) { Done(s, true, start); });
    } else {
      shared->client->GetAsync(key, opts, [this, start](const client::Status& s, client::Value&&) {
        Done(s, false, start);
      });
    }
    return true;
  }

  void Done(const client::Status& s, bool put, Clock::time_point start) {
    const int64_t t = start.time_since_epoch().count();
    const bool measured_call = t >= shared->measure_start_ns.load(std::memory_order_relaxed) &&
                               t < shared->measure_end_ns.load(std::memory_order_relaxed);
    if (measured_call) {
      const uint64_t us = MicrosSince(start);
      // NotFound is an answer (a get of a key never written), not an error.
      if (s.ok() || s.IsNotFound()) {
        (put ? puts : gets).Add(us);
        ++measured;
      } else {
        ++errors[static_cast<size_t>(s.code()) & 15];
      }
    }
    if (state.exchange(2) == 1) return;  // the issuing loop continues
    state.store(0);
    Issue();
  }

  void Finished() {
    std::lock_guard<std::mutex> l(shared->mu);
    if (--shared->active == 0) shared->cv.notify_all();
  }
};

BenchRunner::BenchRunner(client::Client* client, BenchOptions options)
    : client_(client), options_(options), value_(options.value_size, 'v') {}

BenchRunner::~BenchRunner() = default;

std::string BenchRunner::Key(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%010llu", static_cast<unsigned long long>(n));
  return buf;
}

PhaseReport BenchRunner::Load() { return RunPhase(true, 0, 0, 0); }

PhaseReport BenchRunner::Run() {
  return RunPhase(false, options_.duration_s, options_.ops, options_.warmup_s);
}

PhaseReport BenchRunner::RunPhase(bool load, double seconds, uint64_t ops, double warmup_s) {
  Shared shared;
  shared.client = client_;
  shared.options = &options_;
  shared.value = &value_;
  shared.load = load;
  std::vector<std::unique_ptr<Slot>> slots;
  for (uint32_t i = 0; i < options_.inflight; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->shared = &shared;
    slot->rng.seed(options_.seed * 1000003 + i);
    slots.push_back(std::move(slot));
  }
  shared.active = options_.inflight;
  if (!load) shared.op_limit = ops;
  const bool timed = !load && ops == 0;
  Clock::time_point begin = Clock::now();
  if (load || warmup_s <= 0) {
    shared.measure_start_ns.store(begin.time_since_epoch().count());
  }
  for (auto& slot : slots) slot->Issue();

  if (!load && warmup_s > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
    begin = Clock::now();
    shared.measure_start_ns.store(begin.time_since_epoch().count());
  }
  Clock::time_point end;
  {
    std::unique_lock<std::mutex> l(shared.mu);
    if (timed) {
      shared.cv.wait_for(l, std::chrono::duration<double>(seconds), [&] { return shared.active == 0; });
      end = Clock::now();
      shared.measure_end_ns.store(end.time_since_epoch().count());
      shared.stop.store(true);
    }
    shared.cv.wait(l, [&] { return shared.active == 0; });
    if (!timed) end = Clock::now();
  }
  PhaseReport report;
  report.seconds = std::chrono::duration<double>(end - begin).count();
  for (auto& slot : slots) {
    report.gets.Merge(slot->gets);
    report.puts.Merge(slot->puts);
    report.ops += slot->measured;
    for (size_t i = 0; i < report.errors.size(); ++i) report.errors[i] += slot->errors[i];
  }
  report.all.Merge(report.gets);
  report.all.Merge(report.puts);
  return report;
}

}  // namespace tessera::bench
