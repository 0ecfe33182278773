// Block: a read-only view of one block built by BlockBuilder.
//
// Thread-safe: immutable after construction; each iterator is
// thread-compatible. Damaged contents never cause an out-of-bounds read: the
// iterator reports Corruption instead.
#ifndef LDB_TABLE_BLOCK_H_
#define LDB_TABLE_BLOCK_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ldb/iterator.h"
#include "table/format.h"

namespace ldb {

class Comparator;

class Block {
 public:
  // Takes over contents (owned bytes stay alive with the Block; borrowed
  // bytes must outlive it).
  explicit Block(BlockContents contents);
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  ~Block() = default;

  // Bytes of block data (what the block cache charges).
  size_t size() const { return data_.size(); }

  // False when the restart array cannot be parsed; iterators then carry
  // Corruption("bad block contents").
  bool well_formed() const { return well_formed_; }

  // An iterator over the entries; `comparator` must outlive it, and so must
  // this Block.
  std::unique_ptr<Iterator> NewIterator(const Comparator* comparator) const;

 private:
  BlockContents contents_;
  Slice data_;
  uint32_t restart_offset_ = 0;  // where the restart array starts
  uint32_t num_restarts_ = 0;
  bool well_formed_ = false;
};

}  // namespace ldb

#endif  // LDB_TABLE_BLOCK_H_
