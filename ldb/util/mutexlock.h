// MutexLock: holds a port::Mutex for the lifetime of a scope.
#ifndef LDB_UTIL_MUTEXLOCK_H_
#define LDB_UTIL_MUTEXLOCK_H_

#include "port/port.h"
#include "port/thread_annotations.h"

namespace ldb {

class SCOPED_CAPABILITY MutexLock {
 public:
  // `mu` must outlive the MutexLock.
  explicit MutexLock(port::Mutex* mu) EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  port::Mutex* const mu_;
};

}  // namespace ldb

#endif  // LDB_UTIL_MUTEXLOCK_H_
