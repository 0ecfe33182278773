#include "dataserver/held_calls.h"

#include <algorithm>
#include <utility>

#include "common/thread_name.h"

namespace tessera::ds {

HeldCalls::HeldCalls(size_t limit, Resume resume)
    : limit_(std::max<size_t>(limit, 1)), resume_(std::move(resume)) {
  thread_ = std::thread([this] { Run(); });
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
void HeldCalls::ReadyLocked(Pred pred) {
  // Stable: calls held for the same event resume in the order they arrived.
  auto keep = std::stable_partition(held_.begin(), held_.end(),
                                    [&](const Held& h) { return !pred(h); });
  for (auto it = keep; it != held_.end(); ++it) ready_.push_back(std::move(it->call));
  held_.erase(keep, held_.end());
}

template <typename Pred>
void HeldCalls::Release(Pred pred) {
  bool any = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    const size_t before = ready_.size();
    ReadyLocked(pred);
    any = ready_.size() > before;
  }
  if (any) cv_.notify_all();
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
  // The thread resumes everything still held before it exits.
  std::lock_guard<std::mutex> l(join_mu_);
  if (thread_.joinable()) thread_.join();
}

size_t HeldCalls::held() const {
  std::lock_guard<std::mutex> l(mu_);
  return held_.size();
}

uint64_t HeldCalls::expired() const {
  std::lock_guard<std::mutex> l(mu_);
  return expired_;
}

void HeldCalls::Run() {
  SetCurrentThreadName("ds-held");
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (stopped_) {
      ReadyLocked([](const Held&) { return true; });
    } else if (ready_.empty()) {
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
      const Clock::time_point now = Clock::now();
      ReadyLocked([&](const Held& h) {
        if (h.deadline > now) return false;
        ++expired_;  // counted before the call is answered
        return true;
      });
    }
    std::vector<std::unique_ptr<ServerCall>> resume;
    resume.swap(ready_);
    const bool last = stopped_;
    l.unlock();
    for (std::unique_ptr<ServerCall>& call : resume) resume_(std::move(call));
    resume.clear();
    l.lock();
    // Stopped: everything held went to ready_ above, and no hold is taken since.
    if (last && ready_.empty() && held_.empty()) return;
  }
}

}  // namespace tessera::ds
