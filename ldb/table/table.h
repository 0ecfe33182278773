// Table: an immutable, sorted table file opened for reading.
//
// Thread-safe (immutable after Open).
#ifndef LDB_TABLE_TABLE_H_
#define LDB_TABLE_TABLE_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/status.h"

namespace ldb {

class RandomAccessFile;

class Table {
 public:
  // Opens the table stored in file[0, file_size). `options` (its comparator,
  // filter_policy, block_cache, paranoid_checks) and `file` must outlive the
  // table. A damaged footer, index or meta block gives Corruption.
  static Status Open(const Options& options, const RandomAccessFile* file,
                     uint64_t file_size, std::unique_ptr<Table>* table);

  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table();

  // Iterator over the table's entries. A damaged block surfaces as
  // iterator status Corruption, never as wrong data. The table must outlive
  // the iterator (blocks may borrow the file's mapped memory).
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) const;

  // Finds the first entry with key >= k and, if one exists, calls
  // handle_result(found_key, found_value). Skips the data block when the
  // filter says k is absent (k is passed to the filter as is).
  Status InternalGet(
      const ReadOptions& options, const Slice& k,
      const std::function<void(const Slice&, const Slice&)>& handle_result)
      const;

  // Approximate file offset where the data for `key` starts (or would).
  uint64_t ApproximateOffsetOf(const Slice& key) const;

 private:
  struct Rep;
  explicit Table(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace ldb

#endif  // LDB_TABLE_TABLE_H_
