// The "cleanup" benchmark (ldb only): how fast, and at what write cost,
// reclaimed Tair buckets are purged from disk by CompactRangeSelfLevel,
// compared with plain CompactRange over the same key ranges.
//
// Each method gets a DB built from scratch the same way (same seed):
//  1. open ldb with BitcmpComparator over a GcRegistry in the DB directory,
//     the expire bloom policy and the bench options (write buffer, 4 KiB
//     blocks, compression, bloom bits, 2 MiB files, block cache);
//  2. fill `num` stored keys [expire 0][bucket][area 0][random user key]
//     over 1023 buckets (uniformly at random), in write batches of 256;
//  3. settle (--cleanup_settle): "wait" flushes the memtable and waits until
//     no size-triggered compaction is due (the shape a server has), "compact"
//     runs CompactRange(nullptr, nullptr) and then waits the same way (the
//     data ends in the deepest level(s), none in levels 0 and 1);
//  4. reclaim every third bucket (0, 3, 6, ...) in the GcRegistry at the
//     current sequence, file_number = largest file number + 1;
//  5. time the cleanup calls, one per run of contiguous reclaimed buckets:
//     CompactRangeSelfLevel(file_number, [start, limit)) or
//     CompactRange([start, limit]);
//  6. wait until no compaction is due, then measure again.
// Disk bytes are the sizes of the *.ldb files in the DB directory; the
// reclaimed buckets' bytes are GetApproximateSizes over their key ranges;
// bytes rewritten are the bytes appended to *.ldb files, counted by an Env
// wrapper.
#ifndef TESSERA_TOOLS_LDB_BENCH_CLEANUP_H_
#define TESSERA_TOOLS_LDB_BENCH_CLEANUP_H_

#include <string>

#include "flags.h"
#include "report.h"

namespace tessera::ldb_bench {

// The default --num of the cleanup benchmark when --num is not given.
inline constexpr int64_t kCleanupDefaultNum = 2000000;

// Runs the benchmark with its DBs under directory `dir` (created, and
// removed at the end unless --keep), printing its figures and the
// side-by-side table to stdout. The result's ops are the reclaimed buckets,
// bytes the bytes CompactRangeSelfLevel freed, elapsed its seconds, and the
// latencies those of one CompactRangeSelfLevel call; the note says which
// targets passed. Not thread-safe (runs DBs of its own).
BenchResult RunCleanupBenchmark(const BenchFlags& flags,
                                const std::string& dir);

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_CLEANUP_H_
