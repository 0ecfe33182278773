// log::Writer appends records to a log file. Thread-compatible.
#ifndef LDB_DB_LOG_WRITER_H_
#define LDB_DB_LOG_WRITER_H_

#include <cstdint>

#include "db/log_format.h"
#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class WritableFile;

namespace log {

class Writer {
 public:
  // Appends to `dest`, which must be empty (or, with the second form, already
  // `dest_length` bytes long). `dest` must outlive the writer.
  explicit Writer(WritableFile* dest);
  Writer(WritableFile* dest, uint64_t dest_length);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends one record and flushes it to the OS (not synced).
  Status AddRecord(const Slice& slice);

 private:
  Status EmitPhysicalRecord(RecordType type, const char* ptr, size_t length);

  WritableFile* dest_;
  int block_offset_;  // offset in the current block
  // crc32c of each record type byte, precomputed.
  uint32_t type_crc_[kMaxRecordType + 1];
};

}  // namespace log
}  // namespace ldb

#endif  // LDB_DB_LOG_WRITER_H_
