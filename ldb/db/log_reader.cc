// log::Reader: reassembles records from fragments, block by block.
//
// Damage in the middle of the file is reported through the Reporter and
// skipped; the reader resynchronizes at the next fragment that starts a
// record. A torn tail (the file ends inside a header, inside a payload, or
// inside a fragmented record) is how a crash mid-write looks: it ends the
// input silently.
#include "db/log_reader.h"

#include <cassert>

#include "ldb/env.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace ldb::log {

Reader::Reporter::~Reporter() = default;

namespace {

// Results of ReadFragment besides the record types.
enum : int {
  kEof = kMaxRecordType + 1,
  // A damaged fragment (already reported) was dropped.
  kBadFragment = kMaxRecordType + 2,
};

}  // namespace

struct Reader::Impl {
  Impl(SequentialFile* f, Reporter* r, bool c, uint64_t initial)
      : file(f),
        reporter(r),
        checksum(c),
        initial_offset(initial),
        backing(std::make_unique<char[]>(kBlockSize)),
        skipping_to_initial(initial > 0) {}

  // Tells the reporter that `bytes` starting at file offset `offset` were
  // dropped. Damage before initial_offset is not the caller's concern.
  void ReportDrop(size_t bytes, uint64_t offset, const Status& reason) {
    if (reporter != nullptr && offset >= initial_offset) {
      reporter->Corruption(bytes, reason);
    }
  }
  void ReportCorruption(size_t bytes, uint64_t offset, const char* reason) {
    ReportDrop(bytes, offset, Status::Corruption(reason));
  }

  // Positions the file at the start of the block holding initial_offset.
  // Returns false (after reporting) when the file cannot be skipped.
  bool SkipToInitialBlock();

  // Reads the next fragment. Returns its type with *payload and *offset (the
  // file offset of its header) set, or kEof, or kBadFragment.
  int ReadFragment(Slice* payload, uint64_t* offset);

  // Constant after construction.
  SequentialFile* const file;
  Reporter* const reporter;
  const bool checksum;
  const uint64_t initial_offset;
  const std::unique_ptr<char[]> backing;  // one block

  Slice buffer;              // unread part of the current block
  uint64_t buffer_end = 0;   // file offset just past buffer
  bool eof = false;          // the last read came up short
  bool initialized = false;  // SkipToInitialBlock has run
  bool skipping_to_initial;  // still looking for the first record
};

bool Reader::Impl::SkipToInitialBlock() {
  const uint64_t offset_in_block = initial_offset % kBlockSize;
  uint64_t block_start = initial_offset - offset_in_block;
  // No fragment can start in the last kHeaderSize-1 bytes of a block.
  if (offset_in_block > static_cast<uint64_t>(kBlockSize - kHeaderSize)) {
    block_start += kBlockSize;
  }
  buffer_end = block_start;
  if (block_start > 0) {
    Status s = file->Skip(block_start);
    if (!s.ok()) {
      ReportDrop(static_cast<size_t>(block_start), initial_offset, s);
      return false;
    }
  }
  return true;
}

