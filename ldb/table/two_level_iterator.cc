#include "table/two_level_iterator.h"

#include <cassert>
#include <string>
#include <utility>

#include "table/iterator_wrapper.h"

namespace ldb {

namespace {

// Walks the entries of the second-level iterators that the index iterator's
// values open, in order, skipping empty ones in both directions. The first
// error (from the index, from opening a block, or from inside a block) stops
// the iterator for good: Valid() is false from then on and status() reports
// the error. Thread-compatible.
class TwoLevelIterator : public Iterator {
 public:
  TwoLevelIterator(std::unique_ptr<Iterator> index_iter,
                   BlockFunction block_function, const ReadOptions& options)
      : block_function_(std::move(block_function)),
        options_(options),
        index_iter_(std::move(index_iter)) {}

  bool Valid() const override { return status_.ok() && data_iter_.Valid(); }

  Slice key() const override {
    assert(Valid());
    return data_iter_.key();
  }
  Slice value() const override {
    assert(Valid());
    return data_iter_.value();
  }

  Status status() const override {
    if (!status_.ok()) return status_;
    Status s = index_iter_.status();
    if (!s.ok()) return s;
    if (data_iter_.iter() != nullptr) return data_iter_.status();
    return Status::OK();
  }

  void Seek(const Slice& target) override {
    if (!status_.ok()) return;
    index_iter_.Seek(target);
    InitDataBlock();
    if (data_iter_.iter() != nullptr) data_iter_.Seek(target);
    SkipEmptyDataBlocksForward();
  }

  void SeekToFirst() override {
    if (!status_.ok()) return;
    index_iter_.SeekToFirst();
    InitDataBlock();
    if (data_iter_.iter() != nullptr) data_iter_.SeekToFirst();
    SkipEmptyDataBlocksForward();
  }

  void SeekToLast() override {
    if (!status_.ok()) return;
    index_iter_.SeekToLast();
    InitDataBlock();
    if (data_iter_.iter() != nullptr) data_iter_.SeekToLast();
    SkipEmptyDataBlocksBackward();
  }

  void Next() override {
    assert(Valid());
    data_iter_.Next();
    SkipEmptyDataBlocksForward();
  }

  void Prev() override {
    assert(Valid());
    data_iter_.Prev();
    SkipEmptyDataBlocksBackward();
  }

 private:
  void SaveError(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }

  // True (with status_ set) when the current data iterator or the index
  // iterator has failed.
  bool CheckErrors() {
    if (data_iter_.iter() != nullptr) SaveError(data_iter_.status());
    if (!index_iter_.Valid()) SaveError(index_iter_.status());
    return !status_.ok();
  }

  void SkipEmptyDataBlocksForward() {
    while (!data_iter_.Valid()) {
      if (CheckErrors() || !index_iter_.Valid()) {
        SetDataIterator(nullptr);
        return;
      }
      index_iter_.Next();
      InitDataBlock();
      if (data_iter_.iter() != nullptr) data_iter_.SeekToFirst();
    }
  }

  void SkipEmptyDataBlocksBackward() {
    while (!data_iter_.Valid()) {
      if (CheckErrors() || !index_iter_.Valid()) {
        SetDataIterator(nullptr);
        return;
      }
      index_iter_.Prev();
      InitDataBlock();
      if (data_iter_.iter() != nullptr) data_iter_.SeekToLast();
    }
  }

  void SetDataIterator(std::unique_ptr<Iterator> data_iter) {
    if (data_iter_.iter() != nullptr) SaveError(data_iter_.status());
    data_iter_.Set(std::move(data_iter));
  }

  // Opens the block the index iterator points at (reusing the current data
  // iterator when it is that block already).
  void InitDataBlock() {
    if (!index_iter_.Valid()) {
      SetDataIterator(nullptr);
      return;
    }
    const Slice handle = index_iter_.value();
    if (data_iter_.iter() != nullptr && handle == Slice(data_block_handle_)) {
      return;
    }
    data_block_handle_.assign(handle.data(), handle.size());
    SetDataIterator(block_function_(options_, handle));
  }

  const BlockFunction block_function_;
  const ReadOptions options_;
  Status status_;  // first error met; sticky
  IteratorWrapper index_iter_;
  IteratorWrapper data_iter_;  // may hold nullptr
  // Index value that opened data_iter_, when data_iter_ is set.
  std::string data_block_handle_;
};

}  // namespace

std::unique_ptr<Iterator> NewTwoLevelIterator(
    std::unique_ptr<Iterator> index_iter, BlockFunction block_function,
    const ReadOptions& options) {
  return std::make_unique<TwoLevelIterator>(std::move(index_iter),
                                            std::move(block_function), options);
}

}  // namespace ldb
