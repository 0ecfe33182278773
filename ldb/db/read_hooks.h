// The read-side meaning of the comparator hooks (shared/DESIGN.md,
// "Comparator hooks"): which visible entry hides its user key from reads.
//
// Every read path (MemTable::Get, Version::Get, the DB iterator) asks
// EntryHidesKey about the newest entry of a user key visible to the reader;
// when it says yes the key is "not found" and older versions of it are never
// looked at, so expired or reclaimed data disappears at once, before any
// compaction, and an older version can never resurface through a read.
//
// Pure functions over their arguments: thread-safe (the comparator's hooks
// are thread-safe by contract).
#ifndef LDB_DB_READ_HOOKS_H_
#define LDB_DB_READ_HOOKS_H_

#include <cstdint>

#include "db/dbformat.h"
#include "ldb/comparator.h"
#include "ldb/slice.h"

namespace ldb {

// True when an entry of `type` for `user_key` written at `seq`, being the
// newest version a reader sees, makes the key invisible: a deletion, or a
// value that `ucmp` reclaims (ShouldDrop) or declares expired
// (ShouldDropMaybe) at `now_seconds` (Env::NowSeconds(), read once per
// operation).
inline bool EntryHidesKey(const Comparator* ucmp, ValueType type,
                          const Slice& user_key, SequenceNumber seq,
                          uint64_t now_seconds) {
  if (type == kTypeDeletion) return true;
  return ucmp->ShouldDrop(user_key, seq, now_seconds) ||
         ucmp->ShouldDropMaybe(user_key, seq, now_seconds);
}

}  // namespace ldb

#endif  // LDB_DB_READ_HOOKS_H_
