// BlockBuilder: builds one data, index or meta block with prefix-compressed
// keys. Entry layout (see ldb/doc/table_format.md):
//   varint32 shared | varint32 non_shared | varint32 value_len |
//   key[shared, shared + non_shared) | value
// Every `restart_interval` entries a restart point stores its key whole
// (shared == 0). The block ends with the restart offsets (fixed32 each) and
// their count (fixed32).
//
// Thread-compatible.
#ifndef LDB_TABLE_BLOCK_BUILDER_H_
#define LDB_TABLE_BLOCK_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ldb/slice.h"

namespace ldb {

class BlockBuilder {
 public:
  // restart_interval < 1 is treated as 1.
  explicit BlockBuilder(int restart_interval);
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // Forgets everything added, as if just constructed.
  void Reset();

  // REQUIRES: Finish() not called since the last Reset(); key sorts after
  // every key added so far (in the table's comparator order).
  void Add(const Slice& key, const Slice& value);

  // Appends the restart array and returns the finished block, which stays
  // valid until Reset() or destruction.
  Slice Finish();

  // Size of the block if it were finished now.
  size_t CurrentSizeEstimate() const;

  // True when no entry was added since the last Reset().
  bool empty() const { return buffer_.empty(); }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;  // entries since the last restart point
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace ldb

#endif  // LDB_TABLE_BLOCK_BUILDER_H_
