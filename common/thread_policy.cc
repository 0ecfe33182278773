#include "common/thread_policy.h"

#if defined(__linux__)
#include <sched.h>
#endif

namespace tessera {

bool SetCurrentThreadIdle() {
#if defined(__linux__) && defined(SCHED_IDLE)
  // On Linux, pid 0 names the calling thread, not the whole process.
  const sched_param param{};  // SCHED_IDLE requires priority 0
  return ::sched_setscheduler(0, SCHED_IDLE, &param) == 0;
#else
  return false;
#endif
}

bool CurrentThreadIsIdle() {
#if defined(__linux__) && defined(SCHED_IDLE)
  return ::sched_getscheduler(0) == SCHED_IDLE;
#else
  return false;
#endif
}

}  // namespace tessera
