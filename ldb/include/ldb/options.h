// Options controlling a DB, its reads and its writes.
#ifndef LDB_INCLUDE_OPTIONS_H_
#define LDB_INCLUDE_OPTIONS_H_

#include <cstddef>
#include <cstdint>

namespace ldb {

class Cache;
class Comparator;
class Env;
class FilterPolicy;
class Logger;
class Snapshot;

// Per-block compression. Persisted in tables: DO NOT RENUMBER.
enum CompressionType : unsigned char {
  kNoCompression = 0x0,
  kSnappyCompression = 0x1,
};

struct Options {
  Options();

  // ---- Behaviour
  // Order of keys. Must outlive the DB and keep its name across opens.
  // Default: BytewiseComparator().
  const Comparator* comparator;
  bool create_if_missing = false;
  bool error_if_exists = false;
  // Stop at the first sign of damage (e.g. a corrupt WAL record) instead of
  // skipping what cannot be read.
  bool paranoid_checks = false;
  // Environment. Must outlive the DB. Default: Env::Default().
  Env* env;
  // Where internal progress and errors are logged; nullptr means a LOG file
  // in the DB directory. Must outlive the DB.
  Logger* info_log = nullptr;

  // ---- Performance
  // Bytes of memtable before it is turned into a level-0 table.
  size_t write_buffer_size = 4 * 1024 * 1024;
  // Files the DB keeps open: the table cache holds this many minus 10 tables
  // (each keeps its index and filter blocks). A read that needs a table not
  // in it opens the file, and the cache closes another one: keep it above the
  // number of table files (`ldb.sstables`). The POSIX Env maps tables up to a
  // per-process budget (half of vm.max_map_count), and reads the rest with a
  // file descriptor each. 74..50000.
  int max_open_files = 1000;
  // Cache of uncompressed data blocks; nullptr means an internal 8 MiB cache.
  // Must outlive the DB.
  Cache* block_cache = nullptr;
  // Uncompressed bytes per data block (approximate).
  size_t block_size = 4 * 1024;
  // Keys between restart points of delta encoding.
  int block_restart_interval = 16;
  // Bytes per table file before a compaction starts a new one.
  size_t max_file_size = 2 * 1024 * 1024;
  CompressionType compression = kSnappyCompression;
  // Filters to skip tables on Get; nullptr means none. Must outlive the DB.
  const FilterPolicy* filter_policy = nullptr;
  // Parallel subcompactions: a compaction with at least 2 * max_file_size
  // bytes of input is split into up to this many disjoint key ranges (of
  // about equal input bytes, each at least max_file_size), merged at once on
  // their own threads; the outputs of all ranges are installed together.
  // 1 disables the split. Values are clipped to [1, 16].
  int max_subcompactions = 2;
  // CPU niceness of the threads merging compactions (Linux; 0 keeps the
  // background thread's own). 1..19 make the scheduler prefer every other
  // thread when the CPUs are busy, e.g. a server's request threads, so that a
  // compaction does not add to their tail latency. Memtable flushes keep the
  // normal priority (writes wait for them). If compactions then fall behind,
  // the level-0 triggers below slow writes down as usual.
  int compaction_nice = 0;

  // ---- Level-0 triggers (files, or bytes when cut_flush_at_stop_before)
  // Compaction of level 0 starts at this many files.
  int level0_file_num_compaction_trigger = 4;
  // Each write is delayed by 1 ms at this many files.
  int level0_slowdown_writes_trigger = 8;
  // Writes stop until compaction catches up at this many files.
  int level0_stop_writes_trigger = 12;
  // Bytes per level-1 (each deeper level holds 10x the previous).
  uint64_t max_bytes_for_level_base = 10 * 1048576;

  // ---- Tair behaviour
  // Cut memtable flushes where Comparator::ShouldStopBefore says so. Off by
  // default: a memtable holding keys of every bucket would become one tiny
  // level-0 file per bucket. With it on, level-0 triggers count bytes
  // (trigger * write_buffer_size) instead of files.
  bool cut_flush_at_stop_before = false;
  // With cut_flush_at_stop_before: a flush output is cut at a boundary only once
  // it holds this many bytes (0: at every boundary), or around a bucket that
  // holds this many bytes of the memtable by itself. A memtable with a little of
  // every bucket then becomes a few files that straddle buckets, and these stay
  // in level 0; a big bucket (one migrating in), even among thin writes to all
  // the others, becomes files of its own, which may go below level 0 when they
  // overlap nothing there.
  uint64_t flush_cut_min_bytes = 0;

  // Tables made by DB::IngestSorted are written around the OS page cache and
  // read back into it in the background once closed
  // (Env::NewUncachedWritableFile): on the VM of README a buffered write of new
  // data costs 0.9-2.4 ms of CPU per MB, O_DIRECT and a read-back by the device
  // 0.4-0.5. Without the read-back, the first get into such a table waited for
  // the disk to read all of it.
  bool uncached_ingest = true;
};

struct ReadOptions {
  // Verify block checksums on every read.
  bool verify_checksums = false;
  // Put blocks read for this operation in the block cache.
  bool fill_cache = true;
  // Read as of this snapshot (from GetSnapshot, not released yet); nullptr
  // means the latest state.
  const Snapshot* snapshot = nullptr;
};

struct WriteOptions {
  // fsync the WAL before acknowledging. Without it a machine crash may lose
  // recent writes (a process crash does not).
  bool sync = false;

  // A low-priority write (bulk data: a load, keys migrated in from another
  // node) yields to the others. Before it joins the write queue it waits
  // while the previous memtable is still being flushed and this write would
  // fill the current one to within 1/16 of write_buffer_size. The other
  // writers keep that room, so they find space instead of stalling behind a
  // flush the bulk writes made necessary (as long as they do not fill the
  // reserve themselves). The wait ends when the flush finishes or fails; the
  // write itself is like any other. Level-0 triggers apply to it as to any
  // write. Like every write, it must not be in flight when the DB is closed.
  bool low_priority = false;
};

}  // namespace ldb

#endif  // LDB_INCLUDE_OPTIONS_H_
