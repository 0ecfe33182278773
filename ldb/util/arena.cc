// Arena: bump allocation out of 4 KiB blocks. See arena.h.
#include "util/arena.h"

#include <algorithm>
#include <cassert>
#include <cstdint>

namespace ldb {

namespace {

constexpr size_t kBlockSize = 4096;
// Requests above this get a block of their own, so that a large request does
// not waste the rest of the current block.
constexpr size_t kLargeRequest = kBlockSize / 4;
constexpr size_t kAlign = std::max<size_t>(8, alignof(void*));
static_assert((kAlign & (kAlign - 1)) == 0, "alignment must be a power of 2");

}  // namespace

Arena::Arena() = default;
Arena::~Arena() = default;

char* Arena::Allocate(size_t bytes) {
  assert(bytes > 0);
  if (bytes <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_;
    alloc_ptr_ += bytes;
    alloc_bytes_remaining_ -= bytes;
    return result;
  }
  return AllocateFallback(bytes);
}

char* Arena::AllocateAligned(size_t bytes) {
  assert(bytes > 0);
  const size_t misalign =
      reinterpret_cast<uintptr_t>(alloc_ptr_) & (kAlign - 1);
  const size_t slop = misalign == 0 ? 0 : kAlign - misalign;
  if (alloc_ptr_ != nullptr && bytes + slop <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_ + slop;
    alloc_ptr_ += bytes + slop;
    alloc_bytes_remaining_ -= bytes + slop;
    return result;
  }
  // A fresh block from new[] is aligned for any fundamental type.
  char* result = AllocateFallback(bytes);
  assert((reinterpret_cast<uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::AllocateFallback(size_t bytes) {
  if (bytes > kLargeRequest) {
    return AllocateNewBlock(bytes);
  }
  // Start a new shared block; what remained of the old one is wasted.
  alloc_ptr_ = AllocateNewBlock(kBlockSize);
  alloc_bytes_remaining_ = kBlockSize - bytes;
  char* result = alloc_ptr_;
  alloc_ptr_ += bytes;
  return result;
}

char* Arena::AllocateNewBlock(size_t block_bytes) {
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(block_bytes));
  memory_usage_.fetch_add(block_bytes + sizeof(std::unique_ptr<char[]>),
                          std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace ldb
