#include "port/thread_name.h"

#include <cstring>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace ldb::port {

bool SetCurrentThreadName(const char* name) {
#if defined(__linux__)
  char cut[16];
  std::strncpy(cut, name, sizeof(cut) - 1);
  cut[sizeof(cut) - 1] = '\0';
  return ::pthread_setname_np(::pthread_self(), cut) == 0;
#else
  (void)name;
  return false;
#endif
}

}  // namespace ldb::port
