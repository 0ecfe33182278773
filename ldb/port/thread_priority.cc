#include "port/thread_priority.h"

#include <algorithm>
#include <cerrno>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ldb::port {

bool LowerCurrentThreadPriority(int nice) {
#if defined(__linux__)
  nice = std::clamp(nice, 1, 19);
  // On Linux the nice value belongs to the thread (PRIO_PROCESS with a
  // thread id); POSIX leaves that unspecified, hence the raw gettid.
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return false;
  if (current >= nice) return true;
  return ::setpriority(PRIO_PROCESS, tid, nice) == 0;
#else
  (void)nice;
  return false;
#endif
}

}  // namespace ldb::port
