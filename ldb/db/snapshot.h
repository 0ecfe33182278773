// Snapshots: the DB's list of live read views, oldest first.
//
// Thread-compatible: the DB guards the list with its mutex.
#ifndef LDB_DB_SNAPSHOT_H_
#define LDB_DB_SNAPSHOT_H_

#include <cassert>

#include "db/dbformat.h"
#include "ldb/db.h"

namespace ldb {

class SnapshotList;

// One snapshot: a sequence number and its place in the list. Owned by the
// SnapshotList between New and Delete.
class SnapshotImpl final : public Snapshot {
 public:
  explicit SnapshotImpl(SequenceNumber sequence) : sequence_(sequence) {}
  ~SnapshotImpl() override = default;

  SequenceNumber sequence() const { return sequence_; }

 private:
  friend class SnapshotList;

  const SequenceNumber sequence_;
  // Circular doubly linked list through the sentinel head of the owning
  // SnapshotList. Not owning.
  SnapshotImpl* prev_ = this;
  SnapshotImpl* next_ = this;
#ifndef NDEBUG
  const SnapshotList* list_ = nullptr;
#endif
};

class SnapshotList {
 public:
  SnapshotList() : head_(0) {}
  SnapshotList(const SnapshotList&) = delete;
  SnapshotList& operator=(const SnapshotList&) = delete;
  // REQUIRES: empty() (every snapshot was released).
  ~SnapshotList() { assert(empty()); }

  bool empty() const { return head_.next_ == &head_; }
  // REQUIRES: !empty()
  SnapshotImpl* oldest() const {
    assert(!empty());
    return head_.next_;
  }
  // REQUIRES: !empty()
  SnapshotImpl* newest() const {
    assert(!empty());
    return head_.prev_;
  }

  // Appends a snapshot at `sequence`, which must be >= every sequence in the
  // list (snapshots are taken in sequence order). The list owns it until
  // Delete.
  SnapshotImpl* New(SequenceNumber sequence) {
    assert(empty() || newest()->sequence_ <= sequence);
    auto* s = new SnapshotImpl(sequence);
#ifndef NDEBUG
    s->list_ = this;
#endif
    s->next_ = &head_;
    s->prev_ = head_.prev_;
    s->prev_->next_ = s;
    s->next_->prev_ = s;
    return s;
  }

  // Unlinks and destroys s. REQUIRES: s came from New on this list.
  void Delete(const SnapshotImpl* s) {
#ifndef NDEBUG
    assert(s->list_ == this);
#endif
    s->prev_->next_ = s->next_;
    s->next_->prev_ = s->prev_;
    delete s;
  }

 private:
  // Sentinel; its sequence is meaningless.
  SnapshotImpl head_;
};

}  // namespace ldb

#endif  // LDB_DB_SNAPSHOT_H_
