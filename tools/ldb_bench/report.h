// Results of ldb_bench: what one benchmark measured, how a child process
// sends its results to the parent (one text line per record), and the
// side-by-side table the parent prints.
#ifndef TESSERA_TOOLS_LDB_BENCH_REPORT_H_
#define TESSERA_TOOLS_LDB_BENCH_REPORT_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tessera::ldb_bench {

// What one benchmark measured. Plain data.
struct BenchResult {
  enum class Outcome { kOk, kSkipped, kError };

  std::string name;
  Outcome outcome = Outcome::kOk;
  uint64_t ops = 0;    // keys written or read
  uint64_t bytes = 0;  // key + value bytes moved
  uint64_t found = 0;  // reads that found their key
  bool is_read = false;
  double elapsed_seconds = 0;
  double avg_micros = 0;  // per call, over all threads
  double p50_micros = 0;
  double p99_micros = 0;
  std::string note;  // skip reason or error message, or extra detail

  double OpsPerSecond() const;
  double MiBPerSecond() const;
};

// Everything the parent learns about one engine. Plain data.
struct EngineReport {
  std::string engine;
  std::string version;
  std::vector<BenchResult> results;
  int64_t max_rss_kb = -1;  // -1: unknown (child died early)
  // The largest anonymous (heap, not file-backed) RSS seen at the end of a
  // benchmark; LevelDB's peak RSS also counts its mmap-ed table files.
  int64_t max_anon_rss_kb = -1;
  std::string error;  // open failure, crash, ...
};

// Wire lines (each ends with '\n'; fields are tab-separated).
std::string EncodeVersion(const std::string& version);
std::string EncodeResult(const BenchResult& result);
std::string EncodeRss(int64_t max_rss_kb, int64_t max_anon_rss_kb);
std::string EncodeError(const std::string& message);
// Applies one line (without the '\n') to *report; false if malformed.
bool DecodeLine(const std::string& line, EngineReport* report);

// The one-line summary printed as each benchmark finishes.
std::string FormatResultLine(const std::string& engine,
                             const BenchResult& result);

// The side-by-side comparison of every engine, one row per benchmark, with
// ldb/<other> throughput ratios when ldb is among the engines.
void PrintComparison(const std::vector<EngineReport>& reports,
                     const std::vector<std::string>& benchmarks, FILE* out);

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_REPORT_H_
