#include "table/format.h"

#include <snappy.h>

#include <cstring>

#include "ldb/env.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace ldb {

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset_);
  PutVarint64(dst, size_);
}

Status BlockHandle::DecodeFrom(Slice* input) {
  uint64_t offset = 0;
  uint64_t size = 0;
  if (!GetVarint64(input, &offset) || !GetVarint64(input, &size)) {
    return Status::Corruption("bad block handle");
  }
  offset_ = offset;
  size_ = size;
  return Status::OK();
}

void Footer::EncodeTo(std::string* dst) const {
  const size_t start = dst->size();
  metaindex_handle_.EncodeTo(dst);
  index_handle_.EncodeTo(dst);
  dst->resize(start + 2 * BlockHandle::kMaxEncodedLength, '\0');
  PutFixed64(dst, kTableMagicNumber);
}

Status Footer::DecodeFrom(Slice* input) {
  if (input->size() < kEncodedLength) {
    return Status::Corruption("not an sstable (footer too short)");
  }
  const char* magic_ptr = input->data() + kEncodedLength - 8;
  if (DecodeFixed64(magic_ptr) != kTableMagicNumber) {
    return Status::Corruption("not an sstable (bad magic number)");
  }
  Slice handles(input->data(), kEncodedLength - 8);
  Status s = metaindex_handle_.DecodeFrom(&handles);
  if (s.ok()) s = index_handle_.DecodeFrom(&handles);
  if (!s.ok()) return Status::Corruption("bad block handle in table footer");
  input->remove_prefix(kEncodedLength);
  return Status::OK();
}

namespace {

// Snappy never expands more than 64 output bytes per 3 input bytes (a
// two-byte-offset copy), so a claimed uncompressed length beyond this bound
// is damage; checking it first keeps a flipped length byte from asking for
// gigabytes.
bool PlausibleUncompressedLength(size_t compressed, size_t uncompressed) {
  return uncompressed / 22 <= compressed;
}

}  // namespace

Status ReadBlock(const RandomAccessFile* file, uint64_t file_size,
                 const ReadOptions& options, const BlockHandle& handle,
                 BlockContents* result) {
  *result = BlockContents();

  // Bounds: offset + size + trailer must fit in the file, without overflow.
  if (handle.offset() > file_size ||
      file_size - handle.offset() < kBlockTrailerSize ||
      handle.size() > file_size - handle.offset() - kBlockTrailerSize) {
    return Status::Corruption("block handle points outside the file");
  }
  const size_t n = static_cast<size_t>(handle.size());
  const size_t total = n + kBlockTrailerSize;
  // Scratch for files that copy (pread). Typical blocks fit on the stack, so
  // a compressed block costs one heap allocation (its uncompressed form). A
  // mapped file hands out its own memory and ignores the scratch: checksum
  // and decompress straight from the mapping.
  constexpr size_t kStackScratch = 16 * 1024;
  char stack_scratch[kStackScratch];
  std::unique_ptr<char[]> heap_scratch;
  char* scratch = stack_scratch;
  if (total > kStackScratch) {
    heap_scratch.reset(new char[total]);
    scratch = heap_scratch.get();
  }
  Slice contents;
  Status s = file->Read(handle.offset(), total, &contents, scratch);
  if (!s.ok()) return s;
  if (contents.size() != total) {
    return Status::Corruption("truncated block read");
  }
  const char* data = contents.data();

  if (options.verify_checksums) {
    const uint32_t expected = crc32c::Unmask(DecodeFixed32(data + n + 1));
    const uint32_t actual = crc32c::Value(data, n + 1);
    if (actual != expected) {
      return Status::Corruption("block checksum mismatch");
    }
  }

  switch (static_cast<unsigned char>(data[n])) {
    case kNoCompression: {
      if (data != stack_scratch && data != heap_scratch.get()) {
        // The file's own memory (a mapping that lives as long as the file):
        // borrow it. Not cachable: a cached block could outlive the file.
        // This keeps index and filter blocks out of the heap, where they
        // would otherwise sit twice (heap copy + mapped pages).
        result->data = Slice(data, n);
        result->cachable = false;
        result->heap_allocated = false;
        return Status::OK();
      }
      std::unique_ptr<char[]> buf;
      if (data == heap_scratch.get()) {
        buf = std::move(heap_scratch);
      } else {
        buf.reset(new char[n == 0 ? 1 : n]);
        std::memcpy(buf.get(), data, n);
      }
      result->data = Slice(buf.get(), n);
      result->owned = std::move(buf);
      result->heap_allocated = true;
      result->cachable = true;
      return Status::OK();
    }
    case kSnappyCompression: {
      size_t ulength = 0;
      if (!snappy::GetUncompressedLength(data, n, &ulength) ||
          !PlausibleUncompressedLength(n, ulength)) {
        return Status::Corruption("corrupted compressed block contents");
      }
      // new char[0] is fine; keep at least one byte for a stable pointer.
      std::unique_ptr<char[]> ubuf(new char[ulength == 0 ? 1 : ulength]);
      if (!snappy::RawUncompress(data, n, ubuf.get())) {
        return Status::Corruption("corrupted compressed block contents");
      }
      result->data = Slice(ubuf.get(), ulength);
      result->owned = std::move(ubuf);
      result->heap_allocated = true;
      result->cachable = true;
      return Status::OK();
    }
    default:
      return Status::Corruption("bad block type");
  }
}

}  // namespace ldb
