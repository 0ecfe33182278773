#include "migration/cleanup_scheduler.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include "common/thread_name.h"

namespace tessera::migration {

Status ParseCleanupWindow(const std::string& text, int* start, int* end) {
  *start = -1;
  *end = -1;
  if (text.empty()) return Status::OK();
  auto hour = [](const std::string& t, int* out) {
    if (t.empty() || t.size() > 2) return false;
    int v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 23) return false;
    *out = v;
    return true;
  };
  const size_t dash = text.find('-');
  int s = 0, e = 0;
  if (dash == std::string::npos || !hour(text.substr(0, dash), &s) ||
      !hour(text.substr(dash + 1), &e)) {
    return Status::InvalidArgument("cleanup window '" + text + "' is not HH-HH (00..23)");
  }
  if (s != e) {
    *start = s;
    *end = e;
  }
  return Status::OK();
}

CleanupScheduler::CleanupScheduler(CleanupOptions options, BucketStore* store)
    : options_(std::move(options)), store_(store) {}

CleanupScheduler::~CleanupScheduler() { Stop(); }

void CleanupScheduler::Start() {
  std::vector<ReclaimTicket> persisted = store_->PendingReclaims();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (thread_.joinable() || stop_) return;
    paused_ = store_->CleanupPaused();
  }
  for (const ReclaimTicket& t : persisted) Enqueue(t);
  if (!persisted.empty()) {
    LOG(INFO) << "cleanup: " << persisted.size() << " reclaimed buckets from before a restart";
  }
  std::lock_guard<std::mutex> l(mu_);
  thread_ = std::thread([this] { Run(); });
}

void CleanupScheduler::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CleanupScheduler::EnqueueLocked(const ReclaimTicket& ticket, bool front) {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [&](const ReclaimTicket& t) { return t.bucket == ticket.bucket; });
  ReclaimTicket merged = ticket;
  if (it != queue_.end()) {
    merged.sequence = std::max(it->sequence, ticket.sequence);
    merged.limit_filenumber = std::max(it->limit_filenumber, ticket.limit_filenumber);
    if (!front) {
      *it = merged;
    } else {
      queue_.erase(it);
    }
  }
  if (front) {
    queue_.push_front(merged);
  } else if (it == queue_.end()) {
    queue_.push_back(merged);
  }
  BucketInfo& info = seen_[ticket.bucket];
  info.bucket = ticket.bucket;
  info.phase = BucketPhase::kQueued;
}

bool CleanupScheduler::QueuedLocked(uint32_t bucket) const {
  return std::any_of(queue_.begin(), queue_.end(),
                     [&](const ReclaimTicket& t) { return t.bucket == bucket; });
}

void CleanupScheduler::Enqueue(const ReclaimTicket& ticket) {
  {
    std::lock_guard<std::mutex> l(mu_);
    EnqueueLocked(ticket, /*front=*/false);
  }
  cv_.notify_all();
}

void CleanupScheduler::RunNow(const std::vector<ReclaimTicket>& tickets) {
  {
    std::lock_guard<std::mutex> l(mu_);
    // Reverse order so that the first ticket ends up first.
    for (auto it = tickets.rbegin(); it != tickets.rend(); ++it) {
      EnqueueLocked(*it, /*front=*/true);
      forced_.insert(it->bucket);
    }
  }
  if (!tickets.empty()) LOG(INFO) << "cleanup: " << tickets.size() << " buckets to run now";
  cv_.notify_all();
}

std::vector<CleanupScheduler::BucketInfo> CleanupScheduler::buckets() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<BucketInfo> out;
  out.reserve(seen_.size());
  for (const auto& [b, info] : seen_) out.push_back(info);
  return out;
}

const char* CleanupScheduler::PhaseName(BucketPhase phase) {
  switch (phase) {
    case BucketPhase::kQueued:
      return "queued";
    case BucketPhase::kRunning:
      return "running";
    case BucketPhase::kDone:
      return "done";
  }
  return "unknown";
}

Status CleanupScheduler::Pause() {
  Status s = store_->SetCleanupPaused(true);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> l(mu_);
    paused_ = true;
  }
  LOG(INFO) << "cleanup paused";
  return Status::OK();
}

Status CleanupScheduler::Resume() {
  Status s = store_->SetCleanupPaused(false);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> l(mu_);
    paused_ = false;
  }
  cv_.notify_all();
  LOG(INFO) << "cleanup resumed";
  return Status::OK();
}

