// Access to WriteBatch internals that the public API does not expose.
#ifndef LDB_DB_WRITE_BATCH_INTERNAL_H_
#define LDB_DB_WRITE_BATCH_INTERNAL_H_

#include "db/dbformat.h"
#include "ldb/write_batch.h"

namespace ldb {

class MemTable;

class WriteBatchInternal {
 public:
  // Bytes of the header: sequence fixed64 + count fixed32.
  static constexpr size_t kHeader = 12;

  static int Count(const WriteBatch* batch);
  static void SetCount(WriteBatch* batch, int n);
  // Sequence number of the first update.
  static SequenceNumber Sequence(const WriteBatch* batch);
  static void SetSequence(WriteBatch* batch, SequenceNumber seq);

  static Slice Contents(const WriteBatch* batch) { return Slice(batch->rep_); }
  static size_t ByteSize(const WriteBatch* batch) { return batch->rep_.size(); }
  // Corruption if contents is shorter than the header (WAL replay input).
  static Status SetContents(WriteBatch* batch, const Slice& contents);

  // Adds every update to memtable, numbering them from Sequence(batch).
  static Status InsertInto(const WriteBatch* batch, MemTable* memtable);

  // Appends src's updates to dst (dst keeps its sequence).
  static void Append(WriteBatch* dst, const WriteBatch* src);
};

}  // namespace ldb

#endif  // LDB_DB_WRITE_BATCH_INTERNAL_H_
