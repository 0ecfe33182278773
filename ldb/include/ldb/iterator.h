// Iterator: walks a sorted sequence of key/value pairs.
//
// Thread-compatible: one thread at a time per iterator. Keys and values
// returned are valid only until the next call that moves the iterator.
#ifndef LDB_INCLUDE_ITERATOR_H_
#define LDB_INCLUDE_ITERATOR_H_

#include <functional>
#include <memory>
#include <vector>

#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class Iterator {
 public:
  Iterator();
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  // Runs the registered cleanups, most recent first.
  virtual ~Iterator();

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first key >= target.
  virtual void Seek(const Slice& target) = 0;
  // REQUIRES: Valid()
  virtual void Next() = 0;
  // REQUIRES: Valid()
  virtual void Prev() = 0;
  // REQUIRES: Valid()
  virtual Slice key() const = 0;
  // REQUIRES: Valid()
  virtual Slice value() const = 0;
  // An error met while iterating (Valid() is false after one), else OK.
  virtual Status status() const = 0;

  // Registers fn to run when the iterator is destroyed.
  void RegisterCleanup(std::function<void()> fn);

 private:
  std::vector<std::function<void()>> cleanups_;
};

// An iterator over nothing, with the given status.
std::unique_ptr<Iterator> NewEmptyIterator();
std::unique_ptr<Iterator> NewErrorIterator(const Status& status);

}  // namespace ldb

#endif  // LDB_INCLUDE_ITERATOR_H_
