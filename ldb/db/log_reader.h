// log::Reader reads records back from a log file. Thread-compatible.
#ifndef LDB_DB_LOG_READER_H_
#define LDB_DB_LOG_READER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "db/log_format.h"
#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class SequentialFile;

namespace log {

class Reader {
 public:
  // Told about bytes that had to be dropped because of damage.
  class Reporter {
   public:
    virtual ~Reporter();
    virtual void Corruption(size_t bytes, const Status& status) = 0;
  };

  // Reads from `file` (must outlive the reader). `reporter` (may be null,
  // must outlive the reader) hears about damage. With `checksum`, fragments
  // with a bad CRC are dropped and reported. Starts at the first record that
  // begins at or after `initial_offset`.
  Reader(SequentialFile* file, Reporter* reporter, bool checksum,
         uint64_t initial_offset);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader();

  // Reads the next whole record into *record (which may point into
  // *scratch). Returns false at end of input. A torn record at the end of the
  // file (a crash mid-write) is treated as end of input, not reported as
  // damage; damage in the middle is reported and skipped.
  bool ReadRecord(Slice* record, std::string* scratch);

  // Offset of the last record ReadRecord returned.
  uint64_t LastRecordOffset() const { return last_record_offset_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t last_record_offset_ = 0;
};

}  // namespace log
}  // namespace ldb

#endif  // LDB_DB_LOG_READER_H_
