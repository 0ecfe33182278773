// Summaries of ldb_bench runs repeated over several interleaved rounds
// (--repeats): per benchmark and engine the median throughput, bandwidth and
// latency, the min..max throughput spread, ratios ldb/X of the medians, the
// median and max peak RSS; and the same comparison as a GitHub-markdown table
// (--markdown).
#ifndef TESSERA_TOOLS_LDB_BENCH_SUMMARY_H_
#define TESSERA_TOOLS_LDB_BENCH_SUMMARY_H_

#include <cstdio>
#include <string>
#include <vector>

#include "report.h"

namespace tessera::ldb_bench {

// Every round of one engine, in round order. Plain data.
struct EngineRounds {
  std::string engine;
  std::vector<EngineReport> rounds;
};

// The median of `values` (the mean of the two middle ones for an even count);
// 0 when empty.
double Median(std::vector<double> values);

// The side-by-side comparison of medians over the rounds, one row per
// benchmark: throughput with ldb/X ratios of the medians (when ldb is among
// the engines) and min..max spread, bandwidth, latency p50/p99, peak and
// anonymous RSS (median and max), and every error of every round. A
// benchmark that failed or was skipped in some rounds is summarised over the
// rounds that produced numbers and marked with '*'.
void PrintMedianComparison(const std::vector<EngineRounds>& engines,
                           const std::vector<std::string>& benchmarks,
                           FILE* out);

// The median throughput table as GitHub markdown, ready to paste into a
// README: benchmark | <engine> ... | ldb/<engine> ..., then rows for peak RSS.
// A caption above the table says what the figures are and quotes `command`
// (the ldb_bench command line; may be empty).
void PrintMarkdown(const std::vector<EngineRounds>& engines,
                   const std::vector<std::string>& benchmarks,
                   const std::string& command, FILE* out);

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_SUMMARY_H_
