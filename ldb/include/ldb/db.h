// DB: a persistent, ordered map from keys to values.
//
// Thread-safe: many threads may call any method at once without locking.
#ifndef LDB_INCLUDE_DB_H_
#define LDB_INCLUDE_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ldb/comparator.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/slice.h"
#include "ldb/status.h"
#include "ldb/write_batch.h"

namespace ldb {

// A consistent read-only view of the DB. Obtain with DB::GetSnapshot, give
// back with DB::ReleaseSnapshot.
class Snapshot {
 protected:
  virtual ~Snapshot();
};

// A key range [start, limit).
struct Range {
  Range() = default;
  Range(const Slice& s, const Slice& l) : start(s), limit(l) {}
  Slice start;
  Slice limit;
};

// What one CompactRangeSelfLevel call did.
struct SelfLevelCompactionStats {
  uint64_t files_compacted = 0;
  uint64_t files_dropped_whole = 0;  // dropped by ShouldDropRange, unread
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_dropped = 0;  // bytes_read + whole-file bytes - bytes_written
};

// How one IngestSorted call runs.
struct IngestOptions {
  // Runs `build` -- the call's table building: encoding, compression, filters,
  // checksums and the file writes, most of the call's CPU, with no lock held --
  // and returns once it has returned. Empty: on the calling thread. Given a
  // thread of a lower CPU class (a migration's bulk load), the build yields the
  // CPU to everything else, while the install (a MANIFEST write in ldb's
  // background slot, which flushes and compactions wait for) stays on the
  // caller's thread, in the caller's class.
  std::function<void(const std::function<void()>& build)> build_runner;
};

// What one IngestSorted call did.
struct IngestStats {
  uint64_t files = 0;  // table files written
  uint64_t bytes = 0;  // their bytes
  int level = -1;      // the level they went to
};

class DB {
 public:
  // Opens (or creates, with create_if_missing) the DB in directory `name`.
  static Status Open(const Options& options, const std::string& name,
                     std::unique_ptr<DB>* dbptr);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Waits for background work, then closes.
  virtual ~DB();

  virtual Status Put(const WriteOptions& options, const Slice& key,
                     const Slice& value) = 0;
  // Not an error if key does not exist.
  virtual Status Delete(const WriteOptions& options, const Slice& key) = 0;
  virtual Status Write(const WriteOptions& options, WriteBatch* updates) = 0;

  // OK with *value set, NotFound, or an error.
  virtual Status Get(const ReadOptions& options, const Slice& key,
                     std::string* value) = 0;

  // An iterator over the DB (or options.snapshot). Positioned nowhere; call a
  // Seek method first. Must be destroyed before the DB.
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;

  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Properties:
  //  "ldb.num-files-at-level<N>"   files at level N
  //  "ldb.stats"                   per-level and compaction statistics
  //  "ldb.sstables"                every table file, by level
  //  "ldb.approximate-memory-usage" bytes held by memtables and caches
  //  "ldb.sequence"                last sequence number used
  //  "ldb.largest-filenumber"      the largest file number allocated so far
  //  "ldb.background-error"        the sticky background error, or "OK"
  //  "ldb.write-stall-micros"      microseconds writers were held back since
  //                                open (level-0 slowdowns and stops, waits
  //                                for the previous memtable's flush)
  //  "ldb.low-priority-wait-micros"  microseconds WriteOptions::low_priority
  //                                writes waited for a flush since open
  //  "ldb.table-opens"             table files opened by the table cache since
  //                                open; growing much faster than the table
  //                                count means Options::max_open_files is too
  //                                small (every miss opens a file, and evicts)
  virtual bool GetProperty(const Slice& property, std::string* value) = 0;

  // Approximate file-system bytes for each range.
  virtual void GetApproximateSizes(const Range* ranges, int n,
                                   uint64_t* sizes) = 0;

  // Compacts [*begin, *end] (nullptr means unbounded) down the levels, so
  // that deleted and overwritten data in the range is discarded.
  virtual void CompactRange(const Slice* begin, const Slice* end) = 0;

  // Tair's in-place cleanup: at each level compacts the files overlapping
  // [*begin, *end) (nullptr = unbounded) whose file number is below
  // limit_filenumber (level 0 ignores the limit), and installs the output in
  // the same level (level 0 output goes to level 1). Returns when done.
  virtual Status CompactRangeSelfLevel(uint64_t limit_filenumber,
                                       const Slice* begin, const Slice* end,
                                       SelfLevelCompactionStats* stats) = 0;
  Status CompactRangeSelfLevel(uint64_t limit_filenumber, const Slice* begin,
                               const Slice* end) {
    return CompactRangeSelfLevel(limit_filenumber, begin, end, nullptr);
  }

  // Bulk load: writes `entries` (puts, keys strictly increasing under the
  // comparator) straight into new table files, synced and recorded in the
  // MANIFEST before it returns, without the WAL or the memtable (no flush
  // and no level-0 compaction of them later: they go to the deepest level
  // they can). Meant for key ranges the DB is not otherwise writing, such as
  // a bucket migrating in. The entries share one new sequence number, above
  // every write before the call: they shadow older entries of their keys
  // and later writes shadow them.
  // REQUIRES: no other write of a key in [first key, last key] while the
  // call runs. The memtables are checked: when they hold a key of the range
  // nothing is written and the result is NotSupported (write the entries
  // through Write instead). InvalidArgument when the keys are not strictly
  // increasing. A snapshot taken while the call runs sees the entries once
  // it returns. Files are cut where Comparator::ShouldStopBefore says.
  virtual Status IngestSorted(
      const std::vector<std::pair<Slice, Slice>>& entries, IngestStats* stats,
      const IngestOptions& options) = 0;
  // The same with default IngestOptions (the build on the calling thread).
  Status IngestSorted(const std::vector<std::pair<Slice, Slice>>& entries,
                      IngestStats* stats) {
    return IngestSorted(entries, stats, IngestOptions());
  }
};

// Removes the DB's files and directory. The DB must be closed.
Status DestroyDB(const std::string& name, const Options& options);

}  // namespace ldb

#endif  // LDB_INCLUDE_DB_H_
