// Memory-mapped POSIX files, used by the POSIX Env where mapping is cheaper
// than a system call per operation.
#ifndef LDB_UTIL_POSIX_MMAP_FILES_H_
#define LDB_UTIL_POSIX_MMAP_FILES_H_

#include <atomic>
#include <memory>
#include <string>

#include "ldb/env.h"

namespace ldb {

// Caps how many files may be mapped for reading at once (address space and
// kernel map count are finite); past it, callers fall back to pread.
// Thread-safe.
class MmapLimiter {
 public:
  explicit MmapLimiter(int max_maps) : available_(max_maps) {}
  // True when the caller may map one more file; it must Release() it later.
  bool Acquire();
  void Release() { available_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<int> available_;
};

// Maps fd (open for reading, `size` bytes long) and returns a
// RandomAccessFile whose Read hands out pointers into the mapping: no copy,
// no system call. Takes ownership of fd on success (closes it at once: the
// mapping keeps the file alive). `limiter` must outlive the file.
Status NewPosixMmapReadableFile(const std::string& fname, int fd,
                                uint64_t size, MmapLimiter* limiter,
                                std::unique_ptr<RandomAccessFile>* result);

// A write-ahead log written through a shared mapping of the file: an append
// is a memcpy into the page cache, so it costs no system call and still
// survives a crash of the process (not of the machine: that needs Sync()).
// The file grows in reserved chunks (fallocate, so a full disk is an error
// at reservation time, never a SIGBUS on write); until Close() it may carry
// zero bytes after the last append, which the log reader skips. Takes
// ownership of fd (open read-write, empty).
//
// What a mapped WAL costs a sync: the writeback under fdatasync write-protects
// the mapped tail page, which flushes the TLB of every CPU the process ran on
// (an interrupt to each), and the next append takes a write fault. In a data
// server under --sync_writes that was 3.9 % of all CPU samples (2026-11-21).
// Still the cheaper way here: a log file written with write(2) (the plain
// PosixWritableFile, whose size grows with every append) gave 3,018-3,936
// fillsync ops/s against 5,855-5,992 through the mapping, and 9.5-9.8 k
// against 16.4-18.1 k with 4 threads (2 interleaved rounds each). pwrite into
// the fallocated region (no size change, no mapping) was not tried.
std::unique_ptr<WritableFile> NewPosixMmapLogFile(const std::string& fname,
                                                  int fd);

}  // namespace ldb

#endif  // LDB_UTIL_POSIX_MMAP_FILES_H_
