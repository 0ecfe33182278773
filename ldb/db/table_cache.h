// TableCache: keeps recently used table files open (the file plus its parsed
// Table) in an LRU cache keyed by file number.
//
// Thread-safe.
#ifndef LDB_DB_TABLE_CACHE_H_
#define LDB_DB_TABLE_CACHE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ldb/cache.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/status.h"

namespace ldb {

class Env;
class Table;

class TableCache {
 public:
  // Opens tables of directory `dbname` with `options` (whose comparator is
  // the DB's InternalKeyComparator); `options` and everything it points to
  // must outlive the cache. Holds at most `entries` open tables.
  TableCache(const std::string& dbname, const Options& options, int entries);
  TableCache(const TableCache&) = delete;
  TableCache& operator=(const TableCache&) = delete;
  ~TableCache();

  // An iterator over table `file_number` (of `file_size` bytes). If tableptr
  // is not null, *tableptr is set to the Table behind the iterator (nullptr
  // on error); it lives as long as the iterator. An error opening the table
  // is returned as an error iterator.
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options,
                                        uint64_t file_number,
                                        uint64_t file_size,
                                        Table** tableptr = nullptr);

  // Calls handle_result(found_key, found_value) for the first entry of the
  // table whose key is >= internal_key, if any (see Table::InternalGet).
  Status Get(
      const ReadOptions& options, uint64_t file_number, uint64_t file_size,
      const Slice& internal_key,
      const std::function<void(const Slice&, const Slice&)>& handle_result);

  // Approximate offset of `internal_key` within the table, or 0 when the
  // table cannot be opened.
  uint64_t ApproximateOffsetOf(uint64_t file_number, uint64_t file_size,
                               const Slice& internal_key);

  // Drops the cached entry of file_number (the file is being deleted).
  void Evict(uint64_t file_number);

  // Tables opened since construction (cache misses that opened the file). Far
  // more opens than table files means the cache is too small for the DB.
  uint64_t Opens() const { return opens_.load(std::memory_order_relaxed); }

 private:
  Status FindTable(uint64_t file_number, uint64_t file_size,
                   Cache::Handle** handle);

  // Constant after construction.
  Env* const env_;
  const std::string dbname_;
  const Options& options_;
  const std::unique_ptr<Cache> cache_;
  std::atomic<uint64_t> opens_{0};
};

}  // namespace ldb

#endif  // LDB_DB_TABLE_CACHE_H_
