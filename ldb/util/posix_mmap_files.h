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

// A write-ahead log written through a shared mapping of the file until its
// first Sync(): an append is a memcpy into the page cache, so it costs no
// system call and still survives a crash of the process (not of the machine:
// that needs Sync()). From the first Sync() on, appends collect in the
// process and Flush() writes them with one pwrite into the reserved region,
// and the mapping goes. The file grows in reserved chunks (fallocate, so a
// full disk is an error at reservation time, never a SIGBUS on write or a
// sync that must also record a new file size); until Close() it may carry
// zero bytes after the last append, which the log reader skips. Takes
// ownership of fd (open read-write, empty).
//
// Why a synced log stops being mapped: the writeback under fdatasync
// write-protects the mapped pages it cleans, which flushes the TLB of every
// CPU the process runs on and waits for each of them to answer the
// interrupt. On a VM, a vCPU that is halted or held by the host answers late:
// in a data server under --sync_writes with 27-47 % CPU steal (2026-11-22),
// that wait (smp_call_function_many_cond under fdatasync) was 19 % of all
// CPU samples, after 3.9 % on a quieter day. A log that is synced once is
// likely synced again, and a log that is never synced keeps the mapping.
// A log written with write(2) from the start (the plain PosixWritableFile,
// whose size grows with every append, so that each sync also writes the
// inode) gave 3,018-3,936 fillsync ops/s against 5,855-5,992 through the
// mapping (2026-11-21).
std::unique_ptr<WritableFile> NewPosixMmapLogFile(const std::string& fname,
                                                  int fd);

}  // namespace ldb

#endif  // LDB_UTIL_POSIX_MMAP_FILES_H_
