// A POSIX file written with O_DIRECT, for the Env's NewUncachedWritableFile:
// large files written once and read after they are closed (ingested tables).
//
// Why (measured 2026-11-22 on the 2-vCPU VM of README): a buffered write of
// new data must take fresh page-cache pages, and on this VM (nested
// virtualization with free-page reporting) touching memory the host has not
// backed yet costs about 2.3-2.6 ms of CPU per MB, inside the write(2) copy.
// The same 3 GB written with O_DIRECT from one reused 1 MiB buffer cost
// 0.11 ms of CPU per MB (and 64 KiB writes 0.74 ms). In a migration benchmark
// the destination's ingest thread spent more than a third of its samples in
// that copy. Elsewhere the gain is smaller (no copy, no page-cache churn), and
// the data is read from disk rather than memory the first time.
#ifndef LDB_UTIL_POSIX_DIRECT_FILE_H_
#define LDB_UTIL_POSIX_DIRECT_FILE_H_

#include <memory>
#include <string>

#include "ldb/env.h"

namespace ldb {

// Opens (creating or truncating) fname for writing with O_DIRECT. Whole 1 MiB
// buffers go to the device straight from the process; Sync() and Close()
// write the buffered rest: its whole 4 KiB blocks directly but for the last
// 32 KiB or so, which go through the page cache with the partial last block
// (the descriptor drops O_DIRECT for that, and later appends are buffered
// too): a table's index, filter and footer are read back at once. Flush()
// writes nothing: a table is read only after Close(). Close() then asks the
// kernel to read what was written directly back into the page cache in the
// background (POSIX_FADV_WILLNEED): the device's DMA fills the pages, not a
// CPU copy. Where the file system refuses O_DIRECT (at open, or with EINVAL on
// a write) the file quietly continues with buffered writes.
// Thread-compatible.
Status NewPosixDirectWritableFile(const std::string& fname,
                                  std::unique_ptr<WritableFile>* result);

}  // namespace ldb

#endif  // LDB_UTIL_POSIX_DIRECT_FILE_H_
