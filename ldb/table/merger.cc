#include "table/merger.h"

#include <cassert>
#include <utility>

#include "ldb/comparator.h"
#include "table/iterator_wrapper.h"

namespace ldb {

namespace {

// Merges n >= 2 sorted children with a binary heap of the valid children.
//
// Order: entries are yielded by key; entries with equal keys in different
// children come in child order (child 0 first) going forward, and in the
// exact reverse going backward, so that switching direction in the middle of
// a run of equal keys neither skips nor repeats an entry.
//
// Errors: a child that turns invalid with a non-OK status stops the merged
// iterator for good (Valid() false, status() the error): a merged view
// missing a child's entries would be silently wrong.
//
// Thread-compatible.
class MergingIterator : public Iterator {
 public:
  MergingIterator(const Comparator* comparator,
                  std::vector<std::unique_ptr<Iterator>> children)
      : comparator_(comparator) {
    children_.reserve(children.size());
    for (auto& child : children) children_.emplace_back(std::move(child));
    heap_.reserve(children_.size());
  }

  bool Valid() const override { return status_.ok() && !heap_.empty(); }

  Slice key() const override {
    assert(Valid());
    return children_[heap_.front()].key();
  }
  Slice value() const override {
    assert(Valid());
    return children_[heap_.front()].value();
  }

  Status status() const override {
    if (!status_.ok()) return status_;
    for (const IteratorWrapper& child : children_) {
      Status s = child.status();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  void SeekToFirst() override {
    if (!status_.ok()) return;
    for (IteratorWrapper& child : children_) child.SeekToFirst();
    RebuildHeap(Direction::kForward);
  }

  void SeekToLast() override {
    if (!status_.ok()) return;
    for (IteratorWrapper& child : children_) child.SeekToLast();
    RebuildHeap(Direction::kReverse);
  }

  void Seek(const Slice& target) override {
    if (!status_.ok()) return;
    for (IteratorWrapper& child : children_) child.Seek(target);
    RebuildHeap(Direction::kForward);
  }

  void Next() override {
    assert(Valid());
    const size_t current = heap_.front();
    if (direction_ == Direction::kReverse) {
      // Put every other child on the first entry that follows the current
      // one in forward order: children before `current` skip entries equal
      // to key() (those were yielded before it), later children keep them.
      const Slice k = children_[current].key();
      for (size_t i = 0; i < children_.size(); ++i) {
        if (i == current) continue;
        IteratorWrapper& child = children_[i];
        child.Seek(k);
        if (i < current) SkipEqual(&child, k);
      }
      children_[current].Next();
      RebuildHeap(Direction::kForward);
      return;
    }
    children_[current].Next();
    ReplaceTop();
  }

  void Prev() override {
    assert(Valid());
    const size_t current = heap_.front();
    if (direction_ == Direction::kForward) {
      // Put every other child on the last entry that precedes the current
      // one in reverse order: children after `current` on the last entry
      // < key(), children before it on the last entry <= key().
      const Slice k = children_[current].key();
      for (size_t i = 0; i < children_.size(); ++i) {
        if (i == current) continue;
        IteratorWrapper& child = children_[i];
        child.Seek(k);
        if (i < current) SkipEqual(&child, k);
        if (child.Valid()) {
          child.Prev();
        } else if (child.status().ok()) {
          child.SeekToLast();
        }
      }
      children_[current].Prev();
      RebuildHeap(Direction::kReverse);
      return;
    }
    children_[current].Prev();
    ReplaceTop();
  }

 private:
  enum class Direction { kForward, kReverse };

  void SkipEqual(IteratorWrapper* child, const Slice& k) {
    while (child->Valid() && comparator_->Compare(child->key(), k) == 0) {
      child->Next();
    }
  }

  void NoteInvalidChild(const IteratorWrapper& child) {
    if (!status_.ok()) return;
    Status s = child.status();
    if (!s.ok()) status_ = std::move(s);
  }

  // True when child a's entry must come out before child b's.
  bool Before(size_t a, size_t b) const {
    const int r = comparator_->Compare(children_[a].key(), children_[b].key());
    if (direction_ == Direction::kForward) return r < 0 || (r == 0 && a < b);
    return r > 0 || (r == 0 && a > b);
  }

  void SiftDown(size_t pos) {
    const size_t n = heap_.size();
    const size_t item = heap_[pos];
    while (true) {
      size_t best = 2 * pos + 1;
      if (best >= n) break;
      if (best + 1 < n && Before(heap_[best + 1], heap_[best])) ++best;
      if (!Before(heap_[best], item)) break;
      heap_[pos] = heap_[best];
      pos = best;
    }
    heap_[pos] = item;
  }

  // The top child moved: restore the heap (dropping it if it ran out).
  void ReplaceTop() {
    const IteratorWrapper& top = children_[heap_.front()];
    if (!top.Valid()) {
      NoteInvalidChild(top);
      heap_.front() = heap_.back();
      heap_.pop_back();
    }
    if (!heap_.empty()) SiftDown(0);
  }

  void RebuildHeap(Direction direction) {
    direction_ = direction;
    heap_.clear();
    for (size_t i = 0; i < children_.size(); ++i) {
      if (children_[i].Valid()) {
        heap_.push_back(i);
      } else {
        NoteInvalidChild(children_[i]);
      }
    }
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftDown(i);
  }

  const Comparator* const comparator_;
  std::vector<IteratorWrapper> children_;
  // Indices of the valid children, a heap under Before(); front() is current.
  std::vector<size_t> heap_;
  Direction direction_ = Direction::kForward;
  Status status_;  // first child error; sticky
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(
    const Comparator* comparator,
    std::vector<std::unique_ptr<Iterator>> children) {
  if (children.empty()) return NewEmptyIterator();
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(comparator, std::move(children));
}

}  // namespace ldb
