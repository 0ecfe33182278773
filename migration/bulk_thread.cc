#include "migration/bulk_thread.h"

#include <glog/logging.h>

#include <utility>

#include "common/thread_name.h"
#include "common/thread_policy.h"
#include "ldb/env.h"

namespace tessera::migration {

void StartBulkWorkOnCurrentThread(const char* name, bool idle, int nice) {
  SetCurrentThreadName(name);
  if (idle) {
    if (!SetCurrentThreadIdle()) LOG(WARNING) << name << ": SCHED_IDLE refused";
  } else if (nice > 0) {
    ldb::LowerCurrentThreadPriority(nice);
  }
}

BulkThread::BulkThread(std::function<void()> on_start)
    : thread_([this, start = std::move(on_start)] { Loop(start); }) {}

BulkThread::~BulkThread() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BulkThread::Run(const std::function<void()>& fn) {
  std::lock_guard<std::mutex> serial(run_mu_);
  std::unique_lock<std::mutex> l(mu_);
  job_ = &fn;
  done_ = false;
  cv_.notify_all();
  cv_.wait(l, [&] { return done_; });
  job_ = nullptr;
}

void BulkThread::Loop(const std::function<void()>& on_start) {
  if (on_start) on_start();
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stop_ || (job_ != nullptr && !done_); });
    if (job_ == nullptr || done_) return;  // stopping with nothing to run
    const std::function<void()>* job = job_;
    l.unlock();
    (*job)();
    l.lock();
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace tessera::migration
