// TableBuilder: writes a sorted table file (format in ldb/doc/table_format.md).
//
// Thread-compatible.
#ifndef LDB_TABLE_TABLE_BUILDER_H_
#define LDB_TABLE_TABLE_BUILDER_H_

#include <cstdint>
#include <memory>

#include "ldb/options.h"
#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class WritableFile;

class TableBuilder {
 public:
  // Builds into `file`, which must outlive the builder; the caller closes it
  // after Finish(). options.comparator orders the keys (the DB passes its
  // InternalKeyComparator and an InternalFilterPolicy).
  TableBuilder(const Options& options, WritableFile* file);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;
  // REQUIRES: Finish() or Abandon() was called.
  ~TableBuilder();

  // REQUIRES: key is after every key added so far; neither Finish nor
  // Abandon was called.
  void Add(const Slice& key, const Slice& value);
  // Ends the current data block and appends it to the file; the file may
  // keep it in its own buffer (no WritableFile::Flush) until Finish() and
  // the caller's Sync() or Close(). Not needed normally.
  void Flush();
  // First error met, if any.
  Status status() const;
  // Writes the remaining blocks, the filter, indexes and footer.
  Status Finish();
  // The builder's content will not be used.
  void Abandon();

  uint64_t NumEntries() const;
  // Bytes written so far (the file size after Finish()).
  uint64_t FileSize() const;
  // The key of the last Add() (empty before the first). Valid until the
  // next Add(), Finish() or Abandon().
  Slice LastKey() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace ldb

#endif  // LDB_TABLE_TABLE_BUILDER_H_
