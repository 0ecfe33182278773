#include "table/block.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>

#include "ldb/comparator.h"
#include "util/coding.h"

namespace ldb {

Block::Block(BlockContents contents)
    : contents_(std::move(contents)), data_(contents_.data) {
  constexpr size_t kWord = sizeof(uint32_t);
  // Offsets are fixed32, so a block must be addressable with 32 bits.
  if (data_.size() < kWord || data_.size() > UINT32_MAX) return;
  const uint32_t num = DecodeFixed32(data_.data() + data_.size() - kWord);
  const size_t max_restarts = (data_.size() - kWord) / kWord;
  // BlockBuilder always writes at least one restart point.
  if (num == 0 || num > max_restarts) return;
  num_restarts_ = num;
  restart_offset_ =
      static_cast<uint32_t>(data_.size() - (1 + size_t{num}) * kWord);
  well_formed_ = true;
}

namespace {

// Decodes the header of the entry at p, not reading at or past limit.
// Returns a pointer to the key delta, or nullptr when the entry is damaged
// (header cut short, or delta + value running past limit).
const char* DecodeEntry(const char* p, const char* limit, uint32_t* shared,
                        uint32_t* non_shared, uint32_t* value_length) {
  if (p >= limit) return nullptr;
  p = GetVarint32Ptr(p, limit, shared);
  if (p == nullptr) return nullptr;
  p = GetVarint32Ptr(p, limit, non_shared);
  if (p == nullptr) return nullptr;
  p = GetVarint32Ptr(p, limit, value_length);
  if (p == nullptr) return nullptr;
  const uint64_t need = uint64_t{*non_shared} + *value_length;
  if (need > static_cast<uint64_t>(limit - p)) return nullptr;
  return p;
}

}  // namespace

std::unique_ptr<Iterator> Block::NewIterator(
    const Comparator* comparator) const {
  if (!well_formed_) {
    return NewErrorIterator(Status::Corruption("bad block contents"));
  }
  return std::make_unique<BlockIter>(*this, comparator);
}

BlockIter::BlockIter(const Block& block, const Comparator* comparator)
    : comparator_(comparator),
      data_(block.data_.data()),
      restarts_(block.restart_offset_),
      num_restarts_(block.num_restarts_),
      current_(block.restart_offset_),
      restart_index_(block.num_restarts_),
      key_(inline_key_) {
  if (!block.well_formed_) {
    // restarts_ == 0 == current_: never valid.
    status_ = Status::Corruption("bad block contents");
  }
}

BlockIter::~BlockIter() = default;

void BlockIter::Next() {
  assert(Valid());
  ParseNextKey();
}

void BlockIter::Prev() {
  assert(Valid());
  const uint32_t original = current_;
  // Find the last restart point strictly before the current entry.
  while (RestartPoint(restart_index_) >= original) {
    if (restart_index_ == 0) {
      MarkInvalid();
      return;
    }
    --restart_index_;
  }
  if (!SeekToRestartPoint(restart_index_)) return;
  // Walk forward to the entry just before `original`.
  do {
    if (!ParseNextKey()) return;
  } while (NextEntryOffset() < original);
}

void BlockIter::Seek(const Slice& target) {
  if (!status_.ok()) return;
  // Binary search for the last restart point whose key is < target.
  uint32_t left = 0;
  uint32_t right = num_restarts_ - 1;
  while (left < right) {
    const uint32_t mid = left + (right - left + 1) / 2;
    const uint32_t offset = RestartPoint(mid);
    if (offset >= restarts_) {
      CorruptionError();
      return;
    }
    uint32_t shared, non_shared, value_length;
    const char* key_ptr = DecodeEntry(data_ + offset, data_ + restarts_,
                                      &shared, &non_shared, &value_length);
    if (key_ptr == nullptr || shared != 0) {
      CorruptionError();
      return;
    }
    if (comparator_->Compare(Slice(key_ptr, non_shared), target) < 0) {
      left = mid;  // everything before mid is < target too
    } else {
      right = mid - 1;
    }
  }
  if (!SeekToRestartPoint(left)) return;
  while (ParseNextKey()) {
    if (comparator_->Compare(key(), target) >= 0) return;
  }
}

void BlockIter::SeekToFirst() {
  if (!status_.ok()) return;
  if (SeekToRestartPoint(0)) ParseNextKey();
}

void BlockIter::SeekToLast() {
  if (!status_.ok()) return;
  if (!SeekToRestartPoint(num_restarts_ - 1)) return;
  while (ParseNextKey() && NextEntryOffset() < restarts_) {
  }
}

uint32_t BlockIter::RestartPoint(uint32_t index) const {
  assert(index < num_restarts_);
  return DecodeFixed32(data_ + restarts_ + index * sizeof(uint32_t));
}

void BlockIter::MarkInvalid() {
  current_ = restarts_;
  restart_index_ = num_restarts_;
  key_size_ = 0;
  value_ = Slice();
}

void BlockIter::CorruptionError() {
  MarkInvalid();
  status_ = Status::Corruption("bad entry in block");
}

// Positions just before the entry at restart point `index` (so that
// ParseNextKey reads it). False, with Corruption, when the restart offset
// is out of range.
bool BlockIter::SeekToRestartPoint(uint32_t index) {
  const uint32_t offset = RestartPoint(index);
  if (offset > restarts_) {
    CorruptionError();
    return false;
  }
  key_size_ = 0;
  restart_index_ = index;
  value_ = Slice(data_ + offset, 0);
  current_ = offset;  // provisional; ParseNextKey sets it
  return true;
}

void BlockIter::SetKey(size_t keep, const char* p, size_t n) {
  assert(keep <= key_size_);
  const size_t size = keep + n;
  if (size > key_capacity_) {
    const size_t capacity = std::max(size, 2 * key_capacity_);
    auto bigger = std::make_unique<char[]>(capacity);
    std::memcpy(bigger.get(), key_, keep);
    heap_key_ = std::move(bigger);
    key_ = heap_key_.get();
    key_capacity_ = capacity;
  }
  std::memcpy(key_ + keep, p, n);
  key_size_ = size;
}

// Moves to the entry after the current one. False at the end (invalid) or
// on damage (invalid, Corruption).
bool BlockIter::ParseNextKey() {
  current_ = NextEntryOffset();
  const char* p = data_ + current_;
  const char* limit = data_ + restarts_;
  if (p >= limit) {
    MarkInvalid();
    return false;
  }
  uint32_t shared, non_shared, value_length;
  const char* delta =
      DecodeEntry(p, limit, &shared, &non_shared, &value_length);
  if (delta == nullptr || key_size_ < shared) {
    CorruptionError();
    return false;
  }
  SetKey(shared, delta, non_shared);
  value_ = Slice(delta + non_shared, value_length);
  while (restart_index_ + 1 < num_restarts_ &&
         RestartPoint(restart_index_ + 1) < current_) {
    ++restart_index_;
  }
  return true;
}

}  // namespace ldb
