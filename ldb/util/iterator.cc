// Iterator base class and trivial iterators. See ldb/iterator.h.
#include "ldb/iterator.h"

#include <cassert>
#include <utility>

namespace ldb {

Iterator::Iterator() = default;

Iterator::~Iterator() {
  for (auto it = cleanups_.rbegin(); it != cleanups_.rend(); ++it) {
    (*it)();
  }
}

void Iterator::RegisterCleanup(std::function<void()> fn) {
  assert(fn != nullptr);
  cleanups_.push_back(std::move(fn));
}

namespace {

// Iterates over nothing and reports a fixed status. Thread-compatible.
class EmptyIterator final : public Iterator {
 public:
  explicit EmptyIterator(Status status) : status_(std::move(status)) {}

  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(const Slice& /*target*/) override {}
  void Next() override { assert(false); }
  void Prev() override { assert(false); }
  Slice key() const override {
    assert(false);
    return Slice();
  }
  Slice value() const override {
    assert(false);
    return Slice();
  }
  Status status() const override { return status_; }

 private:
  const Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewEmptyIterator() {
  return std::make_unique<EmptyIterator>(Status::OK());
}

std::unique_ptr<Iterator> NewErrorIterator(const Status& status) {
  return std::make_unique<EmptyIterator>(status);
}

}  // namespace ldb
