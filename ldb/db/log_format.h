// The WAL / MANIFEST record format (ldb/doc/log_format.md).
//
// The file is a sequence of 32 KiB blocks. A record is stored as one or more
// fragments, none crossing a block boundary:
//   masked crc32c (fixed32, over type byte + payload) | length (fixed16) |
//   type (1 byte) | payload
// A block tail shorter than a header is zero-filled.
#ifndef LDB_DB_LOG_FORMAT_H_
#define LDB_DB_LOG_FORMAT_H_

namespace ldb::log {

// Persisted: DO NOT RENUMBER.
enum RecordType {
  kZeroType = 0,  // preallocated / zero-filled space
  kFullType = 1,
  kFirstType = 2,
  kMiddleType = 3,
  kLastType = 4,
};
inline constexpr int kMaxRecordType = kLastType;
inline constexpr int kBlockSize = 32768;
// crc (4) + length (2) + type (1)
inline constexpr int kHeaderSize = 4 + 2 + 1;

}  // namespace ldb::log

#endif  // LDB_DB_LOG_FORMAT_H_
