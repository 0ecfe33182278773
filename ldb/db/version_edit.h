// VersionEdit: one change to the set of live files, as recorded in the
// MANIFEST (format in ldb/doc/manifest_format.md). Replaying every edit of a
// MANIFEST in order rebuilds the DB's file set.
//
// Thread-compatible.
#ifndef LDB_DB_VERSION_EDIT_H_
#define LDB_DB_VERSION_EDIT_H_

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/dbformat.h"
#include "ldb/status.h"

namespace ldb {

class VersionSet;

// What the DB knows about one table file. Shared (through shared_ptr) by
// every Version that contains the file; mutable fields are protected by the
// DB mutex.
struct FileMetaData {
  // Number of Versions listing this file (bookkeeping; ownership is the
  // shared_ptr's). Protected by the DB mutex.
  int refs = 0;
  // Seeks left before this file is picked for a seek compaction. Protected
  // by the DB mutex.
  int allowed_seeks = 1 << 30;
  uint64_t number = 0;
  uint64_t file_size = 0;
  InternalKey smallest;  // smallest internal key in the table
  InternalKey largest;   // largest internal key in the table
  // Largest sequence number of any entry in the table; kMaxSequenceNumber
  // when unknown (files recorded without it).
  SequenceNumber max_sequence = kMaxSequenceNumber;
};

class VersionEdit {
 public:
  VersionEdit() = default;
  ~VersionEdit() = default;

  void Clear();

  void SetComparatorName(const Slice& name) {
    has_comparator_ = true;
    comparator_ = name.ToString();
  }
  void SetLogNumber(uint64_t num) {
    has_log_number_ = true;
    log_number_ = num;
  }
  void SetPrevLogNumber(uint64_t num) {
    has_prev_log_number_ = true;
    prev_log_number_ = num;
  }
  void SetNextFile(uint64_t num) {
    has_next_file_number_ = true;
    next_file_number_ = num;
  }
  void SetLastSequence(SequenceNumber seq) {
    has_last_sequence_ = true;
    last_sequence_ = seq;
  }
  void SetCompactPointer(int level, const InternalKey& key) {
    compact_pointers_.emplace_back(level, key);
  }

  // Adds the table `file` to `level`.
  // REQUIRES: smallest and largest are the file's smallest and largest
  // internal keys; max_sequence its largest sequence number.
  void AddFile(int level, uint64_t file, uint64_t file_size,
               const InternalKey& smallest, const InternalKey& largest,
               SequenceNumber max_sequence);
  // Same, from the number, size, keys and max_sequence of `f`.
  void AddFile(int level, const FileMetaData& f) {
    AddFile(level, f.number, f.file_size, f.smallest, f.largest,
            f.max_sequence);
  }

  // Removes the table `file` from `level`.
  void RemoveFile(int level, uint64_t file) {
    deleted_files_.insert(std::make_pair(level, file));
  }

  // Appends the encoding to *dst.
  void EncodeTo(std::string* dst) const;
  // Replaces the content with the decoding of src. Corruption (naming the
  // damaged field) on an unknown tag, a truncated field, a bad level or a
  // malformed key.
  Status DecodeFrom(const Slice& src);

  std::string DebugString() const;

  // Read access, for VersionSet and tests.
  bool has_comparator() const { return has_comparator_; }
  const std::string& comparator() const { return comparator_; }
  bool has_log_number() const { return has_log_number_; }
  uint64_t log_number() const { return log_number_; }
  bool has_prev_log_number() const { return has_prev_log_number_; }
  uint64_t prev_log_number() const { return prev_log_number_; }
  bool has_next_file_number() const { return has_next_file_number_; }
  uint64_t next_file_number() const { return next_file_number_; }
  bool has_last_sequence() const { return has_last_sequence_; }
  SequenceNumber last_sequence() const { return last_sequence_; }
  const std::vector<std::pair<int, InternalKey>>& compact_pointers() const {
    return compact_pointers_;
  }
  const std::set<std::pair<int, uint64_t>>& deleted_files() const {
    return deleted_files_;
  }
  const std::vector<std::pair<int, FileMetaData>>& new_files() const {
    return new_files_;
  }

 private:
  std::string comparator_;
  uint64_t log_number_ = 0;
  uint64_t prev_log_number_ = 0;
  uint64_t next_file_number_ = 0;
  SequenceNumber last_sequence_ = 0;
  bool has_comparator_ = false;
  bool has_log_number_ = false;
  bool has_prev_log_number_ = false;
  bool has_next_file_number_ = false;
  bool has_last_sequence_ = false;

  std::vector<std::pair<int, InternalKey>> compact_pointers_;
  std::set<std::pair<int, uint64_t>> deleted_files_;  // (level, number)
  std::vector<std::pair<int, FileMetaData>> new_files_;
};

}  // namespace ldb

#endif  // LDB_DB_VERSION_EDIT_H_