int Reader::Impl::ReadFragment(Slice* payload, uint64_t* offset) {
  while (true) {
    if (buffer.size() < static_cast<size_t>(kHeaderSize)) {
      // Either a zero-filled block trailer, or (at EOF) a torn header.
      buffer.clear();
      if (eof) {
        return kEof;
      }
      Status s = file->Read(kBlockSize, &buffer, backing.get());
      if (!s.ok()) {
        buffer.clear();
        ReportDrop(kBlockSize, buffer_end, s);
        eof = true;
        return kEof;
      }
      buffer_end += buffer.size();
      if (buffer.size() < static_cast<size_t>(kBlockSize)) {
        eof = true;
      }
      continue;
    }

    const char* header = buffer.data();
    const uint64_t fragment_offset = buffer_end - buffer.size();
    const uint32_t length =
        static_cast<uint32_t>(static_cast<unsigned char>(header[4]) |
                              (static_cast<unsigned char>(header[5]) << 8));
    const int type = static_cast<unsigned char>(header[6]);

    if (type == kZeroType && length == 0) {
      // Preallocated, never written space: skip the empty header. If it was
      // damage over a real fragment, what follows fails its checks.
      buffer.remove_prefix(kHeaderSize);
      continue;
    }

    if (kHeaderSize + static_cast<size_t>(length) > buffer.size()) {
      if (eof) {
        // The payload is cut short by the end of the file: a torn write.
        buffer.clear();
        return kEof;
      }
      // A full block cannot hold this fragment: the length is damaged, and
      // nothing after it in this block can be trusted.
      const size_t drop = buffer.size();
      buffer.clear();
      ReportCorruption(drop, fragment_offset, "bad record length");
      return kBadFragment;
    }

    if (checksum) {
      const uint32_t expected = crc32c::Unmask(DecodeFixed32(header));
      const uint32_t actual = crc32c::Value(header + 6, 1 + length);
      if (expected != actual) {
        // The length may be the damaged part, so the rest of the block is
        // dropped rather than trusted to find the next header.
        const size_t drop = buffer.size();
        buffer.clear();
        ReportCorruption(drop, fragment_offset, "checksum mismatch");
        return kBadFragment;
      }
    }

    *payload = Slice(header + kHeaderSize, length);
    buffer.remove_prefix(kHeaderSize + length);

    if (type == kZeroType || type > kMaxRecordType) {
      ReportCorruption(kHeaderSize + length, fragment_offset,
                       "unknown record type");
      return kBadFragment;
    }
    if (skipping_to_initial && fragment_offset < initial_offset) {
      continue;  // before the requested start: not ours, silently skipped
    }
    *offset = fragment_offset;
    return type;
  }
}

Reader::Reader(SequentialFile* file, Reporter* reporter, bool checksum,
               uint64_t initial_offset)
    : impl_(std::make_unique<Impl>(file, reporter, checksum, initial_offset)) {}

Reader::~Reader() = default;

bool Reader::ReadRecord(Slice* record, std::string* scratch) {
  Impl& r = *impl_;
  if (!r.initialized) {
    r.initialized = true;
    if (!r.SkipToInitialBlock()) {
      r.eof = true;
      return false;
    }
  }

  scratch->clear();
  *record = Slice();
  bool in_record = false;      // FIRST seen, LAST not yet
  uint64_t record_offset = 0;  // offset of the FIRST fragment

  while (true) {
    Slice fragment;
    uint64_t fragment_offset = 0;
    const int type = r.ReadFragment(&fragment, &fragment_offset);

    if (r.skipping_to_initial) {
      if (type == kMiddleType || type == kLastType) {
        continue;  // the tail of a record that started before initial_offset
      }
      if (type == kFullType || type == kFirstType) {
        r.skipping_to_initial = false;
      }
    }

    switch (type) {
      case kFullType:
        if (in_record) {
          r.ReportCorruption(scratch->size(), record_offset,
                             "partial record without end");
        }
        scratch->clear();
        *record = fragment;
        last_record_offset_ = fragment_offset;
        return true;

      case kFirstType:
        if (in_record) {
          r.ReportCorruption(scratch->size(), record_offset,
                             "partial record without end");
        }
        scratch->assign(fragment.data(), fragment.size());
        in_record = true;
        record_offset = fragment_offset;
        break;

      case kMiddleType:
        if (!in_record) {
          r.ReportCorruption(fragment.size(), fragment_offset,
                             "missing start of fragmented record");
        } else {
          scratch->append(fragment.data(), fragment.size());
        }
        break;

      case kLastType:
        if (!in_record) {
          r.ReportCorruption(fragment.size(), fragment_offset,
                             "missing start of fragmented record");
        } else {
          scratch->append(fragment.data(), fragment.size());
          *record = Slice(*scratch);
          last_record_offset_ = record_offset;
          return true;
        }
        break;

      case kEof:
        // A record begun but not finished at EOF is a torn write, not damage.
        scratch->clear();
        return false;

      case kBadFragment:
        if (in_record) {
          r.ReportCorruption(scratch->size(), record_offset,
                             "error in middle of record");
          in_record = false;
          scratch->clear();
        }
        break;

      default:
        assert(false);  // ReadFragment returns only the values above
        return false;
    }
  }
}

}  // namespace ldb::log
