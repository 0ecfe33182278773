// log::Writer: splits records into fragments that never cross a 32 KiB block.
#include "db/log_writer.h"

#include <algorithm>
#include <cassert>

#include "ldb/env.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace ldb::log {

Writer::Writer(WritableFile* dest) : Writer(dest, 0) {}

Writer::Writer(WritableFile* dest, uint64_t dest_length)
    : dest_(dest), block_offset_(static_cast<int>(dest_length % kBlockSize)) {
  for (int i = 0; i <= kMaxRecordType; i++) {
    const char t = static_cast<char>(i);
    type_crc_[i] = crc32c::Value(&t, 1);
  }
}

Status Writer::AddRecord(const Slice& slice) {
  const char* ptr = slice.data();
  size_t left = slice.size();
  bool first = true;
  Status s;
  // An empty record still emits one (empty) FULL fragment.
  do {
    const int leftover = kBlockSize - block_offset_;
    assert(leftover >= 0);
    if (leftover < kHeaderSize) {
      // Too little room for a header: zero-fill the block's tail.
      if (leftover > 0) {
        static constexpr char kZeros[kHeaderSize] = {};
        s = dest_->Append(Slice(kZeros, static_cast<size_t>(leftover)));
        if (!s.ok()) {
          return s;
        }
      }
      block_offset_ = 0;
    }
    const size_t avail =
        static_cast<size_t>(kBlockSize - block_offset_ - kHeaderSize);
    const size_t fragment = std::min(left, avail);
    const bool last = fragment == left;
    RecordType type;
    if (first && last) {
      type = kFullType;
    } else if (first) {
      type = kFirstType;
    } else if (last) {
      type = kLastType;
    } else {
      type = kMiddleType;
    }
    s = EmitPhysicalRecord(type, ptr, fragment);
    ptr += fragment;
    left -= fragment;
    first = false;
  } while (s.ok() && left > 0);
  if (s.ok()) {
    s = dest_->Flush();
  }
  return s;
}

Status Writer::EmitPhysicalRecord(RecordType type, const char* ptr,
                                  size_t length) {
  assert(length <= 0xffff);
  assert(block_offset_ + kHeaderSize + static_cast<int>(length) <= kBlockSize);
  char header[kHeaderSize];
  // The CRC covers the type byte and the payload.
  const uint32_t crc = crc32c::Extend(type_crc_[type], ptr, length);
  EncodeFixed32(header, crc32c::Mask(crc));
  header[4] = static_cast<char>(length & 0xff);
  header[5] = static_cast<char>(length >> 8);
  header[6] = static_cast<char>(type);
  Status s = dest_->Append(Slice(header, kHeaderSize));
  if (s.ok()) {
    s = dest_->Append(Slice(ptr, length));
  }
  // Advance even on failure: the file's length is unknown then, and the DB
  // stops using a writer that failed.
  block_offset_ += kHeaderSize + static_cast<int>(length);
  return s;
}

}  // namespace ldb::log
