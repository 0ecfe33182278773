// VersionEdit encoding. The format is described in
// ldb/doc/manifest_format.md.
#include "db/version_edit.h"

#include "util/coding.h"
#include "util/logging.h"

namespace ldb {

namespace {

// Tags of the fields of an encoded edit. Persisted: DO NOT RENUMBER.
enum Tag : uint32_t {
  kComparator = 1,
  kLogNumber = 2,
  kNextFileNumber = 3,
  kLastSequence = 4,
  kCompactPointer = 5,
  kDeletedFile = 6,
  kNewFile = 7,
  // 8 was LevelDB's large-value reference; never used here.
  kPrevLogNumber = 9,
  // The largest sequence number of a file added by an earlier kNewFile of
  // the same edit: varint64 file number, varint64 max sequence.
  kNewFileMaxSequence = 10,
};

bool GetLevel(Slice* input, int* level) {
  uint32_t v;
  if (GetVarint32(input, &v) && v < static_cast<uint32_t>(config::kNumLevels)) {
    *level = static_cast<int>(v);
    return true;
  }
  return false;
}

// An internal key must at least hold its 8-byte sequence/type trailer.
bool GetInternalKey(Slice* input, InternalKey* dst) {
  Slice str;
  if (!GetLengthPrefixedSlice(input, &str) || str.size() < 8) return false;
  return dst->DecodeFrom(str);
}

}  // namespace

void VersionEdit::Clear() { *this = VersionEdit(); }

void VersionEdit::AddFile(int level, uint64_t file, uint64_t file_size,
                          const InternalKey& smallest,
                          const InternalKey& largest,
                          SequenceNumber max_sequence) {
  FileMetaData f;
  f.number = file;
  f.file_size = file_size;
  f.smallest = smallest;
  f.largest = largest;
  f.max_sequence = max_sequence;
  new_files_.emplace_back(level, std::move(f));
}

void VersionEdit::EncodeTo(std::string* dst) const {
  if (has_comparator_) {
    PutVarint32(dst, kComparator);
    PutLengthPrefixedSlice(dst, comparator_);
  }
  if (has_log_number_) {
    PutVarint32(dst, kLogNumber);
    PutVarint64(dst, log_number_);
  }
  if (has_prev_log_number_) {
    PutVarint32(dst, kPrevLogNumber);
    PutVarint64(dst, prev_log_number_);
  }
  if (has_next_file_number_) {
    PutVarint32(dst, kNextFileNumber);
    PutVarint64(dst, next_file_number_);
  }
  if (has_last_sequence_) {
    PutVarint32(dst, kLastSequence);
    PutVarint64(dst, last_sequence_);
  }
  for (const auto& [level, key] : compact_pointers_) {
    PutVarint32(dst, kCompactPointer);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutLengthPrefixedSlice(dst, key.Encode());
  }
  for (const auto& [level, number] : deleted_files_) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  for (const auto& [level, f] : new_files_) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_size);
    PutLengthPrefixedSlice(dst, f.smallest.Encode());
    PutLengthPrefixedSlice(dst, f.largest.Encode());
    if (f.max_sequence != kMaxSequenceNumber) {
      PutVarint32(dst, kNewFileMaxSequence);
      PutVarint64(dst, f.number);
      PutVarint64(dst, f.max_sequence);
    }
  }
}

