#include "dataserver/orphan_sweeper.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/thread_name.h"
#include "ldb/env.h"

namespace tessera::ds {

namespace {

using Verdict = OrphanSweepDecision::Verdict;

// "3, 7, 12" with at most `max` numbers, then "and N more".
std::string BucketList(const std::vector<uint32_t>& buckets, size_t max = 32) {
  std::string out;
  for (size_t i = 0; i < buckets.size() && i < max; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(buckets[i]);
  }
  if (buckets.size() > max) out += " and " + std::to_string(buckets.size() - max) + " more";
  return out;
}

}  // namespace

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kSweep:
      return "sweep";
    case Verdict::kMigrating:
      return "migration in progress";
    case Verdict::kNotMember:
      return "not in the table";
    case Verdict::kAlreadySwept:
      return "already swept";
    case Verdict::kDisabled:
      return "disabled";
    case Verdict::kOtherIdentity:
      return "data directory of another identity or cluster";
  }
  return "unknown";
}

OrphanSweepDecision DecideOrphanSweep(const BucketTable& table, std::string_view self,
                                      uint64_t last_swept_version) {
  OrphanSweepDecision d;
  const int self_index = table.ServerIndex(self);
  if (self_index < 0) {
    d.verdict = Verdict::kNotMember;
    return d;
  }
  if (table.migrating()) {
    d.verdict = Verdict::kMigrating;
    return d;
  }
  if (table.version() <= last_swept_version) {
    d.verdict = Verdict::kAlreadySwept;
    return d;
  }
  d.verdict = Verdict::kSweep;
  const auto me = static_cast<uint32_t>(self_index);
  for (uint32_t b = 0; b < table.bucket_count(); ++b) {
    bool mine = false, holder_up = false;
    for (uint32_t c : table.Copies(b)) {
      mine = mine || c == me;
      holder_up = holder_up || table.server(c).state() == proto::SERVER_UP;
    }
    if (mine) {
      ++d.held;
    } else if (!holder_up) {
      ++d.holders_down;
    } else {
      d.buckets.push_back(b);
    }
  }
  return d;
}

OrphanSweeper::OrphanSweeper(OrphanSweeperOptions options, OrphanSweeperCallbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

OrphanSweeper::~OrphanSweeper() { Stop(); }

std::string OrphanSweeper::Prefix() const {
  return "dataserver " + options_.self_address + ": orphan sweep";
}

void OrphanSweeper::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable() || stop_) return;
  if (!options_.remembered_address.empty() &&
      options_.remembered_address != options_.self_address) {
    LOG(WARNING) << Prefix() << " is off for this run: the data directory last served as "
                 << options_.remembered_address << " (its data may be the only copy of that "
                 << "server's buckets)";
  }
  thread_ = std::thread([this] { Run(); });
}

void OrphanSweeper::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    pending_.reset();
  }
  stopping_.store(true, std::memory_order_release);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool OrphanSweeper::Foreign(const BucketTable& table) const {
  if (!options_.remembered_address.empty() &&
      options_.remembered_address != options_.self_address) {
    return true;
  }
  return options_.remembered_bucket_count != 0 &&
         (options_.remembered_bucket_count != table.bucket_count() ||
          options_.remembered_cluster != table.proto().cluster_name());
}

void OrphanSweeper::OnTable(std::shared_ptr<const BucketTable> table) {
  if (!table) return;
  const uint64_t version = table->version();
  uint64_t prev = latest_version_.load(std::memory_order_acquire);
  while (prev < version &&
         !latest_version_.compare_exchange_weak(prev, version, std::memory_order_acq_rel)) {
  }
  std::lock_guard<std::mutex> l(mu_);
  if (stop_) return;
  OrphanSweepDecision d;
  if (!options_.enabled) {
    d.verdict = Verdict::kDisabled;
  } else if (Foreign(*table)) {
    d.verdict = Verdict::kOtherIdentity;
  } else {
    d = DecideOrphanSweep(*table, options_.self_address, stats_.swept_version);
  }
  stats_.considered_version = version;
  stats_.verdict = d.verdict;
  if (d.verdict != Verdict::kSweep) {
    // A sweep queued for an older table is superseded (one running notices the newer
    // version and stops).
    pending_.reset();
    VLOG(1) << Prefix() << ": table version " << version << ": not swept ("
            << VerdictName(d.verdict) << ")";
    if (d.verdict == Verdict::kOtherIdentity && !table->migrating()) {
      LOG(WARNING) << Prefix() << ": table version " << version
                   << " not swept: " << VerdictName(d.verdict);
    }
    return;
  }
  VLOG(1) << Prefix() << ": table version " << version << ": " << d.buckets.size()
          << " buckets held elsewhere to check (" << d.held << " held here, " << d.holders_down
          << " with every holder down kept)";
  auto job = std::make_unique<Job>();
  job->table = std::move(table);
  job->buckets = std::move(d.buckets);
  pending_ = std::move(job);
  cv_.notify_all();
}

