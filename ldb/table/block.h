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
  friend class BlockIter;

  BlockContents contents_;
  Slice data_;
  uint32_t restart_offset_ = 0;  // where the restart array starts
  uint32_t num_restarts_ = 0;
  bool well_formed_ = false;
};

// Iterates the entries of a Block. What Block::NewIterator returns, and
// usable directly (e.g. on the stack, for a point lookup: the class is final,
// so calls through a BlockIter are not virtual, and keys up to
// kInlineKeyBytes are assembled without a heap allocation). The Block and
// the comparator must outlive it. Thread-compatible.
//
// Invariant: the iterator is valid iff status_ is OK and current_ <
// restarts_; then key() is the full key of the entry at current_ and value_
// its value (pointing into the block).
class BlockIter final : public Iterator {
 public:
  BlockIter(const Block& block, const Comparator* comparator);
  ~BlockIter() override;

  bool Valid() const override { return current_ < restarts_; }
  Status status() const override { return status_; }
  Slice key() const override { return Slice(key_, key_size_); }
  Slice value() const override { return value_; }
  void Next() override;
  void Prev() override;
  void Seek(const Slice& target) override;
  void SeekToFirst() override;
  void SeekToLast() override;

  static constexpr size_t kInlineKeyBytes = 64;

 private:
  uint32_t RestartPoint(uint32_t index) const;
  // Offset just past the current entry (where the next one starts).
  uint32_t NextEntryOffset() const {
    return static_cast<uint32_t>((value_.data() + value_.size()) - data_);
  }
  void MarkInvalid();
  void CorruptionError();
  bool SeekToRestartPoint(uint32_t index);
  bool ParseNextKey();
  // Keeps the first `keep` bytes of the key and appends n bytes at p.
  void SetKey(size_t keep, const char* p, size_t n);

  const Comparator* const comparator_;
  const char* const data_;
  const uint32_t restarts_;  // offset of the restart array
  const uint32_t num_restarts_;

  uint32_t current_;        // offset of the current entry
  uint32_t restart_index_;  // restart region holding current_
  // The current key: key_size_ bytes at key_, which is inline_key_ or
  // heap_key_ (capacity key_capacity_).
  char* key_;
  size_t key_size_ = 0;
  size_t key_capacity_ = kInlineKeyBytes;
  std::unique_ptr<char[]> heap_key_;
  Slice value_;
  Status status_;
  char inline_key_[kInlineKeyBytes];
};

}  // namespace ldb

#endif  // LDB_TABLE_BLOCK_H_
