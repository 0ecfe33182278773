#include "common/thread_policy.h"

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tessera {

#if defined(__linux__) && defined(SYS_sched_setattr) && defined(SYS_sched_getattr)
namespace {

// The kernel's struct sched_attr (include/uapi/linux/sched/types.h; glibc 2.36 has no
// wrapper). Its size field lets the kernel accept this, the first layout, forever.
struct SchedAttr {
  uint32_t size = sizeof(SchedAttr);
  uint32_t sched_policy = 0;
  uint64_t sched_flags = 0;
  int32_t sched_nice = 0;
  uint32_t sched_priority = 0;
  uint64_t sched_runtime = 0;  // for SCHED_OTHER since 6.12: the slice, in ns
  uint64_t sched_deadline = 0;
  uint64_t sched_period = 0;
};
static_assert(sizeof(SchedAttr) == 48, "SCHED_ATTR_SIZE_VER0");

bool GetAttr(int tid, SchedAttr* attr) {
  return ::syscall(SYS_sched_getattr, tid, attr, sizeof(*attr), 0) == 0;
}

}  // namespace

bool SetCurrentThreadSlice(uint32_t slice_us) {
  SchedAttr attr;
  if (!GetAttr(0, &attr) || attr.sched_policy != SCHED_OTHER) return false;
  // sched_getattr filled in the thread's nice value: setting it back unchanged.
  attr.size = sizeof(attr);
  attr.sched_flags = 0;
  attr.sched_runtime = uint64_t{slice_us} * 1000;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return false;
  // A kernel before 6.12 accepts and ignores sched_runtime for SCHED_OTHER.
  return ThreadSliceMicros() != 0;
}

uint32_t ThreadSliceMicros(int tid) {
  SchedAttr attr;
  if (!GetAttr(tid, &attr) || attr.sched_policy != SCHED_OTHER) return 0;
  return static_cast<uint32_t>(attr.sched_runtime / 1000);
}

#else

bool SetCurrentThreadSlice(uint32_t) { return false; }
uint32_t ThreadSliceMicros(int) { return 0; }

#endif

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
