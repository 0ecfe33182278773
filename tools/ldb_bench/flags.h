// Command-line flags of ldb_bench: `--name=value` parsing without gflags.
#ifndef TESSERA_TOOLS_LDB_BENCH_FLAGS_H_
#define TESSERA_TOOLS_LDB_BENCH_FLAGS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::ldb_bench {

// Every flag, with its default. Plain data, thread-compatible.
struct BenchFlags {
  std::string engine = "all";
  std::vector<std::string> benchmarks;  // default: kDefaultBenchmarks
  int64_t num = 1000000;
  bool num_given = false;  // --num was on the command line
  int64_t reads = -1;      // -1: num
  int64_t num_sync = -1;   // -1: num / 100 (at least 1)
  int64_t value_size = 100;
  int64_t key_size = 16;
  int64_t threads = 1;
  int64_t batch_size = 1;
  int64_t write_buffer_size = 4 << 20;
  int64_t cache_size = 8 << 20;
  int64_t bloom_bits = 10;
  std::string compression = "snappy";
  double compression_ratio = 0.5;
  std::string db;  // empty: /tmp/ldb_bench-<pid>
  bool use_existing_db = false;
  bool keep = false;
  int64_t seed = 301;
  bool histogram = false;
  bool stats = false;
  int64_t repeats = 1;    // interleaved rounds of every engine
  bool markdown = false;  // also print the final table as GitHub markdown
  bool help = false;
  // cleanup: how the filled DB is brought to rest before the cleanup, "wait"
  // (flush, then wait until no compaction is due) or "compact"
  // (CompactRange over everything).
  std::string cleanup_settle = "wait";

  // Derived after parsing.
  int64_t EffectiveReads() const { return reads < 0 ? num : reads; }
  int64_t EffectiveNumSync() const;
};

// The benchmarks run when --benchmarks is not given, in order.
extern const char* const kDefaultBenchmarks;

// Parses argv[1, argc) into *flags. On a bad flag returns false and sets
// *error to a one-line message. "--help" sets flags->help and returns true.
bool ParseFlags(int argc, char** argv, BenchFlags* flags, std::string* error);

// Splits "a,b,,c" into {"a", "b", "c"} (empty items dropped).
std::vector<std::string> SplitList(std::string_view text);

// The --help text.
std::string FlagsUsage();

// Parses "123", "4K", "8M", "1G" (binary multiples) into *bytes.
bool ParseByteSize(const std::string& text, int64_t* bytes);

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_FLAGS_H_
