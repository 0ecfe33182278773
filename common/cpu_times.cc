#include "common/cpu_times.h"

#include <charconv>
#include <fstream>
#include <string>

namespace tessera {

bool CpuTimes::Parse(std::string_view line, CpuTimes* out) {
  constexpr std::string_view kPrefix = "cpu ";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  line.remove_prefix(kPrefix.size());
  // user nice system idle iowait irq softirq steal
  uint64_t v[8] = {};
  int n = 0;
  while (n < 8) {
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty()) break;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v[n]);
    if (ec != std::errc() || (end != line.data() + line.size() && *end != ' ')) return false;
    line.remove_prefix(static_cast<size_t>(end - line.data()));
    ++n;
  }
  if (n < 7) return false;
  out->busy = v[0] + v[1] + v[2] + v[5] + v[6];
  out->idle = v[3] + v[4];
  out->steal = v[7];
  return true;
}

bool CpuTimes::Read(CpuTimes* out) {
  std::ifstream in("/proc/stat");
  std::string line;
  return in && std::getline(in, line) && Parse(line, out);
}

CpuShare CpuShareBetween(const CpuTimes& from, const CpuTimes& to) {
  CpuShare share;
  if (to.total() <= from.total() || to.busy < from.busy || to.steal < from.steal) return share;
  const double total = static_cast<double>(to.total() - from.total());
  share.busy_pct = 100.0 * static_cast<double>(to.busy - from.busy) / total;
  share.steal_pct = 100.0 * static_cast<double>(to.steal - from.steal) / total;
  return share;
}

}  // namespace tessera
