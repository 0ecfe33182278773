#include "table/block.h"

#include <cassert>
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

// Iterates the entries of a well-formed Block. Thread-compatible.
// Invariant: the iterator is valid iff status_ is OK and current_ <
// restarts_; then key_ is the full key of the entry at current_ and value_
// its value (pointing into data_).
class BlockIter : public Iterator {
 public:
  BlockIter(const Comparator* comparator, const char* data, uint32_t restarts,
            uint32_t num_restarts)
      : comparator_(comparator),
        data_(data),
        restarts_(restarts),
        num_restarts_(num_restarts),
        current_(restarts),
        restart_index_(num_restarts) {}

  bool Valid() const override { return current_ < restarts_; }
  Status status() const override { return status_; }

  Slice key() const override {
    assert(Valid());
    return Slice(key_);
  }
  Slice value() const override {
    assert(Valid());
    return value_;
  }

  void Next() override {
    assert(Valid());
    ParseNextKey();
  }

  void Prev() override {
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

  void Seek(const Slice& target) override {
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
      if (comparator_->Compare(Slice(key_), target) >= 0) return;
    }
  }

  void SeekToFirst() override {
    if (!status_.ok()) return;
    if (SeekToRestartPoint(0)) ParseNextKey();
  }

  void SeekToLast() override {
    if (!status_.ok()) return;
    if (!SeekToRestartPoint(num_restarts_ - 1)) return;
    while (ParseNextKey() && NextEntryOffset() < restarts_) {
    }
  }

 private:
  uint32_t RestartPoint(uint32_t index) const {
    assert(index < num_restarts_);
    return DecodeFixed32(data_ + restarts_ + index * sizeof(uint32_t));
  }

  // Offset just past the current entry (where the next one starts).
  uint32_t NextEntryOffset() const {
    return static_cast<uint32_t>((value_.data() + value_.size()) - data_);
  }

  void MarkInvalid() {
    current_ = restarts_;
    restart_index_ = num_restarts_;
    key_.clear();
    value_ = Slice();
  }

  void CorruptionError() {
    MarkInvalid();
    status_ = Status::Corruption("bad entry in block");
  }

  // Positions just before the entry at restart point `index` (so that
  // ParseNextKey reads it). False, with Corruption, when the restart offset
  // is out of range.
  bool SeekToRestartPoint(uint32_t index) {
    const uint32_t offset = RestartPoint(index);
    if (offset > restarts_) {
      CorruptionError();
      return false;
    }
    key_.clear();
    restart_index_ = index;
    value_ = Slice(data_ + offset, 0);
    current_ = offset;  // provisional; ParseNextKey sets it
    return true;
  }

  // Moves to the entry after the current one. False at the end (invalid) or
  // on damage (invalid, Corruption).
  bool ParseNextKey() {
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
    if (delta == nullptr || key_.size() < shared) {
      CorruptionError();
      return false;
    }
    key_.resize(shared);
    key_.append(delta, non_shared);
    value_ = Slice(delta + non_shared, value_length);
    while (restart_index_ + 1 < num_restarts_ &&
           RestartPoint(restart_index_ + 1) < current_) {
      ++restart_index_;
    }
    return true;
  }

  const Comparator* const comparator_;
  const char* const data_;
  const uint32_t restarts_;  // offset of the restart array
  const uint32_t num_restarts_;

  uint32_t current_;        // offset of the current entry
  uint32_t restart_index_;  // restart region holding current_
  std::string key_;
  Slice value_;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> Block::NewIterator(
    const Comparator* comparator) const {
  if (!well_formed_) {
    return NewErrorIterator(Status::Corruption("bad block contents"));
  }
  return std::make_unique<BlockIter>(comparator, data_.data(), restart_offset_,
                                     num_restarts_);
}

}  // namespace ldb
