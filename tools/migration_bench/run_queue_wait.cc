#include "run_queue_wait.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "common/thread_name.h"

namespace tessera::mbench {
namespace {

namespace fs = std::filesystem;

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!std::isdigit(c)) return false;
  }
  return true;
}

bool CommIs(const fs::path& dir, std::string_view name) {
  std::ifstream in(dir / "comm");
  std::string line;
  return std::getline(in, line) && line == name;
}

}  // namespace

bool ReadRunQueueWait(std::string_view process, std::string_view thread, RunQueueWait* out) {
  *out = RunQueueWait{};
  std::error_code ec;
  for (fs::directory_iterator p("/proc", ec), end; !ec && p != end; p.increment(ec)) {
    if (!IsNumber(p->path().filename().string()) || !CommIs(p->path(), process)) continue;
    for (int tid : ThreadIdsNamed(p->path().string(), thread)) {
      // "time on a CPU (ns)  time waiting on a run queue (ns)  times run"
      std::ifstream in(p->path() / "task" / std::to_string(tid) / "schedstat");
      uint64_t on_cpu = 0, wait = 0, runs = 0;
      if (!(in >> on_cpu >> wait >> runs)) continue;  // the thread just exited
      out->wait_ns += wait;
      out->runs += runs;
      ++out->threads;
    }
  }
  return out->threads > 0;
}

}  // namespace tessera::mbench
