#include "steady_load.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <random>
#include <utility>

#include "common/bucket_hash.h"

namespace tessera::mbench {
namespace {

using Clock = std::chrono::steady_clock;

// The KiB the machine's block devices have read and written since boot.
bool ReadPagesInOut(uint64_t* in_kib, uint64_t* out_kib) {
  std::FILE* f = std::fopen("/proc/vmstat", "r");
  if (f == nullptr) return false;
  char name[64];
  unsigned long long value = 0;
  int found = 0;
  while (found < 2 && std::fscanf(f, "%63s %llu", name, &value) == 2) {
    if (std::strcmp(name, "pgpgin") == 0) {
      *in_kib = value;
      ++found;
    } else if (std::strcmp(name, "pgpgout") == 0) {
      *out_kib = value;
      ++found;
    }
  }
  std::fclose(f);
  return found == 2;
}

uint64_t Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  if (idx >= sorted.size()) idx = sorted.size() - 1;
  return sorted[idx];
}

// The CPU wait of the same threads between two readings; unknown unless the same
// threads are there at both ends (a data server that started or stopped in the window
// makes the sums incomparable).
CpuWait WaitBetween(const RunQueueWait& a, const RunQueueWait& b) {
  CpuWait w;
  if (b.threads == a.threads && b.wait_ns >= a.wait_ns && b.runs > a.runs) {
    const double wait_ns = static_cast<double>(b.wait_ns - a.wait_ns);
    w.ms = wait_ns / 1e6;
    w.us_per_run = wait_ns / 1e3 / static_cast<double>(b.runs - a.runs);
  }
  return w;
}

}  // namespace

uint64_t WindowReport::errors_total() const {
  uint64_t n = 0;
  for (uint64_t e : errors) n += e;
  return n;
}

SteadyLoad::SteadyLoad(client::Client* client, const Dataset* data, SteadyLoadOptions options)
    : client_(client), data_(data), options_(options) {}

SteadyLoad::~SteadyLoad() { Stop(); }

SteadyLoad::Mark SteadyLoad::Mark::Now(const SteadyLoadOptions& options) {
  Mark m;
  m.rq_ok = ReadRunQueueWait(options.watch_process, options.watch_thread, &m.rq);
  m.client_rq_ok = ReadRunQueueWait(options.client_process, options.client_thread, &m.client_rq);
  m.cpu_ok = CpuTimes::Read(&m.cpu);
  m.io_ok = ReadPagesInOut(&m.pgpgin, &m.pgpgout);
  m.when = Clock::now();
  return m;
}

void SteadyLoad::OpenWindow(const std::string& name, const Mark& at) {
  auto w = std::make_unique<Window>();
  w->name = name;
  w->opened = at;
  windows_.push_back(std::move(w));
}

void SteadyLoad::CloseWindow(Window* w, const Mark& at) {
  w->closed_at = at;
  w->closed = true;
}

void SteadyLoad::Start(const std::string& first_window) {
  const Mark at = Mark::Now(options_);  // /proc/stat is read outside mu_
  {
    std::lock_guard<std::mutex> l(mu_);
    OpenWindow(first_window, at);
  }
  pacer_ = std::thread([this] { Pace(); });
}

int SteadyLoad::NextWindow(const std::string& name) {
  const Mark at = Mark::Now(options_);
  std::lock_guard<std::mutex> l(mu_);
  CloseWindow(windows_.back().get(), at);
  OpenWindow(name, at);
  return static_cast<int>(windows_.size()) - 2;
}

void SteadyLoad::Stop() {
  if (!pacer_.joinable()) return;
  stop_ = true;
  pacer_.join();
  std::unique_lock<std::mutex> l(mu_);
  drained_.wait(l, [this] { return in_flight_.load() == 0; });
  // Nothing is issued or finishes any more: the window closes once drained.
  Window* last = windows_.back().get();
  if (!last->closed) CloseWindow(last, Mark::Now(options_));
}

