// Comparator: a total order over user keys, plus the Tair hooks that let
// compaction purge reclaimed and expired data.
//
// Implementations must be thread-safe: ldb calls them from many threads at
// once. The name is persisted in the MANIFEST; a DB opened with a comparator of
// another name fails with InvalidArgument.
#ifndef LDB_INCLUDE_COMPARATOR_H_
#define LDB_INCLUDE_COMPARATOR_H_

#include <cstdint>
#include <string>

#include "ldb/slice.h"

namespace ldb {

// Sequence number of a write; every write gets the next one. 56 bits are used.
using SequenceNumber = uint64_t;

class Comparator {
 public:
  virtual ~Comparator();

  // <0 if a < b, 0 if equal, >0 if a > b.
  virtual int Compare(const Slice& a, const Slice& b) const = 0;

  // Persisted name of the ordering; change it whenever the order changes.
  virtual const char* Name() const = 0;

  // May shorten *start to any string s with *start <= s < limit (used to make
  // index blocks small). Leaving *start unchanged is correct.
  virtual void FindShortestSeparator(std::string* start,
                                     const Slice& limit) const = 0;

  // May change *key to any string s >= *key. Leaving it unchanged is correct.
  virtual void FindShortSuccessor(std::string* key) const = 0;

  // --- Tair hooks. The defaults say "no"; see shared/DESIGN.md for the rules
  // compaction and reads apply. `now_seconds` comes from Env::NowSeconds().

  // True when the entry belongs to reclaimed data (a migrated-away bucket or a
  // cleared area): every version of the key at or below `seq` is dropped.
  virtual bool ShouldDrop(const Slice& user_key, SequenceNumber seq,
                          uint64_t now_seconds) const;

  // True when the entry has expired (TTL): it is treated like a tombstone.
  virtual bool ShouldDropMaybe(const Slice& user_key, SequenceNumber seq,
                               uint64_t now_seconds) const;

  // True when a compaction output file that started at `start_user_key` should
  // be closed before `user_key` is added (e.g. the key is in another bucket).
  virtual bool ShouldStopBefore(const Slice& start_user_key,
                                const Slice& user_key) const;

  // True when every key in [smallest, largest] written at or below `max_seq`
  // is reclaimed, so a whole table file can be dropped without reading it.
  virtual bool ShouldDropRange(const Slice& smallest_user_key,
                               const Slice& largest_user_key,
                               SequenceNumber max_seq) const;
};

// Lexicographic order over unsigned bytes. The result has static lifetime.
const Comparator* BytewiseComparator();

}  // namespace ldb

#endif  // LDB_INCLUDE_COMPARATOR_H_