bool CleanupScheduler::paused() const {
  std::lock_guard<std::mutex> l(mu_);
  return paused_;
}

CleanupScheduler::Stats CleanupScheduler::stats() const {
  Stats s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s.pending = queue_.size() + (running_one_ ? 1 : 0);
  }
  s.buckets_cleaned = buckets_cleaned_.load();
  s.bytes_freed = bytes_freed_.load();
  s.bytes_written = bytes_written_.load();
  return s;
}

bool CleanupScheduler::WaitIdle(uint32_t timeout_ms) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
                      [&] { return queue_.empty() && !running_one_; });
}

bool CleanupScheduler::InWindow() const {
  if (options_.window_start < 0) return true;
  int hour = 0;
  if (options_.hour_now) {
    hour = options_.hour_now();
  } else {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    hour = tm.tm_hour;
  }
  const int s = options_.window_start, e = options_.window_end;
  return s < e ? (hour >= s && hour < e) : (hour >= s || hour < e);
}

void CleanupScheduler::Run() {
  SetCurrentThreadName("cleanup");
  std::unique_lock<std::mutex> l(mu_);
  // The front ticket may run now: not paused, and inside the window and not held,
  // or forced.
  bool held = false;
  std::optional<std::chrono::steady_clock::time_point> held_since;  // the hold is on
  auto runnable = [&] {
    if (queue_.empty() || paused_) return false;
    if (forced_.count(queue_.front().bucket) > 0) return true;
    held = options_.hold && options_.hold();
    const auto now = std::chrono::steady_clock::now();
    if (!held) {
      held_since.reset();
    } else if (!held_since) {
      held_since = now;
    } else if (now - *held_since > std::chrono::milliseconds(options_.max_hold_ms)) {
      held = false;  // held too long: clean up anyway
    }
    return !held && InWindow();
  };
  while (!stop_) {
    if (!runnable()) {
      // Outside the window the hour is checked again every few seconds; a hold more
      // often.
      const auto poll = held ? std::chrono::milliseconds(options_.hold_poll_ms)
                             : std::chrono::milliseconds(5000);
      cv_.wait_for(l, poll, [&] { return stop_ || runnable(); });
      continue;
    }
    ReclaimTicket t = queue_.front();
    queue_.pop_front();
    forced_.erase(t.bucket);
    running_one_ = true;
    seen_[t.bucket].phase = BucketPhase::kRunning;
    l.unlock();
    const auto start = std::chrono::steady_clock::now();
    CleanupResult r;
    Status s = store_->CompactBucket(t, &r);
    if (s.ok()) s = store_->RetireReclaim(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    l.lock();
    running_one_ = false;
    BucketInfo& info = seen_[t.bucket];
    if (s.ok()) {
      buckets_cleaned_.fetch_add(1);
      bytes_freed_.fetch_add(r.bytes_freed);
      bytes_written_.fetch_add(r.bytes_written);
      info.bytes_freed = r.bytes_freed;
      // Queued again meanwhile (a newer reclaim): it stays queued.
      info.phase = QueuedLocked(t.bucket) ? BucketPhase::kQueued : BucketPhase::kDone;
      LOG(INFO) << "cleanup: bucket " << t.bucket << " done in " << ms << " ms: "
                << r.files_compacted << " files, " << r.bytes_read << " bytes read, "
                << r.bytes_written << " written, " << r.bytes_freed << " freed";
    } else {
      LOG(WARNING) << "cleanup: bucket " << t.bucket << " failed: " << s.ToString()
                   << " (retried later)";
      info.phase = BucketPhase::kQueued;
      if (!stop_ && !QueuedLocked(t.bucket)) queue_.push_back(t);
    }
    cv_.notify_all();
    // Buckets asked for now run back to back.
    const bool next_forced = !queue_.empty() && forced_.count(queue_.front().bucket) > 0;
    uint32_t pause = s.ok() ? options_.pause_ms : std::max<uint32_t>(options_.pause_ms, 1000);
    if (s.ok() && next_forced) pause = 0;
    if (pause > 0 && !stop_) {
      cv_.wait_for(l, std::chrono::milliseconds(pause), [&] { return stop_; });
    }
  }
}

}  // namespace tessera::migration