void SteadyLoad::Pace() {
  std::mt19937_64 rng(options_.seed);
  const Clock::time_point start = Clock::now();
  uint64_t issued = 0;  // calls due so far (issued or skipped)
  while (!stop_) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const uint64_t due = static_cast<uint64_t>(elapsed * options_.ops_per_sec);
    int window = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      window = static_cast<int>(windows_.size()) - 1;
    }
    for (; issued < due && !stop_; ++issued) {
      if (in_flight_.load() >= options_.inflight) {
        std::lock_guard<std::mutex> l(mu_);
        ++windows_[window]->skipped;
        continue;
      }
      Issue(window, &rng);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void SteadyLoad::Issue(int window, std::mt19937_64* rng) {
  const uint64_t i = (*rng)() % data_->keys();
  const bool put = std::uniform_real_distribution<double>(0, 1)(*rng) < options_.put_fraction;
  const std::string key = Dataset::Key(i);
  ++in_flight_;
  const Clock::time_point issued = Clock::now();
  if (put) {
    uint64_t salt = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      salt = ++salt_;
    }
    client_->PutAsync(key, data_->Value(i, salt), {},
                      [this, window, i, issued](const client::Status& s, uint32_t) {
                        Done(window, true, i, issued, s);
                      });
  } else {
    client_->GetAsync(key, {},
                      [this, window, i, issued](const client::Status& s, client::Value&&) {
                        Done(window, false, i, issued, s);
                      });
  }
}

void SteadyLoad::Done(int window, bool put, uint64_t key_index, Clock::time_point issued,
                      const client::Status& s) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - issued);
  if (options_.slow_call_us > 0 && static_cast<uint64_t>(us.count()) >= options_.slow_call_us) {
    const std::string key = Dataset::Key(key_index);
    LOG(INFO) << "slow " << (put ? "put " : "get ") << key << " bucket "
              << BucketOf(key, options_.bucket_count) << ": " << us.count() << " us, "
              << s.ToString() << ", issued at unix ms "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch() - us)
                     .count();
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    Window* w = windows_[window].get();
    if (s.ok()) {
      ++(put ? w->puts : w->gets);
      (put ? w->put_latencies_us : w->get_latencies_us)
          .push_back(static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX)));
    } else {
      const size_t code = static_cast<size_t>(s.code());
      ++w->errors[code < w->errors.size() ? code : w->errors.size() - 1];
    }
    // Decrement under mu_ so Stop() cannot miss the wake-up.
    if (--in_flight_ == 0) drained_.notify_all();
  }
}

WindowReport SteadyLoad::Report(int index) {
  WindowReport r;
  std::vector<uint32_t> gets, puts;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (index < 0 || index >= static_cast<int>(windows_.size())) return r;
    const Window& w = *windows_[index];
    r.name = w.name;
    const Clock::time_point end = w.closed ? w.closed_at.when : Clock::now();
    r.seconds = std::chrono::duration<double>(end - w.opened.when).count();
    r.gets = w.gets;
    r.puts = w.puts;
    r.skipped = w.skipped;
    r.errors = w.errors;
    const Mark& a = w.opened;
    const Mark& b = w.closed_at;
    if (w.closed && a.cpu_ok && b.cpu_ok) r.cpu = CpuShareBetween(a.cpu, b.cpu);
    if (w.closed && a.io_ok && b.io_ok && b.pgpgin >= a.pgpgin && b.pgpgout >= a.pgpgout) {
      r.disk_read_mib = static_cast<double>(b.pgpgin - a.pgpgin) / 1024;
      r.disk_written_mib = static_cast<double>(b.pgpgout - a.pgpgout) / 1024;
    }
    if (w.closed && a.rq_ok && b.rq_ok) r.rq_wait = WaitBetween(a.rq, b.rq);
    if (w.closed && a.client_rq_ok && b.client_rq_ok) {
      r.client_rq_wait = WaitBetween(a.client_rq, b.client_rq);
    }
    gets = w.get_latencies_us;
    puts = w.put_latencies_us;
  }
  std::sort(gets.begin(), gets.end());
  std::sort(puts.begin(), puts.end());
  r.get_p99_us = Percentile(gets, 0.99);
  r.put_p99_us = Percentile(puts, 0.99);
  std::vector<uint32_t> lat;
  lat.reserve(gets.size() + puts.size());
  std::merge(gets.begin(), gets.end(), puts.begin(), puts.end(), std::back_inserter(lat));
  r.p50_us = Percentile(lat, 0.50);
  r.p99_us = Percentile(lat, 0.99);
  r.p999_us = Percentile(lat, 0.999);
  r.max_us = lat.empty() ? 0 : lat.back();
  return r;
}

}  // namespace tessera::mbench
