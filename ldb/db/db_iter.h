// The user-visible DB iterator: turns an iterator over internal keys (merged
// from the memtables and the tables) into one over user keys as of a
// sequence number.
#ifndef LDB_DB_DB_ITER_H_
#define LDB_DB_DB_ITER_H_

#include <cstdint>
#include <memory>

#include "db/dbformat.h"
#include "ldb/iterator.h"

namespace ldb {

// Returns an iterator that yields, for each user key, the newest entry of
// `internal_iter` with sequence <= `sequence`, and skips the key when that
// entry is a deletion. Entries newer than `sequence` are invisible. key() is
// the user key. A malformed internal key stops the iterator (Valid() false)
// with status Corruption; errors of internal_iter are passed through
// status().
//
// `user_comparator` must outlive the result. The result is thread-compatible
// (one thread at a time), like every Iterator.
std::unique_ptr<Iterator> NewDBIterator(const Comparator* user_comparator,
                                        std::unique_ptr<Iterator> internal_iter,
                                        SequenceNumber sequence);

// As above, and the newest visible entry of a user key also hides the key
// (with every older version) when user_comparator's ShouldDrop or
// ShouldDropMaybe holds for it at `now_seconds` (db/read_hooks.h). The DB
// passes Env::NowSeconds() read when the iterator is created. The overload
// without now_seconds applies no hooks (deletions only).
std::unique_ptr<Iterator> NewDBIterator(const Comparator* user_comparator,
                                        std::unique_ptr<Iterator> internal_iter,
                                        SequenceNumber sequence,
                                        uint64_t now_seconds);

}  // namespace ldb

#endif  // LDB_DB_DB_ITER_H_
