// Filter block: one filter (built by a FilterPolicy) per 2 KiB range of
// data-block file offsets; a data block's keys go into the filter of the
// range its offset falls in. Layout (see ldb/doc/table_format.md):
//   filter[0] ... filter[n-1]
//   offset of filter[i] (fixed32) for i in [0, n)
//   offset of that offset array (fixed32)
//   base lg (1 byte; the range size is 1 << base lg)
#ifndef LDB_TABLE_FILTER_BLOCK_H_
#define LDB_TABLE_FILTER_BLOCK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ldb/slice.h"

namespace ldb {

class FilterPolicy;

// log2 of the data-offset range each filter covers (2 KiB).
inline constexpr int kFilterBaseLg = 11;
inline constexpr uint64_t kFilterBase = uint64_t{1} << kFilterBaseLg;

// Builds the filter block of one table. Call sequence:
//   (StartBlock AddKey*)* Finish
// Thread-compatible.
class FilterBlockBuilder {
 public:
  // `policy` must outlive the builder.
  explicit FilterBlockBuilder(const FilterPolicy* policy);
  FilterBlockBuilder(const FilterBlockBuilder&) = delete;
  FilterBlockBuilder& operator=(const FilterBlockBuilder&) = delete;

  // The keys added next belong to the data block at file offset
  // block_offset. REQUIRES: offsets do not decrease.
  void StartBlock(uint64_t block_offset);
  void AddKey(const Slice& key);
  // Returns the finished block, valid until the builder is destroyed.
  Slice Finish();

 private:
  // Turns the keys gathered so far into the next filter.
  void GenerateFilter();

  const FilterPolicy* const policy_;
  std::string keys_;                // all pending keys, concatenated
  std::vector<size_t> key_starts_;  // where each pending key starts in keys_
  std::string result_;              // filters built so far
  std::vector<uint32_t> filter_offsets_;
  std::vector<Slice> tmp_keys_;  // scratch for GenerateFilter
};

// Answers filter queries over a filter block. Damaged contents never cause
// an out-of-bounds read: any part that cannot be parsed answers "may match".
// Thread-safe (immutable).
class FilterBlockReader {
 public:
  // `policy` and the bytes of `contents` must outlive the reader.
  FilterBlockReader(const FilterPolicy* policy, const Slice& contents);

  // False only when the filter for the data block at block_offset proves
  // that `key` is not in it.
  bool KeyMayMatch(uint64_t block_offset, const Slice& key) const;

 private:
  const FilterPolicy* const policy_;
  const char* data_ = nullptr;     // start of the block
  const char* offsets_ = nullptr;  // start of the offset array
  size_t num_ = 0;                 // number of filters
  int base_lg_ = 0;
};

}  // namespace ldb

#endif  // LDB_TABLE_FILTER_BLOCK_H_
