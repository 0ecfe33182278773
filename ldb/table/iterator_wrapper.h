// IteratorWrapper: owns an Iterator and caches its Valid() and key(), saving
// virtual calls in the merging and two-level iterators' inner loops.
//
// Thread-compatible.
#ifndef LDB_TABLE_ITERATOR_WRAPPER_H_
#define LDB_TABLE_ITERATOR_WRAPPER_H_

#include <cassert>
#include <memory>
#include <utility>

#include "ldb/iterator.h"
#include "ldb/slice.h"
#include "ldb/status.h"
#include "table/block.h"

namespace ldb {

class IteratorWrapper {
 public:
  IteratorWrapper() = default;
  explicit IteratorWrapper(std::unique_ptr<Iterator> iter) {
    Set(std::move(iter));
  }
  IteratorWrapper(IteratorWrapper&&) = default;
  IteratorWrapper& operator=(IteratorWrapper&&) = default;

  // The wrapped iterator, or nullptr.
  Iterator* iter() const { return iter_.get(); }

  // Replaces (and destroys) the wrapped iterator; nullptr leaves it empty.
  void Set(std::unique_ptr<Iterator> iter) {
    iter_ = std::move(iter);
    // A block iterator (the innermost level of every table scan) is called
    // directly rather than through the vtable on the per-entry path.
    block_ = dynamic_cast<BlockIter*>(iter_.get());
    if (iter_ == nullptr) {
      valid_ = false;
    } else {
      Update();
    }
  }

  // REQUIRES for the rest: iter() != nullptr (Valid() allows nullptr).
  bool Valid() const { return valid_; }
  Slice key() const {
    assert(Valid());
    return key_;
  }
  Slice value() const {
    assert(Valid());
    return block_ != nullptr ? block_->value() : iter_->value();
  }
  Status status() const { return iter_->status(); }

  void Next() {
    if (block_ != nullptr) {
      block_->Next();  // BlockIter is final: a direct call
      valid_ = block_->Valid();
      if (valid_) key_ = block_->key();
      return;
    }
    iter_->Next();
    Update();
  }
  void Prev() {
    iter_->Prev();
    Update();
  }
  void Seek(const Slice& target) {
    iter_->Seek(target);
    Update();
  }
  void SeekToFirst() {
    iter_->SeekToFirst();
    Update();
  }
  void SeekToLast() {
    iter_->SeekToLast();
    Update();
  }

 private:
  void Update() {
    valid_ = iter_->Valid();
    if (valid_) key_ = iter_->key();
  }

  std::unique_ptr<Iterator> iter_;
  BlockIter* block_ = nullptr;  // iter_ when it is a BlockIter
  bool valid_ = false;
  Slice key_;  // iter_->key() while valid_
};

}  // namespace ldb

#endif  // LDB_TABLE_ITERATOR_WRAPPER_H_
