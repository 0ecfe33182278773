#include "flags.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

namespace tessera::ldb_bench {

const char* const kDefaultBenchmarks =
    "fillseq,fillrandom,overwrite,readrandom,readmissing,readseq,seekrandom,"
    "fillsync";

namespace {

enum class FlagType { kString, kInt, kBytes, kDouble, kBool, kList };

struct FlagSpec {
  const char* name;
  FlagType type;
  void* target;
  int64_t min;  // for kInt and kBytes
  int64_t max;
  const char* help;
};

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

std::vector<FlagSpec> Specs(BenchFlags* f) {
  return {
      {"engine", FlagType::kString, &f->engine, 0, 0,
       "all, one of ldb|leveldb|rocksdb, or a comma-separated list of them "
       "(e.g. ldb,leveldb), run in that order. 'all' runs every compiled-in "
       "engine. Every engine runs the same workload, and a side-by-side "
       "table follows."},
      {"benchmarks", FlagType::kList, &f->benchmarks, 0, 0,
       "Comma-separated list, run in order. Known: fillseq, fillrandom, "
       "overwrite, readrandom, readmissing, readseq, seekrandom, fillsync, "
       "deleterandom, cleanup. cleanup (ldb only; other engines skip it) "
       "fills 1023 Tair buckets on DBs of its own, reclaims every third "
       "bucket and compares CompactRangeSelfLevel with CompactRange over "
       "the reclaimed ranges; its --num defaults to 2000000. NAME@T runs "
       "NAME with T threads instead of --threads: fillsync,fillsync@4 "
       "measures group commit against one thread in the same round."},
      {"num", FlagType::kInt, &f->num, 1, kMaxInt,
       "Number of keys; keys are indices in [0, num)."},
      {"cleanup_settle", FlagType::kString, &f->cleanup_settle, 0, 0,
       "cleanup: how the filled DB comes to rest before the cleanup: wait "
       "(flush the memtable, then wait until no compaction is due; data "
       "spread over the levels as on a server) or compact "
       "(CompactRange over everything, then wait; the data ends in the "
       "deepest levels, none in levels 0 and 1)."},
      {"reads", FlagType::kInt, &f->reads, 0, kMaxInt,
       "Operations of the read benchmarks (default: num)."},
      {"num_sync", FlagType::kInt, &f->num_sync, 1, kMaxInt,
       "Writes of fillsync (default: num / 100)."},
      {"value_size", FlagType::kBytes, &f->value_size, 0, 64 << 20,
       "Bytes per value."},
      {"key_size", FlagType::kInt, &f->key_size, 1, 1024,
       "Bytes per key: the zero-padded decimal key index."},
      {"threads", FlagType::kInt, &f->threads, 1, 1024,
       "Threads per benchmark; each does 1/threads of the operations."},
      {"batch_size", FlagType::kInt, &f->batch_size, 1, 1 << 20,
       "Puts per write batch in the fill/overwrite benchmarks. Latency is "
       "measured per call (per batch)."},
      {"write_buffer_size", FlagType::kBytes, &f->write_buffer_size, 64 << 10,
       int64_t{1} << 36, "Memtable bytes before a flush."},
      {"cache_size", FlagType::kBytes, &f->cache_size, 0, int64_t{1} << 40,
       "Block cache bytes."},
      {"bloom_bits", FlagType::kInt, &f->bloom_bits, 0, 64,
       "Bloom filter bits per key (0: no filter)."},
      {"compression", FlagType::kString, &f->compression, 0, 0, "snappy|none."},
      {"compression_ratio", FlagType::kDouble, &f->compression_ratio, 0, 0,
       "Fraction of each value that is random; the rest repeats it, so "
       "values compress to about this ratio. In (0, 1]."},
      {"db", FlagType::kString, &f->db, 0, 0,
       "Base directory; each engine uses <db>/<engine> (default "
       "/tmp/ldb_bench-<pid>)."},
      {"use_existing_db", FlagType::kBool, &f->use_existing_db, 0, 0,
       "Open the DBs left under --db by an earlier --keep run; fill "
       "benchmarks are skipped and every key in [0, num) is assumed to "
       "exist."},
      {"keep", FlagType::kBool, &f->keep, 0, 0,
       "Do not remove the DB directories at the end."},
      {"seed", FlagType::kInt, &f->seed, 0, kMaxInt,
       "Random seed. Thread t of the benchmark at position p of --benchmarks "
       "uses seed + t + 65536 * p."},
      {"repeats", FlagType::kInt, &f->repeats, 1, 1000,
       "Rounds of the whole --benchmarks list per engine, interleaved: round "
       "1 runs every engine once (each in its own child process on a fresh "
       "DB), then round 2, and so on. With more than one round the final "
       "tables show per benchmark and engine the median over the rounds "
       "(ops/s, MB/s, p50, p99), the min..max ops/s, ldb/X ratios of the "
       "medians, and the median and max peak RSS; each round's own lines "
       "are printed as it runs."},
      {"markdown", FlagType::kBool, &f->markdown, 0, 0,
       "Also print the final (median) throughput table, with peak RSS rows, "
       "as a GitHub-markdown table ready to paste into a README."},
      {"histogram", FlagType::kBool, &f->histogram, 0, 0,
       "Print the latency histogram of each benchmark."},
      {"stats", FlagType::kBool, &f->stats, 0, 0,
       "Print each engine's own statistics after its last benchmark."},
  };
}

bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseBool(std::string_view text, bool* out) {
  if (text == "true" || text == "1" || text == "yes") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "0" || text == "no") {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    if (!item.empty()) items.emplace_back(item);
    start = comma + 1;
  }
  return items;
}

namespace {

// Word-wraps text to `width` columns, each line indented by `indent`.
std::string Wrap(std::string_view text, size_t indent, size_t width) {
  std::string out;
  std::string line(indent, ' ');
  size_t start = 0;
  while (start < text.size()) {
    size_t space = text.find(' ', start);
    if (space == std::string_view::npos) space = text.size();
    std::string_view word = text.substr(start, space - start);
    if (line.size() > indent && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.assign(indent, ' ');
    }
    if (line.size() > indent) line += ' ';
    line += word;
    start = space + 1;
  }
  return out + line + "\n";
}

}  // namespace

int64_t BenchFlags::EffectiveNumSync() const {
  if (num_sync > 0) return num_sync;
  return std::max<int64_t>(1, num / 100);
}

bool ParseByteSize(const std::string& text, int64_t* bytes) {
  if (text.empty()) return false;
  std::string_view digits = text;
  int shift = 0;
  switch (digits.back()) {
    case 'k':
    case 'K':
      shift = 10;
      break;
    case 'm':
    case 'M':
      shift = 20;
      break;
    case 'g':
    case 'G':
      shift = 30;
      break;
    default:
      break;
  }
  if (shift != 0) digits.remove_suffix(1);
  int64_t value = 0;
  if (!ParseInt(digits, &value) || value < 0) return false;
  if (value > (std::numeric_limits<int64_t>::max() >> shift)) return false;
  *bytes = value << shift;
  return true;
}

bool ParseFlags(int argc, char** argv, BenchFlags* flags, std::string* error) {
  std::vector<FlagSpec> specs = Specs(flags);
  bool benchmarks_given = false;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      flags->help = true;
      return true;
    }
    if (arg.substr(0, 2) != "--") {
      *error = "unexpected argument '" + std::string(arg) +
               "' (flags look like --name=value; see --help)";
      return false;
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    const std::string value(has_value ? arg.substr(eq + 1) : "");
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const FlagSpec& s) { return name == s.name; });
    if (spec == specs.end()) {
      *error = "unknown flag --" + name + " (see --help)";
      return false;
    }
    if (!has_value && spec->type != FlagType::kBool) {
      *error = "flag --" + name + " needs a value: --" + name + "=...";
      return false;
    }
    const std::string bad = "bad value '" + value + "' for --" + name + ": ";
    if (name == "num") flags->num_given = true;
    switch (spec->type) {
      case FlagType::kString:
        *static_cast<std::string*>(spec->target) = value;
        break;
      case FlagType::kList:
        *static_cast<std::vector<std::string>*>(spec->target) =
            SplitList(value);
        benchmarks_given = true;
        break;
      case FlagType::kBool:
        if (!has_value) {
          *static_cast<bool*>(spec->target) = true;
        } else if (!ParseBool(value, static_cast<bool*>(spec->target))) {
          *error = bad + "expected true or false";
          return false;
        }
        break;
      case FlagType::kInt:
      case FlagType::kBytes: {
        int64_t v = 0;
        const bool ok = spec->type == FlagType::kInt ? ParseInt(value, &v)
                                                     : ParseByteSize(value, &v);
        if (!ok) {
          *error = bad + (spec->type == FlagType::kInt
                              ? "expected an integer"
                              : "expected a byte count such as 4096, 64K, "
                                "8M or 1G");
          return false;
        }
        if (v < spec->min || v > spec->max) {
          *error = bad + "must be in [" + std::to_string(spec->min) + ", " +
                   std::to_string(spec->max) + "]";
          return false;
        }
        *static_cast<int64_t*>(spec->target) = v;
        break;
      }
      case FlagType::kDouble: {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() ||
            errno != 0 || !std::isfinite(v)) {
          *error = bad + "expected a number";
          return false;
        }
        *static_cast<double*>(spec->target) = v;
        break;
      }
    }
  }

  if (!benchmarks_given) flags->benchmarks = SplitList(kDefaultBenchmarks);
  if (flags->benchmarks.empty()) {
    *error = "--benchmarks is empty";
    return false;
  }
  if (!(flags->compression_ratio > 0.0 && flags->compression_ratio <= 1.0)) {
    *error = "bad value for --compression_ratio: must be in (0, 1]";
    return false;
  }
  if (flags->compression != "snappy" && flags->compression != "none") {
    *error = "bad value '" + flags->compression +
             "' for --compression: expected snappy or none";
    return false;
  }
  if (flags->cleanup_settle != "wait" && flags->cleanup_settle != "compact") {
    *error = "bad value '" + flags->cleanup_settle +
             "' for --cleanup_settle: expected wait or compact";
    return false;
  }
  // Every key index must fit in key_size decimal digits.
  const std::string largest = std::to_string(flags->num - 1);
  if (static_cast<int64_t>(largest.size()) > flags->key_size) {
    *error = "--key_size=" + std::to_string(flags->key_size) +
             " is too small for --num=" + std::to_string(flags->num) +
             " (needs " + std::to_string(largest.size()) + " digits)";
    return false;
  }
  return true;
}

