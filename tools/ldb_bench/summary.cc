#include "summary.h"

#include <algorithm>
#include <cstdint>

namespace tessera::ldb_bench {
namespace {

// What one engine measured for one benchmark over all its rounds.
struct BenchSummary {
  size_t rounds = 0;     // rounds of the engine
  size_t ok_rounds = 0;  // rounds that produced numbers
  bool any_skipped = false;
  bool any_error = false;
  double median_ops = 0;
  double min_ops = 0;
  double max_ops = 0;
  double median_mib = 0;
  double median_p50 = 0;
  double median_p99 = 0;

  bool ok() const { return ok_rounds > 0; }
  // Fewer rounds than the engine ran produced numbers.
  bool partial() const { return ok_rounds > 0 && ok_rounds < rounds; }
  // The table cell of a benchmark without numbers.
  std::string NonOkCell() const {
    if (any_error) return "error";
    if (any_skipped) return "skipped";
    return "-";
  }
};

// Median and max of a per-round memory figure, in KiB; unknown rounds (-1)
// are left out.
struct RssSummary {
  size_t known = 0;
  double median_kb = 0;
  double max_kb = 0;
};

BenchSummary Summarize(const EngineRounds& engine, const std::string& name) {
  BenchSummary s;
  s.rounds = engine.rounds.size();
  std::vector<double> ops, mib, p50, p99;
  for (const EngineReport& round : engine.rounds) {
    for (const BenchResult& r : round.results) {
      if (r.name != name) continue;
      switch (r.outcome) {
        case BenchResult::Outcome::kOk:
          ops.push_back(r.OpsPerSecond());
          mib.push_back(r.MiBPerSecond());
          p50.push_back(r.p50_micros);
          p99.push_back(r.p99_micros);
          break;
        case BenchResult::Outcome::kSkipped:
          s.any_skipped = true;
          break;
        case BenchResult::Outcome::kError:
          s.any_error = true;
          break;
      }
      break;  // a benchmark appears once per round
    }
  }
  s.ok_rounds = ops.size();
  if (ops.empty()) return s;
  s.min_ops = *std::min_element(ops.begin(), ops.end());
  s.max_ops = *std::max_element(ops.begin(), ops.end());
  s.median_ops = Median(std::move(ops));
  s.median_mib = Median(std::move(mib));
  s.median_p50 = Median(std::move(p50));
  s.median_p99 = Median(std::move(p99));
  return s;
}

RssSummary SummarizeRss(const EngineRounds& engine, bool anon) {
  std::vector<double> kb;
  for (const EngineReport& round : engine.rounds) {
    const int64_t v = anon ? round.max_anon_rss_kb : round.max_rss_kb;
    if (v >= 0) kb.push_back(static_cast<double>(v));
  }
  RssSummary s;
  s.known = kb.size();
  if (kb.empty()) return s;
  s.max_kb = *std::max_element(kb.begin(), kb.end());
  s.median_kb = Median(std::move(kb));
  return s;
}

// The first non-empty version the engine reported.
std::string VersionOf(const EngineRounds& engine) {
  for (const EngineReport& round : engine.rounds) {
    if (!round.version.empty()) return round.version;
  }
  return "?";
}

std::string Printf(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// v rounded to an integer, with thousands separators: 1234567 -> "1,234,567".
std::string Grouped(double v) {
  const std::string digits = Printf("%.0f", v);
  const size_t sign = !digits.empty() && digits[0] == '-' ? 1 : 0;
  std::string out = digits.substr(0, sign);
  const size_t n = digits.size() - sign;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[sign + i];
  }
  return out;
}

void PrintRow(FILE* out, const std::string& first,
              const std::vector<std::string>& cells, int width) {
  std::fprintf(out, "%-12s", first.c_str());
  for (const std::string& c : cells) {
    std::fprintf(out, " %*s", width, c.c_str());
  }
  std::fprintf(out, "\n");
}

// Index of the engine named "ldb" in `engines`, or -1.
int LdbIndex(const std::vector<EngineRounds>& engines) {
  for (size_t i = 0; i < engines.size(); i++) {
    if (engines[i].engine == "ldb") return static_cast<int>(i);
  }
  return -1;
}

// The ldb/other ratio cell of the medians a (ldb) and b (other).
std::string RatioCell(const BenchSummary& a, const BenchSummary& b) {
  if (!a.ok() || !b.ok() || b.median_ops <= 0) return "-";
  std::string cell = Printf("%.2fx", a.median_ops / b.median_ops);
  if (a.partial() || b.partial()) cell += "*";
  return cell;
}

// "N interleaved rounds" or "1 round".
std::string RoundsText(size_t rounds) {
  return rounds == 1 ? std::string("1 round")
                     : std::to_string(rounds) + " interleaved rounds";
}

size_t MaxRounds(const std::vector<EngineRounds>& engines) {
  size_t n = 0;
  for (const EngineRounds& e : engines) n = std::max(n, e.rounds.size());
  return n;
}

}  // namespace

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void PrintMedianComparison(const std::vector<EngineRounds>& engines,
                           const std::vector<std::string>& benchmarks,
                           FILE* out) {
  if (engines.empty()) return;
  const size_t rounds = MaxRounds(engines);
  const std::string of = "median of " + RoundsText(rounds);
  const int ldb = LdbIndex(engines);
  std::vector<size_t> others;
  for (size_t i = 0; i < engines.size(); i++) {
    if (ldb >= 0 && static_cast<int>(i) != ldb) others.push_back(i);
  }
  // summary[b][e]: benchmark b of engine e.
  std::vector<std::vector<BenchSummary>> summary;
  bool any_partial = false;
  for (const std::string& name : benchmarks) {
    summary.emplace_back();
    for (const EngineRounds& e : engines) {
      summary.back().push_back(Summarize(e, name));
      any_partial |= summary.back().back().partial();
    }
  }
  std::vector<std::string> header;
  for (const EngineRounds& e : engines) header.push_back(e.engine);
  constexpr int kWidth = 12;
  std::vector<std::string> cells;

  // Throughput, with ratios of the medians.
  std::fprintf(out, "\n== Throughput (ops/s), %s", of.c_str());
  if (!others.empty()) {
    std::fprintf(out, "; ldb/X: ratio of the medians, > 1: ldb is faster");
  }
  std::fprintf(out, " ==\n");
  cells = header;
  for (size_t o : others) cells.push_back("ldb/" + engines[o].engine);
  PrintRow(out, "benchmark", cells, kWidth);
  for (size_t b = 0; b < benchmarks.size(); b++) {
    cells.clear();
    for (const BenchSummary& s : summary[b]) {
      cells.push_back(s.ok() ? Printf("%.0f", s.median_ops) +
                                   (s.partial() ? "*" : "")
                             : s.NonOkCell());
    }
    for (size_t o : others) {
      cells.push_back(
          RatioCell(summary[b][static_cast<size_t>(ldb)], summary[b][o]));
    }
    PrintRow(out, benchmarks[b], cells, kWidth);
  }

  // Spread of the throughput over the rounds.
  constexpr int kSpreadWidth = 26;
  std::fprintf(out,
               "\n== Throughput spread: min..max ops/s over the rounds "
               "(range as %% of the median) ==\n");
  PrintRow(out, "benchmark", header, kSpreadWidth);
  for (size_t b = 0; b < benchmarks.size(); b++) {
    cells.clear();
    for (const BenchSummary& s : summary[b]) {
      if (!s.ok()) {
        cells.push_back(s.NonOkCell());
        continue;
      }
      const double range_pct =
          s.median_ops > 0 ? 100.0 * (s.max_ops - s.min_ops) / s.median_ops : 0;
      cells.push_back(Printf("%.0f", s.min_ops) + ".." +
                      Printf("%.0f", s.max_ops) + " (" +
                      Printf("%.1f", range_pct) + "%)");
    }
    PrintRow(out, benchmarks[b], cells, kSpreadWidth);
  }

  // Bandwidth.
  std::fprintf(out, "\n== Bandwidth (MB/s of key+value bytes), %s ==\n",
               of.c_str());
  PrintRow(out, "benchmark", header, kWidth);
  for (size_t b = 0; b < benchmarks.size(); b++) {
    cells.clear();
    for (const BenchSummary& s : summary[b]) {
      cells.push_back(s.ok() ? Printf("%.1f", s.median_mib) : s.NonOkCell());
    }
    PrintRow(out, benchmarks[b], cells, kWidth);
  }

  // Latency.
  constexpr int kLatWidth = 19;
  std::fprintf(out, "\n== Latency p50 / p99 (micros per call), %s ==\n",
               of.c_str());
  PrintRow(out, "benchmark", header, kLatWidth);
  for (size_t b = 0; b < benchmarks.size(); b++) {
    cells.clear();
    for (const BenchSummary& s : summary[b]) {
      cells.push_back(s.ok() ? Printf("%.2f", s.median_p50) + " / " +
                                   Printf("%.2f", s.median_p99)
                             : s.NonOkCell());
    }
    PrintRow(out, benchmarks[b], cells, kLatWidth);
  }

  // Memory, versions and errors.
  std::fprintf(out, "\n== Memory (MiB): median and max over the rounds ==\n");
  PrintRow(out, "", header, kWidth);
  for (const bool anon : {false, true}) {
    std::vector<std::string> med, max;
    for (const EngineRounds& e : engines) {
      const RssSummary s = SummarizeRss(e, anon);
      med.push_back(s.known == 0 ? "?" : Printf("%.1f", s.median_kb / 1024.0));
      max.push_back(s.known == 0 ? "?" : Printf("%.1f", s.max_kb / 1024.0));
    }
    PrintRow(out, anon ? "anonRSS med" : "peakRSS med", med, kWidth);
    PrintRow(out, anon ? "anonRSS max" : "peakRSS max", max, kWidth);
  }
  cells.clear();
  for (const EngineRounds& e : engines) cells.push_back(VersionOf(e));
  PrintRow(out, "version", cells, kWidth);
  std::fprintf(out,
               "(peakRSS: getrusage ru_maxrss of the engine's own process in "
               "each round; it\n counts mmap-ed file pages too, e.g. "
               "LevelDB's table files. anonRSS: the largest\n RssAnon seen at "
               "the end of a benchmark.)\n");
  if (any_partial) {
    std::fprintf(out,
                 "*: summarised over fewer than all rounds; the others were "
                 "skipped or failed.\n");
  }
  for (const EngineRounds& e : engines) {
    for (size_t r = 0; r < e.rounds.size(); r++) {
      const EngineReport& report = e.rounds[r];
      if (!report.error.empty()) {
        std::fprintf(out, "round %zu %s: ERROR %s\n", r + 1, e.engine.c_str(),
                     report.error.c_str());
      }
      for (const BenchResult& b : report.results) {
        if (b.outcome == BenchResult::Outcome::kError) {
          std::fprintf(out, "round %zu %s %s: ERROR %s\n", r + 1,
                       e.engine.c_str(), b.name.c_str(), b.note.c_str());
        }
      }
    }
  }
}

void PrintMarkdown(const std::vector<EngineRounds>& engines,
                   const std::vector<std::string>& benchmarks,
                   const std::string& command, FILE* out) {
  if (engines.empty()) return;
  const size_t rounds = MaxRounds(engines);
  const int ldb = LdbIndex(engines);
  std::vector<size_t> others;
  for (size_t i = 0; i < engines.size(); i++) {
    if (ldb >= 0 && static_cast<int>(i) != ldb) others.push_back(i);
  }
  const size_t columns = engines.size() + others.size();

  std::fprintf(out, "\n== Markdown ==\n");
  if (rounds == 1) {
    std::fprintf(out, "Throughput (ops/s) of one run");
  } else {
    std::fprintf(out, "Median throughput (ops/s) of %s",
                 RoundsText(rounds).c_str());
  }
  if (!command.empty()) std::fprintf(out, " of `%s`", command.c_str());
  if (!others.empty()) std::fprintf(out, "; ldb/X > 1 means ldb is faster");
  std::fprintf(out, ".\n\n");
  std::fprintf(out, "| benchmark |");
  for (const EngineRounds& e : engines) {
    // ldb's "version" is the project's name; the others' are release numbers.
    std::fprintf(out, " %s |",
                 e.engine == "ldb" ? e.engine.c_str()
                                   : (e.engine + " " + VersionOf(e)).c_str());
  }
  for (size_t o : others) {
    std::fprintf(out, " ldb/%s |", engines[o].engine.c_str());
  }
  std::fprintf(out, "\n|:--|");
  for (size_t i = 0; i < columns; i++) std::fprintf(out, "--:|");
  std::fprintf(out, "\n");

  bool any_partial = false;
  for (const std::string& name : benchmarks) {
    std::vector<BenchSummary> row;
    for (const EngineRounds& e : engines) row.push_back(Summarize(e, name));
    std::fprintf(out, "| %s |", name.c_str());
    for (const BenchSummary& s : row) {
      any_partial |= s.partial();
      std::fprintf(
          out, " %s |",
          s.ok() ? (Grouped(s.median_ops) + (s.partial() ? "*" : "")).c_str()
                 : s.NonOkCell().c_str());
    }
    for (size_t o : others) {
      std::fprintf(out, " %s |",
                   RatioCell(row[static_cast<size_t>(ldb)], row[o]).c_str());
    }
    std::fprintf(out, "\n");
  }

  // Memory rows; the ratio columns stay empty.
  struct MemRow {
    const char* label;
    bool anon;
    bool max;
  };
  std::vector<MemRow> mem_rows = {{"peak RSS, MiB (median)", false, false},
                                  {"peak RSS, MiB (max)", false, true},
                                  {"anon RSS, MiB (median)", true, false}};
  if (rounds <= 1) {  // one figure each: no median, no max
    mem_rows = {{"peak RSS, MiB", false, false},
                {"anon RSS, MiB", true, false}};
  }
  for (const MemRow& m : mem_rows) {
    std::fprintf(out, "| %s |", m.label);
    for (const EngineRounds& e : engines) {
      const RssSummary s = SummarizeRss(e, m.anon);
      const double kb = m.max ? s.max_kb : s.median_kb;
      std::fprintf(out, " %s |",
                   s.known == 0 ? "?" : Printf("%.1f", kb / 1024.0).c_str());
    }
    for (size_t i = 0; i < others.size(); i++) std::fprintf(out, " |");
    std::fprintf(out, "\n");
  }
  if (any_partial) {
    std::fprintf(out,
                 "\n\\* median over fewer than all rounds; the others were "
                 "skipped or failed.\n");
  }
}

}  // namespace tessera::ldb_bench
