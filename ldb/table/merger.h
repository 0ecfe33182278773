// Merging iterator: the sorted union of several sorted iterators.
#ifndef LDB_TABLE_MERGER_H_
#define LDB_TABLE_MERGER_H_

#include <memory>
#include <vector>

#include "ldb/iterator.h"

namespace ldb {

class Comparator;

// Yields every entry of every child, in comparator order (duplicates are not
// suppressed). `comparator` must outlive the result. Supports both
// directions.
std::unique_ptr<Iterator> NewMergingIterator(
    const Comparator* comparator,
    std::vector<std::unique_ptr<Iterator>> children);

}  // namespace ldb

#endif  // LDB_TABLE_MERGER_H_
