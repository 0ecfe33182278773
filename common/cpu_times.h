// CpuTimes: how the machine's CPUs spent their time, from the first line of
// /proc/stat (Linux), so that a benchmark can say how busy the machine was while
// it measured and how much time the hypervisor took from its vCPUs ("steal": on a
// shared VM a latency figure taken under steal measures the host, not Tessera).
//
// A plain value. Read is thread-safe.
#ifndef TESSERA_COMMON_CPU_TIMES_H_
#define TESSERA_COMMON_CPU_TIMES_H_

#include <cstdint>
#include <string_view>

namespace tessera {

struct CpuTimes {
  // Ticks summed over every CPU since boot.
  uint64_t busy = 0;   // user + nice + system + irq + softirq
  uint64_t idle = 0;   // idle + iowait
  uint64_t steal = 0;  // ready to run while the hypervisor ran something else

  uint64_t total() const { return busy + idle + steal; }

  // The current times from /proc/stat; false when it cannot be read or parsed
  // (not Linux, no procfs).
  static bool Read(CpuTimes* out);
  // Parses the aggregate line: "cpu  user nice system idle iowait irq softirq steal
  // ..." (kernels before 2.6.11 have no steal field: 0). False for any other line.
  static bool Parse(std::string_view line, CpuTimes* out);
};

// Percentages of the CPU time that passed between two readings (from before to);
// -1 when none passed or `to` is older.
struct CpuShare {
  double busy_pct = -1;
  double steal_pct = -1;
};
CpuShare CpuShareBetween(const CpuTimes& from, const CpuTimes& to);

}  // namespace tessera

#endif  // TESSERA_COMMON_CPU_TIMES_H_
