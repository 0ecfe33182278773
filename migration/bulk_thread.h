// BulkThread: a thread of its own for a caller's bulk work, so that the bulk work can
// run in a lower scheduling class than the caller.
//
// A migration worker hands its snapshot scan to one (SCHED_IDLE or niced: client
// requests win the CPU) and keeps its own thread in the normal class for the fenced
// phase, while writes to the bucket wait for it. A thread cannot move itself back to
// the normal class without CAP_SYS_NICE, hence a second thread rather than a switch.
//
// Thread-safety: Run() may be called from any thread; calls run one at a time.
#ifndef TESSERA_MIGRATION_BULK_THREAD_H_
#define TESSERA_MIGRATION_BULK_THREAD_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace tessera::migration {

class BulkThread {
 public:
  // Starts the thread; `on_start` (may be empty) runs on it first, e.g. to name it
  // and lower its class.
  explicit BulkThread(std::function<void()> on_start);
  // Joins the thread. REQUIRES: no Run() in progress.
  ~BulkThread();
  BulkThread(const BulkThread&) = delete;
  BulkThread& operator=(const BulkThread&) = delete;

  // Runs `fn` on the thread and returns once it has returned. `fn` must not call Run()
  // of the same BulkThread.
  void Run(const std::function<void()>& fn);

 private:
  void Loop(const std::function<void()>& on_start);

  std::mutex run_mu_;  // one Run() at a time
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;  // guarded by mu_; set until done
  bool done_ = false;                           // guarded by mu_
  bool stop_ = false;                           // guarded by mu_
  std::thread thread_;
};

// Names the calling thread `name` and lowers it for bulk work: into SCHED_IDLE when
// `idle` (logging a refusal), else to CPU niceness `nice` when above 0
// (ldb::LowerCurrentThreadPriority). For the start of a bulk thread (mig-scan,
// mig-apply, mig-build). Thread-safe.
void StartBulkWorkOnCurrentThread(const char* name, bool idle, int nice);

}  // namespace tessera::migration

#endif  // TESSERA_MIGRATION_BULK_THREAD_H_
