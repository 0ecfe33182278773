#include "workload.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace tessera::ldb_bench {

void KeyFormat::Existing(uint64_t index, std::string* key) const {
  key->assign(key_size_, '0');
  size_t pos = key_size_;
  while (index != 0 && pos > 0) {
    (*key)[--pos] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
}

void KeyFormat::Missing(uint64_t index, std::string* key) const {
  Existing(index, key);
  (*key)[key_size_ - 1] = '.';
}

namespace {
constexpr size_t kPiece = 100;
constexpr size_t kMinValueBytes = 1 << 20;
}  // namespace

ValueData::ValueData(size_t value_size, double compression_ratio, uint64_t seed)
    : value_size_(value_size) {
  const size_t total = std::max(kMinValueBytes, 4 * value_size);
  const size_t raw = std::clamp<size_t>(
      static_cast<size_t>(std::lround(compression_ratio * kPiece)), 1, kPiece);
  Random64 rng(seed);
  data_.reserve(total + kPiece);
  std::string piece;
  while (data_.size() < total) {
    piece.clear();
    for (size_t i = 0; i < raw; i++) {
      piece.push_back(static_cast<char>(' ' + rng.Uniform(95)));
    }
    for (size_t i = 0; i < kPiece; i++) data_.push_back(piece[i % raw]);
  }
  data_.resize(total);
  // Successive values are disjoint windows, so that a table block never sees
  // the same bytes twice (the buffer only repeats every MiB).
  windows_ = value_size_ == 0 ? 1 : total / value_size_;
}

std::string_view ValueData::Get(uint64_t i) const {
  if (value_size_ == 0) return std::string_view();
  const size_t start = static_cast<size_t>(i % windows_) * value_size_;
  return std::string_view(data_.data() + start, value_size_);
}

KeySet::KeySet(uint64_t num)
    : num_(num),
      words_(new std::atomic<uint64_t>[(num + 63) / 64]),
      num_words_((num + 63) / 64) {
  ClearAll();
}

void KeySet::Set(uint64_t index) {
  words_[index / 64].fetch_or(uint64_t{1} << (index % 64),
                              std::memory_order_relaxed);
}

void KeySet::Clear(uint64_t index) {
  words_[index / 64].fetch_and(~(uint64_t{1} << (index % 64)),
                               std::memory_order_relaxed);
}

bool KeySet::Contains(uint64_t index) const {
  return (words_[index / 64].load(std::memory_order_relaxed) >> (index % 64)) &
         1;
}

void KeySet::ClearAll() {
  for (uint64_t w = 0; w < num_words_; w++) {
    words_[w].store(0, std::memory_order_relaxed);
  }
}

uint64_t KeySet::CountSet() const {
  uint64_t n = 0;
  for (uint64_t w = 0; w < num_words_; w++) {
    n += std::popcount(words_[w].load(std::memory_order_relaxed));
  }
  return n;
}

uint64_t KeySet::Sample(Random64* rng) const {
  for (int attempt = 0; attempt < 64; attempt++) {
    const uint64_t i = rng->Uniform(num_);
    if (Contains(i)) return i;
  }
  // A sparse set: take the first member at or after a random start.
  const uint64_t start = rng->Uniform(num_);
  for (uint64_t k = 0; k < num_; k++) {
    const uint64_t i = (start + k) % num_;
    if (Contains(i)) return i;
  }
  assert(false && "Sample on an empty KeySet");
  return 0;
}

}  // namespace tessera::ldb_bench
