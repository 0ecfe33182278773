#include "lsm_shape.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "comparators/key_codec.h"
#include "ldb/slice.h"

namespace tessera::ldb_bench {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ConsumeNumber(std::string_view* in, uint64_t* v) {
  auto [ptr, ec] = std::from_chars(in->data(), in->data() + in->size(), *v);
  if (ec != std::errc() || ptr == in->data()) return false;
  in->remove_prefix(static_cast<size_t>(ptr - in->data()));
  return true;
}

bool ConsumeLiteral(std::string_view* in, std::string_view literal) {
  if (in->substr(0, literal.size()) != literal) return false;
  in->remove_prefix(literal.size());
  return true;
}

// Parses "'escaped user key' @ seq : type" from the front of *in into *key.
// Printable bytes other than '\' are literal (so a key may hold a quote);
// the key ends at the first quote followed by " @ " and a digit.
bool ConsumeInternalKey(std::string_view* in, std::string* key) {
  if (!ConsumeLiteral(in, "'")) return false;
  key->clear();
  size_t i = 0;
  while (true) {
    if (i >= in->size()) return false;
    const char c = (*in)[i];
    if (c == '\\') {
      if (i + 3 >= in->size() || (*in)[i + 1] != 'x') return false;
      const int hi = HexDigit((*in)[i + 2]);
      const int lo = HexDigit((*in)[i + 3]);
      if (hi < 0 || lo < 0) return false;
      key->push_back(static_cast<char>(hi * 16 + lo));
      i += 4;
      continue;
    }
    if (c == '\'' && in->substr(i + 1, 3) == " @ " && i + 4 < in->size() &&
        (*in)[i + 4] >= '0' && (*in)[i + 4] <= '9') {
      break;
    }
    key->push_back(c);
    i++;
  }
  in->remove_prefix(i + 4);  // the key, the quote and " @ "
  uint64_t seq = 0;
  uint64_t type = 0;
  return ConsumeNumber(in, &seq) && ConsumeLiteral(in, " : ") &&
         ConsumeNumber(in, &type);
}

bool ParseFileLine(std::string_view line, TableFileInfo* f) {
  if (!ConsumeLiteral(&line, " ") || !ConsumeNumber(&line, &f->number) ||
      !ConsumeLiteral(&line, ":") || !ConsumeNumber(&line, &f->size_bytes) ||
      !ConsumeLiteral(&line, "[") || !ConsumeInternalKey(&line, &f->smallest) ||
      !ConsumeLiteral(&line, " .. ") ||
      !ConsumeInternalKey(&line, &f->largest) || line != "]") {
    return false;
  }
  f->decoded =
      comparators::GetKeyBucket(ldb::Slice(f->smallest), &f->first_bucket) &&
      comparators::GetKeyBucket(ldb::Slice(f->largest), &f->last_bucket) &&
      f->first_bucket <= f->last_bucket;
  return true;
}

}  // namespace

uint64_t LsmShape::LevelBytes(size_t level) const {
  uint64_t total = 0;
  if (level < levels.size()) {
    for (const TableFileInfo& f : levels[level]) total += f.size_bytes;
  }
  return total;
}

uint64_t LsmShape::TotalBytes() const {
  uint64_t total = 0;
  for (size_t l = 0; l < levels.size(); l++) total += LevelBytes(l);
  return total;
}

size_t LsmShape::TotalFiles() const {
  size_t total = 0;
  for (const auto& level : levels) total += level.size();
  return total;
}

bool ParseSstables(const std::string& text, LsmShape* shape,
                   std::string* error) {
  shape->levels.clear();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    std::string_view rest = line;
    uint64_t level = 0;
    if (ConsumeLiteral(&rest, "--- level ")) {
      if (!ConsumeNumber(&rest, &level) || rest != " ---" ||
          level != shape->levels.size()) {
        *error = "bad level line in ldb.sstables: " + std::string(line);
        return false;
      }
      shape->levels.emplace_back();
      continue;
    }
    TableFileInfo f;
    if (shape->levels.empty() || !ParseFileLine(line, &f)) {
      *error = "bad file line in ldb.sstables: " + std::string(line);
      return false;
    }
    shape->levels.back().push_back(std::move(f));
  }
  return true;
}

bool NoCompactionDue(const LsmShape& shape, int level0_trigger,
                     double level1_bytes) {
  if (shape.levels.empty()) return true;
  if (static_cast<int>(shape.levels[0].size()) >= level0_trigger) return false;
  double budget = level1_bytes;
  // The last level has no budget.
  for (size_t l = 1; l + 1 < shape.levels.size(); l++) {
    if (static_cast<double>(shape.LevelBytes(l)) >= budget) return false;
    budget *= 10;
  }
  return true;
}

void PrintShape(const LsmShape& shape,
                const std::function<bool(uint32_t)>& reclaimed,
                const std::string& indent, FILE* out) {
  std::fprintf(out,
               "%slevel  files      MiB  1-bucket  straddling(max span)  "
               "in-reclaimed-bucket files / MiB\n",
               indent.c_str());
  for (size_t l = 0; l < shape.levels.size(); l++) {
    const auto& files = shape.levels[l];
    if (files.empty()) continue;
    size_t single = 0;
    size_t straddling = 0;
    uint32_t max_span = 0;
    size_t in_reclaimed = 0;
    uint64_t in_reclaimed_bytes = 0;
    for (const TableFileInfo& f : files) {
      const uint32_t span = f.BucketSpan();
      max_span = std::max(max_span, span);
      if (span == 1) {
        single++;
        if (reclaimed(f.first_bucket)) {
          in_reclaimed++;
          in_reclaimed_bytes += f.size_bytes;
        }
      } else {
        straddling++;  // or undecodable (span 0)
      }
    }
    std::fprintf(out,
                 "%s%5zu %6zu %8.1f  %8zu  %10zu (%5u)        %8zu / %8.1f\n",
                 indent.c_str(), l, files.size(),
                 static_cast<double>(shape.LevelBytes(l)) / 1048576.0, single,
                 straddling, max_span, in_reclaimed,
                 static_cast<double>(in_reclaimed_bytes) / 1048576.0);
  }
}

bool ParseStatsTotals(const std::string& stats, double* read_mib,
                      double* write_mib) {
  *read_mib = 0;
  *write_mib = 0;
  bool any = false;
  size_t start = 0;
  while (start < stats.size()) {
    size_t end = stats.find('\n', start);
    if (end == std::string::npos) end = stats.size();
    const std::string line = stats.substr(start, end - start);
    start = end + 1;
    // "level files size(MB) time(sec) read(MB) write(MB) count"
    int level = 0;
    int files = 0;
    double size = 0, secs = 0, read = 0, write = 0;
    long long count = 0;
    int consumed = 0;
    if (std::sscanf(line.c_str(), "%d %d %lf %lf %lf %lf %lld%n", &level,
                    &files, &size, &secs, &read, &write, &count,
                    &consumed) == 7 &&
        static_cast<size_t>(consumed) == line.size()) {
      *read_mib += read;
      *write_mib += write;
      any = true;
    }
  }
  return any;
}

}  // namespace tessera::ldb_bench
