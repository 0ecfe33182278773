// Naming the calling thread, for `top -H`, `ps -L`, perf and debuggers, and finding
// threads by name.
#ifndef TESSERA_COMMON_THREAD_NAME_H_
#define TESSERA_COMMON_THREAD_NAME_H_

#include <pthread.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace tessera {

// Names the calling thread `name`, cut to the 15 bytes Linux keeps. Best effort
// (a refusal is ignored). Thread-safe.
inline void SetCurrentThreadName(const char* name) {
  char cut[16];
  std::strncpy(cut, name, sizeof(cut) - 1);
  cut[sizeof(cut) - 1] = '\0';
  ::pthread_setname_np(::pthread_self(), cut);
}

// The thread ids of the threads named `name` of the process whose /proc directory is
// `process_dir` ("/proc/self", "/proc/1234"); empty when there is none or the process
// is gone. Linux only (elsewhere: empty). Thread-safe.
std::vector<int> ThreadIdsNamed(std::string_view process_dir, std::string_view name);

}  // namespace tessera

#endif  // TESSERA_COMMON_THREAD_NAME_H_