void OrphanSweeper::Run() {
  SetCurrentThreadName("orphan-sweep");
  if (options_.nice > 0) ldb::LowerCurrentThreadPriority(options_.nice);
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stop_ || pending_ != nullptr; });
    if (stop_) break;
    std::unique_ptr<Job> job = std::move(pending_);
    running_ = true;
    l.unlock();
    Sweep(*job);
    l.lock();
    running_ = false;
    cv_.notify_all();
  }
}

bool OrphanSweeper::WaitUntilNotDeferred(uint64_t version) {
  if (!callbacks_.defer) return true;
  bool logged = false;
  while (callbacks_.defer()) {
    if (!logged) {
      VLOG(1) << Prefix() << " of table version " << version
              << " deferred until the pending cleanups finish";
      logged = true;
    }
    std::unique_lock<std::mutex> l(mu_);
    stats_.deferred = true;
    cv_.wait_for(l, std::chrono::milliseconds(options_.defer_poll_ms), [&] {
      return stop_ || latest_version_.load(std::memory_order_acquire) != version;
    });
    stats_.deferred = false;
    if (stop_ || latest_version_.load(std::memory_order_acquire) != version) return false;
  }
  return true;
}

bool OrphanSweeper::Sweep(const Job& job) {
  const uint64_t version = job.table->version();
  if (!WaitUntilNotDeferred(version)) return false;  // the next job (if any) takes over
  const auto start = std::chrono::steady_clock::now();
  std::vector<uint32_t> reclaimed;
  uint64_t checked = 0;
  auto count = [&] {
    std::lock_guard<std::mutex> l(mu_);
    stats_.buckets_checked += checked;
    stats_.buckets_reclaimed += reclaimed.size();
  };
  auto give_up = [&](const std::string& why) {
    count();
    LOG(INFO) << Prefix() << " of table version " << version << " stopped after " << checked
              << " buckets (" << why << ")"
              << (reclaimed.empty() ? "" : "; reclaimed buckets " + BucketList(reclaimed));
    return false;
  };
  for (uint32_t b : job.buckets) {
    if (stopping_.load(std::memory_order_acquire)) return give_up("stopping");
    const uint64_t latest = latest_version_.load(std::memory_order_acquire);
    if (latest != version) return give_up("table version " + std::to_string(latest) + " arrived");
    bool live = false;
    Status s = callbacks_.has_live_key(b, &live);
    if (!s.ok()) return give_up("bucket " + std::to_string(b) + ": " + s.ToString());
    ++checked;
    if (!live) continue;
    bool current = false;
    s = callbacks_.reclaim_if_current(b, version, &current);
    if (!s.ok()) return give_up("reclaim of bucket " + std::to_string(b) + ": " + s.ToString());
    if (!current) return give_up("the installed table changed");
    reclaimed.push_back(b);
    LOG(INFO) << Prefix() << ": bucket " << b << " is held by " << job.table->MasterAddress(b)
              << " in table version " << version
              << " but had live keys here: reclaimed, cleanup queued";
  }
  count();
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.swept_version = std::max(stats_.swept_version, version);
    ++stats_.sweeps;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  if (reclaimed.empty()) {
    VLOG(1) << Prefix() << " of table version " << version << ": " << checked
            << " buckets held elsewhere checked in " << ms << " ms, no orphans";
  } else {
    LOG(INFO) << Prefix() << " of table version " << version << ": " << checked
              << " buckets held elsewhere checked in " << ms << " ms, " << reclaimed.size()
              << " reclaimed (buckets " << BucketList(reclaimed) << ")";
  }
  return true;
}

OrphanSweeper::Stats OrphanSweeper::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  Stats s = stats_;
  s.busy = running_ || pending_ != nullptr;
  return s;
}

bool OrphanSweeper::WaitIdle(uint32_t timeout_ms) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
                      [&] { return !running_ && pending_ == nullptr; });
}

}  // namespace tessera::ds
