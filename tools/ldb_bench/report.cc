#include "report.h"

#include <cinttypes>
#include <cstdlib>
#include <string_view>

namespace tessera::ldb_bench {

double BenchResult::OpsPerSecond() const {
  return elapsed_seconds > 0 ? static_cast<double>(ops) / elapsed_seconds : 0;
}

double BenchResult::MiBPerSecond() const {
  return elapsed_seconds > 0
             ? static_cast<double>(bytes) / 1048576.0 / elapsed_seconds
             : 0;
}

namespace {

// Tabs and newlines would break the line format.
std::string Sanitize(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string Double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return fields;
}

bool ToU64(const std::string& s, uint64_t* v) {
  char* end = nullptr;
  *v = std::strtoull(s.c_str(), &end, 10);
  return !s.empty() && *end == '\0';
}

bool ToI64(const std::string& s, int64_t* v) {
  char* end = nullptr;
  *v = std::strtoll(s.c_str(), &end, 10);
  return !s.empty() && *end == '\0';
}

bool ToDouble(const std::string& s, double* v) {
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0';
}

std::string Printf(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

const BenchResult* Find(const EngineReport& report, const std::string& name) {
  for (const BenchResult& r : report.results) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// The table cell of a benchmark that did not produce numbers.
std::string NonOkCell(const BenchResult* r) {
  if (r == nullptr) return "-";
  if (r->outcome == BenchResult::Outcome::kSkipped) return "skipped";
  return "error";
}

void PrintRow(FILE* out, const std::string& first,
              const std::vector<std::string>& cells, int width) {
  std::fprintf(out, "%-12s", first.c_str());
  for (const std::string& c : cells) {
    std::fprintf(out, " %*s", width, c.c_str());
  }
  std::fprintf(out, "\n");
}

}  // namespace

std::string EncodeVersion(const std::string& version) {
  return "V\t" + Sanitize(version) + "\n";
}

std::string EncodeResult(const BenchResult& r) {
  return "R\t" + Sanitize(r.name) + "\t" +
         std::to_string(static_cast<int>(r.outcome)) + "\t" +
         std::to_string(r.ops) + "\t" + std::to_string(r.bytes) + "\t" +
         std::to_string(r.found) + "\t" + (r.is_read ? "1" : "0") + "\t" +
         Double(r.elapsed_seconds) + "\t" + Double(r.avg_micros) + "\t" +
         Double(r.p50_micros) + "\t" + Double(r.p99_micros) + "\t" +
         Sanitize(r.note) + "\n";
}

std::string EncodeRss(int64_t max_rss_kb, int64_t max_anon_rss_kb) {
  return "M\t" + std::to_string(max_rss_kb) + "\t" +
         std::to_string(max_anon_rss_kb) + "\n";
}

std::string EncodeError(const std::string& message) {
  return "E\t" + Sanitize(message) + "\n";
}

bool DecodeLine(const std::string& line, EngineReport* report) {
  const std::vector<std::string> f = SplitTabs(line);
  if (f.size() == 2 && f[0] == "V") {
    report->version = f[1];
    return true;
  }
  if (f.size() == 2 && f[0] == "E") {
    report->error = f[1];
    return true;
  }
  if (f.size() == 3 && f[0] == "M") {
    return ToI64(f[1], &report->max_rss_kb) &&
           ToI64(f[2], &report->max_anon_rss_kb);
  }
  if (f.size() == 12 && f[0] == "R") {
    BenchResult r;
    r.name = f[1];
    uint64_t outcome = 0;
    if (!ToU64(f[2], &outcome) || outcome > 2) return false;
    r.outcome = static_cast<BenchResult::Outcome>(outcome);
    if (!ToU64(f[3], &r.ops) || !ToU64(f[4], &r.bytes) ||
        !ToU64(f[5], &r.found) || (f[6] != "0" && f[6] != "1") ||
        !ToDouble(f[7], &r.elapsed_seconds) || !ToDouble(f[8], &r.avg_micros) ||
        !ToDouble(f[9], &r.p50_micros) || !ToDouble(f[10], &r.p99_micros)) {
      return false;
    }
    r.is_read = f[6] == "1";
    r.note = f[11];
    report->results.push_back(std::move(r));
    return true;
  }
  return false;
}

std::string FormatResultLine(const std::string& engine, const BenchResult& r) {
  char buf[512];
  if (r.outcome == BenchResult::Outcome::kSkipped) {
    std::snprintf(buf, sizeof(buf), "%-8s %-12s : skipped (%s)\n",
                  engine.c_str(), r.name.c_str(), r.note.c_str());
    return buf;
  }
  if (r.outcome == BenchResult::Outcome::kError) {
    std::snprintf(buf, sizeof(buf), "%-8s %-12s : ERROR %s\n", engine.c_str(),
                  r.name.c_str(), r.note.c_str());
    return buf;
  }
  std::snprintf(buf, sizeof(buf),
                "%-8s %-12s : %9.3f micros/op %10.0f ops/s %8.1f MB/s"
                "  p50 %8.2f  p99 %9.2f us  %8.3f s",
                engine.c_str(), r.name.c_str(), r.avg_micros, r.OpsPerSecond(),
                r.MiBPerSecond(), r.p50_micros, r.p99_micros,
                r.elapsed_seconds);
  std::string line = buf;
  if (r.is_read) {
    std::snprintf(buf, sizeof(buf), "  (%" PRIu64 " of %" PRIu64 " found)",
                  r.found, r.ops);
    line += buf;
  }
  if (!r.note.empty()) line += "  " + r.note;
  return line + "\n";
}

void PrintComparison(const std::vector<EngineReport>& reports,
                     const std::vector<std::string>& benchmarks, FILE* out) {
  if (reports.empty()) return;
  const EngineReport* ldb = nullptr;
  for (const EngineReport& r : reports) {
    if (r.engine == "ldb") ldb = &r;
  }
  std::vector<const EngineReport*> others;
  for (const EngineReport& r : reports) {
    if (ldb != nullptr && &r != ldb) others.push_back(&r);
  }
  constexpr int kWidth = 12;
  std::vector<std::string> header;
  for (const EngineReport& r : reports) header.push_back(r.engine);

  // Throughput, with ratios.
  std::fprintf(out, "\n== Throughput (ops/s)");
  if (!others.empty()) std::fprintf(out, "; ldb/X > 1 means ldb is faster");
  std::fprintf(out, " ==\n");
  std::vector<std::string> cells = header;
  for (const EngineReport* o : others) cells.push_back("ldb/" + o->engine);
  PrintRow(out, "benchmark", cells, kWidth);
  for (const std::string& name : benchmarks) {
    cells.clear();
    for (const EngineReport& r : reports) {
      const BenchResult* b = Find(r, name);
      cells.push_back(b != nullptr && b->outcome == BenchResult::Outcome::kOk
                          ? Printf("%.0f", b->OpsPerSecond())
                          : NonOkCell(b));
    }
    for (const EngineReport* o : others) {
      const BenchResult* a = Find(*ldb, name);
      const BenchResult* b = Find(*o, name);
      const bool both = a != nullptr && b != nullptr &&
                        a->outcome == BenchResult::Outcome::kOk &&
                        b->outcome == BenchResult::Outcome::kOk &&
                        b->OpsPerSecond() > 0;
      cells.push_back(
          both ? Printf("%.2fx", a->OpsPerSecond() / b->OpsPerSecond()) : "-");
    }
    PrintRow(out, name, cells, kWidth);
  }

  // Bandwidth.
  std::fprintf(out, "\n== Bandwidth (MB/s of key+value bytes) ==\n");
  PrintRow(out, "benchmark", header, kWidth);
  for (const std::string& name : benchmarks) {
    cells.clear();
    for (const EngineReport& r : reports) {
      const BenchResult* b = Find(r, name);
      cells.push_back(b != nullptr && b->outcome == BenchResult::Outcome::kOk
                          ? Printf("%.1f", b->MiBPerSecond())
                          : NonOkCell(b));
    }
    PrintRow(out, name, cells, kWidth);
  }

  // Latency.
  constexpr int kLatWidth = 19;
  std::fprintf(out, "\n== Latency p50 / p99 (micros per call) ==\n");
  PrintRow(out, "benchmark", header, kLatWidth);
  for (const std::string& name : benchmarks) {
    cells.clear();
    for (const EngineReport& r : reports) {
      const BenchResult* b = Find(r, name);
      if (b != nullptr && b->outcome == BenchResult::Outcome::kOk) {
        cells.push_back(Printf("%.2f", b->p50_micros) + " / " +
                        Printf("%.2f", b->p99_micros));
      } else {
        cells.push_back(NonOkCell(b));
      }
    }
    PrintRow(out, name, cells, kLatWidth);
  }

  // Memory and errors.
  std::fprintf(out, "\n");
  cells.clear();
  for (const EngineReport& r : reports) {
    cells.push_back(r.max_rss_kb < 0 ? "?"
                                     : Printf("%.1f", r.max_rss_kb / 1024.0));
  }
  PrintRow(out, "", header, kWidth);
  PrintRow(out, "peakRSS MiB", cells, kWidth);
  cells.clear();
  for (const EngineReport& r : reports) {
    cells.push_back(r.max_anon_rss_kb < 0
                        ? "?"
                        : Printf("%.1f", r.max_anon_rss_kb / 1024.0));
  }
  PrintRow(out, "anonRSS MiB", cells, kWidth);
  cells.clear();
  for (const EngineReport& r : reports) cells.push_back(r.version);
  PrintRow(out, "version", cells, kWidth);
  std::fprintf(out,
               "(peakRSS: getrusage ru_maxrss of the engine's own process; it "
               "counts mmap-ed\n file pages too, e.g. LevelDB's table files. "
               "anonRSS: the largest RssAnon\n seen at the end of a "
               "benchmark.)\n");
  for (const EngineReport& r : reports) {
    if (!r.error.empty()) {
      std::fprintf(out, "%s: ERROR %s\n", r.engine.c_str(), r.error.c_str());
    }
    for (const BenchResult& b : r.results) {
      if (b.outcome == BenchResult::Outcome::kError) {
        std::fprintf(out, "%s %s: ERROR %s\n", r.engine.c_str(), b.name.c_str(),
                     b.note.c_str());
      }
    }
  }
}

}  // namespace tessera::ldb_bench