Status VersionEdit::DecodeFrom(const Slice& src) {
  Clear();
  Slice input = src;
  const char* msg = nullptr;
  uint32_t tag;

  while (msg == nullptr && GetVarint32(&input, &tag)) {
    switch (tag) {
      case kComparator: {
        Slice str;
        if (GetLengthPrefixedSlice(&input, &str)) {
          SetComparatorName(str);
        } else {
          msg = "comparator name";
        }
        break;
      }
      case kLogNumber:
        if (GetVarint64(&input, &log_number_)) {
          has_log_number_ = true;
        } else {
          msg = "log number";
        }
        break;
      case kPrevLogNumber:
        if (GetVarint64(&input, &prev_log_number_)) {
          has_prev_log_number_ = true;
        } else {
          msg = "previous log number";
        }
        break;
      case kNextFileNumber:
        if (GetVarint64(&input, &next_file_number_)) {
          has_next_file_number_ = true;
        } else {
          msg = "next file number";
        }
        break;
      case kLastSequence:
        if (GetVarint64(&input, &last_sequence_)) {
          has_last_sequence_ = true;
        } else {
          msg = "last sequence number";
        }
        break;
      case kCompactPointer: {
        int level;
        InternalKey key;
        if (GetLevel(&input, &level) && GetInternalKey(&input, &key)) {
          compact_pointers_.emplace_back(level, std::move(key));
        } else {
          msg = "compaction pointer";
        }
        break;
      }
      case kDeletedFile: {
        int level;
        uint64_t number;
        if (GetLevel(&input, &level) && GetVarint64(&input, &number)) {
          deleted_files_.insert(std::make_pair(level, number));
        } else {
          msg = "deleted file";
        }
        break;
      }
      case kNewFile: {
        int level;
        FileMetaData f;
        if (GetLevel(&input, &level) && GetVarint64(&input, &f.number) &&
            GetVarint64(&input, &f.file_size) &&
            GetInternalKey(&input, &f.smallest) &&
            GetInternalKey(&input, &f.largest)) {
          new_files_.emplace_back(level, std::move(f));
        } else {
          msg = "new-file entry";
        }
        break;
      }
      case kNewFileMaxSequence: {
        uint64_t number;
        uint64_t max_sequence;
        if (!GetVarint64(&input, &number) ||
            !GetVarint64(&input, &max_sequence) ||
            max_sequence > kMaxSequenceNumber) {
          msg = "new-file max sequence";
          break;
        }
        // Applies to the latest kNewFile of that number in this edit.
        FileMetaData* target = nullptr;
        for (auto it = new_files_.rbegin(); it != new_files_.rend(); ++it) {
          if (it->second.number == number) {
            target = &it->second;
            break;
          }
        }
        if (target == nullptr) {
          msg = "new-file max sequence without its new-file entry";
        } else {
          target->max_sequence = max_sequence;
        }
        break;
      }
      default:
        msg = "unknown tag";
        break;
    }
  }

  if (msg == nullptr && !input.empty()) {
    // GetVarint32 failed on the tag itself.
    msg = "invalid tag";
  }
  if (msg != nullptr) {
    return Status::Corruption("VersionEdit", msg);
  }
  return Status::OK();
}

std::string VersionEdit::DebugString() const {
  std::string r = "VersionEdit {";
  if (has_comparator_) {
    r.append("\n  Comparator: ");
    r.append(comparator_);
  }
  if (has_log_number_) {
    r.append("\n  LogNumber: ");
    AppendNumberTo(&r, log_number_);
  }
  if (has_prev_log_number_) {
    r.append("\n  PrevLogNumber: ");
    AppendNumberTo(&r, prev_log_number_);
  }
  if (has_next_file_number_) {
    r.append("\n  NextFile: ");
    AppendNumberTo(&r, next_file_number_);
  }
  if (has_last_sequence_) {
    r.append("\n  LastSeq: ");
    AppendNumberTo(&r, last_sequence_);
  }
  for (const auto& [level, key] : compact_pointers_) {
    r.append("\n  CompactPointer: ");
    AppendNumberTo(&r, level);
    r.append(" ");
    r.append(key.DebugString());
  }
  for (const auto& [level, number] : deleted_files_) {
    r.append("\n  RemoveFile: ");
    AppendNumberTo(&r, level);
    r.append(" ");
    AppendNumberTo(&r, number);
  }
  for (const auto& [level, f] : new_files_) {
    r.append("\n  AddFile: ");
    AppendNumberTo(&r, level);
    r.append(" ");
    AppendNumberTo(&r, f.number);
    r.append(" ");
    AppendNumberTo(&r, f.file_size);
    r.append(" ");
    r.append(f.smallest.DebugString());
    r.append(" .. ");
    r.append(f.largest.DebugString());
    r.append(" maxseq ");
    AppendNumberTo(&r, f.max_sequence);
  }
  r.append("\n}\n");
  return r;
}

}  // namespace ldb
