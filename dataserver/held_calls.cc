#include "dataserver/held_calls.h"

#include <algorithm>
#include <utility>

#include "common/thread_name.h"

namespace tessera::ds {

HeldCalls::HeldCalls(size_t limit, Resume resume)
    : limit_(std::max<size_t>(limit, 1)), resume_(std::move(resume)) {
  timer_ = std::thread([this] { TimerLoop(); });
}

HeldCalls::~HeldCalls() { ReleaseAll(); }

bool HeldCalls::HoldForTable(uint64_t version, uint32_t hold_ms,
                             std::unique_ptr<ServerCall>* call) {
  return Hold(Wait::kTable, version, hold_ms, call);
}

bool HeldCalls::HoldForBucket(uint32_t bucket, uint32_t hold_ms,
                              std::unique_ptr<ServerCall>* call) {
  return Hold(Wait::kBucket, bucket, hold_ms, call);
}

bool HeldCalls::Hold(Wait wait, uint64_t value, uint32_t hold_ms,
                     std::unique_ptr<ServerCall>* call) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(hold_ms);
  bool earliest = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_ || held_.size() >= limit_) return false;
    earliest = std::all_of(held_.begin(), held_.end(),
                           [&](const Held& h) { return deadline < h.deadline; });
    held_.push_back(Held{wait, value, deadline, std::move(*call)});
  }
  if (earliest) cv_.notify_all();
  return true;
}

template <typename Pred>
void HeldCalls::Release(Pred pred) {
  std::vector<std::unique_ptr<ServerCall>> resumed;
  {
    std::lock_guard<std::mutex> l(mu_);
    // Stable: calls held for the same event resume in the order they arrived.
    auto keep = std::stable_partition(held_.begin(), held_.end(),
                                      [&](const Held& h) { return !pred(h); });
    for (auto it = keep; it != held_.end(); ++it) resumed.push_back(std::move(it->call));
    held_.erase(keep, held_.end());
  }
  for (std::unique_ptr<ServerCall>& call : resumed) resume_(std::move(call));
}

void HeldCalls::TableInstalled(uint64_t version) {
  Release([version](const Held& h) { return h.wait == Wait::kTable && h.value <= version; });
}

void HeldCalls::BucketUnfenced(uint32_t bucket) {
  Release([bucket](const Held& h) { return h.wait == Wait::kBucket && h.value == bucket; });
}

void HeldCalls::ReleaseAll() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  {
    // The timer may be resuming expired calls: once this returns, every call held
    // before it has been resumed (a server stopping next must not lose an answer).
    std::lock_guard<std::mutex> l(join_mu_);
    if (timer_.joinable()) timer_.join();
  }
  Release([](const Held&) { return true; });
}

size_t HeldCalls::held() const {
  std::lock_guard<std::mutex> l(mu_);
  return held_.size();
}

uint64_t HeldCalls::expired() const {
  std::lock_guard<std::mutex> l(mu_);
  return expired_;
}

void HeldCalls::TimerLoop() {
  SetCurrentThreadName("ds-held");
  std::unique_lock<std::mutex> l(mu_);
  while (!stopped_) {
    if (held_.empty()) {
      cv_.wait(l);
      continue;
    }
    Clock::time_point earliest = held_.front().deadline;
    for (const Held& h : held_) earliest = std::min(earliest, h.deadline);
    if (Clock::now() < earliest) {
      cv_.wait_until(l, earliest);
      continue;
    }
    l.unlock();
    const Clock::time_point now = Clock::now();
    size_t n = 0;
    Release([&](const Held& h) {
      if (h.deadline > now) return false;
      ++n;
      return true;
    });
    l.lock();
    expired_ += n;
  }
}

}  // namespace tessera::ds