std::string FlagsUsage() {
  BenchFlags defaults;
  defaults.benchmarks = SplitList(kDefaultBenchmarks);
  std::string out =
      "ldb_bench: db_bench-style benchmarks of ldb, LevelDB and RocksDB, all\n"
      "configured alike (4 KiB blocks, snappy, bloom filter, same write\n"
      "buffer and block cache, max_open_files 1000). Each engine runs in its\n"
      "own child process so that its peak RSS is its own. On a noisy\n"
      "machine use --repeats=N: N interleaved rounds, medians reported.\n\n"
      "Usage: ldb_bench [--name=value ...]\n"
      "Byte counts accept K, M and G suffixes (powers of 1024); MB/s means\n"
      "MiB of key+value bytes per second.\n\n";
  for (const FlagSpec& spec : Specs(&defaults)) {
    std::string def;
    switch (spec.type) {
      case FlagType::kString:
        def = *static_cast<std::string*>(spec.target);
        break;
      case FlagType::kList:
        def = kDefaultBenchmarks;
        break;
      case FlagType::kBool:
        def = *static_cast<bool*>(spec.target) ? "true" : "false";
        break;
      case FlagType::kInt:
      case FlagType::kBytes:
        def = std::to_string(*static_cast<int64_t*>(spec.target));
        break;
      case FlagType::kDouble:
        def = std::to_string(*static_cast<double*>(spec.target));
        break;
    }
    if (def.empty() || def == "-1") def = "see text";
    out += "  --";
    out += spec.name;
    out += " (default: " + def + ")\n" + Wrap(spec.help, 6, 78);
  }
  out += "  --help\n      Print this text.\n";
  return out;
}

}  // namespace tessera::ldb_bench
