#include "table/filter_block.h"

#include <cassert>

#include "ldb/filter_policy.h"
#include "util/coding.h"

namespace ldb {

FilterBlockBuilder::FilterBlockBuilder(const FilterPolicy* policy)
    : policy_(policy) {}

void FilterBlockBuilder::StartBlock(uint64_t block_offset) {
  const uint64_t filter_index = block_offset / kFilterBase;
  assert(filter_index >= filter_offsets_.size());
  while (filter_index > filter_offsets_.size()) GenerateFilter();
}

void FilterBlockBuilder::AddKey(const Slice& key) {
  key_starts_.push_back(keys_.size());
  keys_.append(key.data(), key.size());
}

Slice FilterBlockBuilder::Finish() {
  if (!key_starts_.empty()) GenerateFilter();
  const uint32_t array_offset = static_cast<uint32_t>(result_.size());
  for (uint32_t offset : filter_offsets_) PutFixed32(&result_, offset);
  PutFixed32(&result_, array_offset);
  result_.push_back(static_cast<char>(kFilterBaseLg));
  return Slice(result_);
}

void FilterBlockBuilder::GenerateFilter() {
  filter_offsets_.push_back(static_cast<uint32_t>(result_.size()));
  if (key_starts_.empty()) return;  // an empty filter: matches nothing

  tmp_keys_.clear();
  for (size_t i = 0; i < key_starts_.size(); ++i) {
    const size_t end =
        i + 1 < key_starts_.size() ? key_starts_[i + 1] : keys_.size();
    tmp_keys_.emplace_back(keys_.data() + key_starts_[i], end - key_starts_[i]);
  }
  policy_->CreateFilter(tmp_keys_.data(), static_cast<int>(tmp_keys_.size()),
                        &result_);
  tmp_keys_.clear();
  keys_.clear();
  key_starts_.clear();
}

FilterBlockReader::FilterBlockReader(const FilterPolicy* policy,
                                     const Slice& contents)
    : policy_(policy) {
  const size_t n = contents.size();
  if (n < 5) return;  // too short: everything may match
  const int base_lg = static_cast<unsigned char>(contents[n - 1]);
  const uint32_t array_offset = DecodeFixed32(contents.data() + n - 5);
  if (base_lg >= 64 || array_offset > n - 5) return;
  data_ = contents.data();
  offsets_ = data_ + array_offset;
  num_ = (n - 5 - array_offset) / 4;
  base_lg_ = base_lg;
}

bool FilterBlockReader::KeyMayMatch(uint64_t block_offset,
                                    const Slice& key) const {
  const uint64_t index = block_offset >> base_lg_;
  if (data_ == nullptr || index >= num_) return true;
  const uint32_t start = DecodeFixed32(offsets_ + index * 4);
  // The word after the last filter's offset is the array offset itself, which
  // is exactly where the last filter ends.
  const uint32_t limit = DecodeFixed32(offsets_ + index * 4 + 4);
  const size_t array_offset = static_cast<size_t>(offsets_ - data_);
  if (start > limit || limit > array_offset) return true;  // damaged
  if (start == limit) return false;  // an empty filter: no keys
  return policy_->KeyMayMatch(key, Slice(data_ + start, limit - start));
}

}  // namespace ldb
