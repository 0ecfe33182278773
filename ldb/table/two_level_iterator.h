// Two-level iterator: an index iterator whose values each open a second-level
// iterator (a data block, or a table file in a level).
#ifndef LDB_TABLE_TWO_LEVEL_ITERATOR_H_
#define LDB_TABLE_TWO_LEVEL_ITERATOR_H_

#include <functional>
#include <memory>

#include "ldb/iterator.h"
#include "ldb/options.h"

namespace ldb {

// Maps an index value to the iterator over the entries it points at.
using BlockFunction = std::function<std::unique_ptr<Iterator>(
    const ReadOptions&, const Slice& index_value)>;

std::unique_ptr<Iterator> NewTwoLevelIterator(
    std::unique_ptr<Iterator> index_iter, BlockFunction block_function,
    const ReadOptions& options);

}  // namespace ldb

#endif  // LDB_TABLE_TWO_LEVEL_ITERATOR_H_
