// Arena: bump allocator for the memtable. Memory is freed all at once when the
// arena is destroyed.
//
// Thread-compatible for Allocate*; MemoryUsage() may be read from any thread.
#ifndef LDB_UTIL_ARENA_H_
#define LDB_UTIL_ARENA_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace ldb {

class Arena {
 public:
  Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  // REQUIRES: bytes > 0. Returns memory for `bytes` bytes.
  char* Allocate(size_t bytes);
  // Like Allocate, aligned for any scalar (alignof(std::max_align_t)
  // or pointer alignment, whichever is larger is not required: 8 bytes).
  char* AllocateAligned(size_t bytes);

  // Bytes of memory the arena holds (approximate).
  size_t MemoryUsage() const {
    return memory_usage_.load(std::memory_order_relaxed);
  }

 private:
  char* AllocateFallback(size_t bytes);
  char* AllocateNewBlock(size_t block_bytes);

  char* alloc_ptr_ = nullptr;
  size_t alloc_bytes_remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_{0};
};

}  // namespace ldb

#endif  // LDB_UTIL_ARENA_H_
