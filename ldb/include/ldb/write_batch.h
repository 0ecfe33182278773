// WriteBatch: a set of updates applied to the DB atomically, in order.
//
// Thread-compatible. Format of the representation (also the WAL record body)
// is described in ldb/doc/log_format.md:
//   sequence fixed64 | count fixed32 | record*
//   record := kTypeValue varstring varstring | kTypeDeletion varstring
#ifndef LDB_INCLUDE_WRITE_BATCH_H_
#define LDB_INCLUDE_WRITE_BATCH_H_

#include <string>

#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class WriteBatch {
 public:
  class Handler {
   public:
    virtual ~Handler();
    virtual void Put(const Slice& key, const Slice& value) = 0;
    virtual void Delete(const Slice& key) = 0;
  };

  WriteBatch();
  WriteBatch(const WriteBatch&) = default;
  WriteBatch& operator=(const WriteBatch&) = default;
  ~WriteBatch();

  void Put(const Slice& key, const Slice& value);
  void Delete(const Slice& key);
  // Removes every update.
  void Clear();
  // Appends the updates of `source` after those of this batch.
  void Append(const WriteBatch& source);

  // Number of updates.
  int Count() const;
  // Bytes of the representation (a cheap size estimate).
  size_t ApproximateSize() const;

  // Calls handler for each update in order; Corruption if the representation
  // is damaged.
  Status Iterate(Handler* handler) const;

 private:
  friend class WriteBatchInternal;
  std::string rep_;
};

}  // namespace ldb

#endif  // LDB_INCLUDE_WRITE_BATCH_H_
