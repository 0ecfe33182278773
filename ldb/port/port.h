// Annotated synchronization primitives.
#ifndef LDB_PORT_PORT_H_
#define LDB_PORT_PORT_H_

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "port/thread_annotations.h"

namespace ldb::port {

class CondVar;

// A mutex that clang's thread-safety analysis understands. Thread-safe.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() UNLOCK_FUNCTION() { mu_.unlock(); }
  void AssertHeld() ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// A condition variable bound to one Mutex. Thread-safe.
class CondVar {
 public:
  // `mu` must outlive the CondVar.
  explicit CondVar(Mutex* mu) : mu_(mu) { assert(mu != nullptr); }
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // REQUIRES: mu is held. Releases it while waiting.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Like Wait, but returns after at most `micros`; true if it timed out.
  bool TimedWait(uint64_t micros) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    bool timed_out = cv_.wait_for(lock, std::chrono::microseconds(micros)) ==
                     std::cv_status::timeout;
    lock.release();
    return timed_out;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
  Mutex* const mu_;
};

}  // namespace ldb::port

#endif  // LDB_PORT_PORT_H_
