// SteadyLoad: a paced client load (gets and puts over the loaded keys) at a fixed
// rate with at most `inflight` calls outstanding, measured in named windows.
//
// A pacer thread issues the calls that are due (rate * elapsed) every millisecond. A
// call that is due while `inflight` calls are outstanding is skipped and counted, so
// the offered rate never bursts to catch up. Latency is measured per call from issue
// to callback and recorded in the window that was open when the call was issued.
// Thread-safety: thread-safe; the callbacks run on the client's io threads.
#ifndef TESSERA_TOOLS_MIGRATION_BENCH_STEADY_LOAD_H_
#define TESSERA_TOOLS_MIGRATION_BENCH_STEADY_LOAD_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/cpu_times.h"
#include "dataset.h"
#include "run_queue_wait.h"
#include "tessera/client.h"

namespace tessera::mbench {

struct SteadyLoadOptions {
  uint32_t inflight = 16;
  double ops_per_sec = 2000;
  double put_fraction = 0.2;  // overwrites of loaded keys (same value size)
  uint64_t seed = 17;
  // Calls slower than this are logged (LOG(INFO): op, key, bucket, latency, status,
  // when issued); 0 = none. bucket_count is for the bucket in the line.
  uint64_t slow_call_us = 0;
  uint32_t bucket_count = 1023;
  // Whose run-queue wait each window reports (ReadRunQueueWait): the data servers'
  // request threads on this machine.
  std::string watch_process = "dataserver";
  std::string watch_thread = "rpc-io";
  // And the client's own io threads (this process), which take every response: a
  // migration that keeps the CPUs busy delays them too, and all calls in flight with
  // them.
  std::string client_process = "migration_bench";
  std::string client_thread = "io";
};

// How long some threads waited for a CPU in a window, in all and per time they ran
// (-1: unknown).
struct CpuWait {
  double ms = -1, us_per_run = -1;
};

struct WindowReport {
  std::string name;
  double seconds = 0;
  uint64_t gets = 0;
  uint64_t puts = 0;
  uint64_t skipped = 0;  // due while `inflight` calls were outstanding
  std::array<uint64_t, 16> errors{};  // failed calls by client::Code (NotFound included)
  uint64_t p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  uint64_t get_p99_us = 0, put_p99_us = 0;  // the same, per kind of call
  // How busy the whole machine was in the window, and the CPU steal (-1: unknown, or
  // the window is still open).
  CpuShare cpu;
  // What the machine's block devices read and wrote in the window, MiB (/proc/vmstat
  // pgpgin / pgpgout; -1: unknown). Client gets that miss the page cache wait on the
  // disk, behind whatever else reads it then.
  double disk_read_mib = -1, disk_written_mib = -1;
  // How long the watched threads (SteadyLoadOptions::watch_thread) and the client's io
  // threads (client_thread) waited for a CPU in the window.
  CpuWait rq_wait, client_rq_wait;
  uint64_t errors_total() const;
  double ops_per_sec() const { return seconds > 0 ? (gets + puts) / seconds : 0; }
};

class SteadyLoad {
 public:
  // `client` and `data` must outlive the load. REQUIRES: options.inflight > 0,
  // options.ops_per_sec > 0.
  SteadyLoad(client::Client* client, const Dataset* data, SteadyLoadOptions options);
  // Stops (see Stop()).
  ~SteadyLoad();
  SteadyLoad(const SteadyLoad&) = delete;
  SteadyLoad& operator=(const SteadyLoad&) = delete;

  // Starts the pacer with an open window named `first_window`. REQUIRES: not started.
  void Start(const std::string& first_window);
  // Closes the open window and opens a new one; returns the closed window's index.
  int NextWindow(const std::string& name);
  // Stops issuing, waits for the calls in flight, closes the open window.
  void Stop();
  // Figures of window `index` (0 = the first). Complete once the window is closed and
  // its calls have finished (after Stop(), or a few timeouts after NextWindow()).
  WindowReport Report(int index);

 private:
  // A moment a window opens or closes at: the clock and the machine's figures.
  struct Mark {
    std::chrono::steady_clock::time_point when;
    CpuTimes cpu;
    bool cpu_ok = false;  // cpu was read
    uint64_t pgpgin = 0, pgpgout = 0;  // /proc/vmstat, KiB
    bool io_ok = false;
    RunQueueWait rq, client_rq;
    bool rq_ok = false, client_rq_ok = false;
    static Mark Now(const SteadyLoadOptions& options);
  };

  struct Window {
    std::string name;
    Mark opened, closed_at;  // closed_at: once closed
    bool closed = false;
    uint64_t gets = 0, puts = 0, skipped = 0;
    std::array<uint64_t, 16> errors{};
    std::vector<uint32_t> get_latencies_us, put_latencies_us;
  };

  // REQUIRES: mu_ held.
  void OpenWindow(const std::string& name, const Mark& at);
  static void CloseWindow(Window* w, const Mark& at);

  void Pace();
  void Issue(int window, std::mt19937_64* rng);
  void Done(int window, bool put, uint64_t key_index, std::chrono::steady_clock::time_point issued,
            const client::Status& s);

  client::Client* const client_;
  const Dataset* const data_;
  const SteadyLoadOptions options_;

  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> in_flight_{0};
  std::thread pacer_;

  std::mutex mu_;
  std::condition_variable drained_;
  // Protected by mu_.
  std::vector<std::unique_ptr<Window>> windows_;
  uint64_t salt_ = 1;
};

}  // namespace tessera::mbench

#endif  // TESSERA_TOOLS_MIGRATION_BENCH_STEADY_LOAD_H_
