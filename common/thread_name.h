// Naming the calling thread, for `top -H`, `ps -L`, perf and debuggers.
#ifndef TESSERA_COMMON_THREAD_NAME_H_
#define TESSERA_COMMON_THREAD_NAME_H_

#include <pthread.h>

#include <cstring>

namespace tessera {

// Names the calling thread `name`, cut to the 15 bytes Linux keeps. Best effort
// (a refusal is ignored). Thread-safe.
inline void SetCurrentThreadName(const char* name) {
  char cut[16];
  std::strncpy(cut, name, sizeof(cut) - 1);
  cut[sizeof(cut) - 1] = '\0';
  ::pthread_setname_np(::pthread_self(), cut);
}

}  // namespace tessera

#endif  // TESSERA_COMMON_THREAD_NAME_H_
