// LsmShape: the table files of an open ldb, per level, as read from its
// "ldb.sstables" property, with the Tair bucket of each file's smallest and
// largest key; and the compaction totals of its "ldb.stats" property. Used by
// the cleanup benchmark to show how the reclaimed buckets' data is spread
// over the levels and whether table files straddle buckets.
//
// Plain data and pure functions: thread-compatible.
#ifndef TESSERA_TOOLS_LDB_BENCH_LSM_SHAPE_H_
#define TESSERA_TOOLS_LDB_BENCH_LSM_SHAPE_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace tessera::ldb_bench {

// One table file as "ldb.sstables" lists it.
struct TableFileInfo {
  uint64_t number = 0;
  uint64_t size_bytes = 0;
  std::string smallest;  // user keys (unescaped)
  std::string largest;
  // Buckets of smallest / largest; valid only when `decoded`.
  bool decoded = false;
  uint32_t first_bucket = 0;
  uint32_t last_bucket = 0;

  // Buckets the file's key range touches (1 = a single-bucket file).
  uint32_t BucketSpan() const {
    return decoded ? last_bucket - first_bucket + 1 : 0;
  }
};

struct LsmShape {
  // levels[l]: the files of level l in the listed order.
  std::vector<std::vector<TableFileInfo>> levels;

  uint64_t LevelBytes(size_t level) const;
  uint64_t TotalBytes() const;
  size_t TotalFiles() const;
};

// Parses the value of the "ldb.sstables" property into *shape. Returns false
// (with *error set) when a line does not look like "--- level N ---" or
// " number:size['key' @ seq : type .. 'key' @ seq : type]".
bool ParseSstables(const std::string& text, LsmShape* shape,
                   std::string* error);

// True when, by ldb's size rules, no compaction is due: fewer than
// `level0_trigger` level-0 files and every level l in [1, last level) below
// level1_bytes * 10^(l - 1) bytes.
bool NoCompactionDue(const LsmShape& shape, int level0_trigger,
                     double level1_bytes);

// Prints one row per non-empty level: files, MiB, files inside one bucket,
// files straddling buckets (and the largest span), and the MiB and files that
// lie wholly inside a bucket for which `reclaimed(bucket)` is true.
void PrintShape(const LsmShape& shape,
                const std::function<bool(uint32_t)>& reclaimed,
                const std::string& indent, FILE* out);

// Read(MB) and Write(MB) summed over the levels of an "ldb.stats" value
// (each level's figure is rounded to 1 MiB there). False when no level row
// parses.
bool ParseStatsTotals(const std::string& stats, double* read_mib,
                      double* write_mib);

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_LSM_SHAPE_H_
