// MemTable: the in-memory write buffer, a skiplist of internal entries on an
// arena.
//
// Thread safety: one writer at a time (the DB's write leader) may call Add
// while any number of threads call Get and iterate. Reference counted: the
// DB and every reader holding it call Ref/Unref; it deletes itself at zero.
#ifndef LDB_DB_MEMTABLE_H_
#define LDB_DB_MEMTABLE_H_

#include <atomic>
#include <memory>
#include <string>

#include "db/dbformat.h"
#include "ldb/iterator.h"
#include "ldb/status.h"

namespace ldb {

class MemTable {
 public:
  // `comparator` must outlive the memtable. Starts with a reference count of
  // zero: callers Ref() it.
  explicit MemTable(const InternalKeyComparator& comparator);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Deletes the memtable when the count drops to zero.
  void Unref();

  // Bytes of memory used (the arena).
  size_t ApproximateMemoryUsage();

  // Iterator over internal keys (key() is the internal key). The memtable
  // must stay referenced while the iterator lives.
  std::unique_ptr<Iterator> NewIterator();

  // Adds an entry; REQUIRES: external synchronization of writers, and no
  // entry with the same (user key, seq).
  void Add(SequenceNumber seq, ValueType type, const Slice& key,
           const Slice& value);

  // Looks up the newest entry for key.user_key() with sequence <= the lookup
  // sequence. Returns false if there is none. Otherwise returns true and:
  // a value: *s = OK, *value = value; a deletion: *s = NotFound.
  // *found_seq (if not null) is set to the entry's sequence.
  bool Get(const LookupKey& key, std::string* value, Status* s,
           SequenceNumber* found_seq = nullptr);

  // As Get, but a value for which the user comparator's ShouldDrop or
  // ShouldDropMaybe holds at now_seconds (db/read_hooks.h, EntryHidesKey) is
  // reported like a deletion: true with *s = NotFound, so that the caller
  // looks no further (older versions of the key stay hidden).
  bool Get(const LookupKey& key, uint64_t now_seconds, std::string* value,
           Status* s, SequenceNumber* found_seq = nullptr);

  // Number of entries added.
  uint64_t NumEntries() const {
    return num_entries_.load(std::memory_order_relaxed);
  }

 private:
  struct Rep;
  ~MemTable();

  // Both Gets; hooks (the user comparator) is null for the plain one.
  bool GetImpl(const LookupKey& key, const Comparator* hooks,
               uint64_t now_seconds, std::string* value, Status* s,
               SequenceNumber* found_seq);

  std::atomic<int> refs_{0};
  std::atomic<uint64_t> num_entries_{0};
  std::unique_ptr<Rep> rep_;
};

}  // namespace ldb

#endif  // LDB_DB_MEMTABLE_H_
