// How long the scheduler kept threads waiting for a CPU: a measure of how much a
// migration's CPU use delays request threads that is far less swayed by this VM's CPU
// steal than their end-to-end latency.
#ifndef TESSERA_TOOLS_MIGRATION_BENCH_RUN_QUEUE_WAIT_H_
#define TESSERA_TOOLS_MIGRATION_BENCH_RUN_QUEUE_WAIT_H_

#include <cstdint>
#include <string_view>

namespace tessera::mbench {

struct RunQueueWait {
  uint64_t wait_ns = 0;  // runnable but not running, summed over the threads
  uint64_t runs = 0;     // times the threads were put on a CPU
  uint32_t threads = 0;  // threads that matched
};

// Sums /proc/PID/task/TID/schedstat over every thread named `thread` in every process
// named `process` on this machine (names as in /proc/.../comm). False when none
// matched or the kernel keeps no such figures. Thread-safe.
bool ReadRunQueueWait(std::string_view process, std::string_view thread, RunQueueWait* out);

}  // namespace tessera::mbench

#endif  // TESSERA_TOOLS_MIGRATION_BENCH_RUN_QUEUE_WAIT_H_
