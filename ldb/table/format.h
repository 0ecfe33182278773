// On-disk pieces of a table file: block handles, the footer, block trailers,
// and reading one block back. The whole format is described in
// ldb/doc/table_format.md.
#ifndef LDB_TABLE_FORMAT_H_
#define LDB_TABLE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ldb/options.h"
#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class RandomAccessFile;

// Where a block lives in the file: offset and size (without the trailer),
// encoded as two varint64s. Thread-compatible value type.
class BlockHandle {
 public:
  // Two varint64s of at most 10 bytes each.
  static constexpr size_t kMaxEncodedLength = 10 + 10;

  BlockHandle() = default;
  BlockHandle(uint64_t offset, uint64_t size) : offset_(offset), size_(size) {}

  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }
  uint64_t size() const { return size_; }
  void set_size(uint64_t size) { size_ = size; }

  void EncodeTo(std::string* dst) const;
  // Parses a handle from the front of *input and advances it; Corruption
  // when the varints are damaged.
  Status DecodeFrom(Slice* input);

 private:
  uint64_t offset_ = 0;
  uint64_t size_ = 0;
};

// The fixed-size tail of every table file:
//   metaindex handle | index handle | zero padding to 40 bytes | magic fixed64
// Thread-compatible value type.
class Footer {
 public:
  static constexpr size_t kEncodedLength =
      2 * BlockHandle::kMaxEncodedLength + 8;

  Footer() = default;

  const BlockHandle& metaindex_handle() const { return metaindex_handle_; }
  void set_metaindex_handle(const BlockHandle& h) { metaindex_handle_ = h; }
  const BlockHandle& index_handle() const { return index_handle_; }
  void set_index_handle(const BlockHandle& h) { index_handle_ = h; }

  // Appends exactly kEncodedLength bytes.
  void EncodeTo(std::string* dst) const;
  // REQUIRES: nothing; damaged or short input gives Corruption. On success
  // *input is advanced past the footer.
  Status DecodeFrom(Slice* input);

 private:
  BlockHandle metaindex_handle_;
  BlockHandle index_handle_;
};

// "ldbtable" read as a big-endian number; stored little-endian.
inline constexpr uint64_t kTableMagicNumber = 0x6c64627461626c65ull;

// Every block is followed by: compression type (1 byte) | masked crc32c of
// (block data + type byte) as fixed32.
inline constexpr size_t kBlockTrailerSize = 5;

// The bytes of one block, after checksum verification and decompression.
// Move-only. `data` points into `owned` when `heap_allocated`.
struct BlockContents {
  Slice data;
  // True when the bytes may be kept in the block cache.
  bool cachable = false;
  // True when `owned` holds the bytes `data` points at.
  bool heap_allocated = false;
  std::unique_ptr<char[]> owned;
};

// Reads the block `handle` names from file[0, file_size) into *result.
// Checks that the block and its trailer lie inside the file, verifies the
// checksum when options.verify_checksums, and uncompresses. Damage gives
// Corruption, never an out-of-bounds read or a huge allocation. The result
// owns its bytes (cachable, heap_allocated), except for a block stored
// uncompressed in a file that hands out memory of its own (a mapping): then
// it borrows that memory (neither cachable nor heap_allocated) and is valid
// only as long as the file.
Status ReadBlock(const RandomAccessFile* file, uint64_t file_size,
                 const ReadOptions& options, const BlockHandle& handle,
                 BlockContents* result);

}  // namespace ldb

#endif  // LDB_TABLE_FORMAT_H_
