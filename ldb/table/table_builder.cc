#include "table/table_builder.h"

#include <snappy.h>

#include <cassert>
#include <string>

#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "table/block_builder.h"
#include "table/filter_block.h"
#include "table/format.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace ldb {

struct TableBuilder::Rep {
  Rep(const Options& opt, WritableFile* f)
      : options(opt),
        file(f),
        data_block(opt.block_restart_interval),
        // Index entries are looked up by binary search alone: every entry is
        // a restart point.
        index_block(1) {
    if (opt.filter_policy != nullptr) {
      filter_block = std::make_unique<FilterBlockBuilder>(opt.filter_policy);
      filter_block->StartBlock(0);
    }
  }

  // Constant after construction.
  const Options options;
  WritableFile* const file;

  uint64_t offset = 0;
  Status status;  // first error; sticky
  BlockBuilder data_block;
  BlockBuilder index_block;
  std::string last_key;
  uint64_t num_entries = 0;
  bool closed = false;  // Finish() or Abandon() called
  std::unique_ptr<FilterBlockBuilder> filter_block;

  // The index entry of a finished data block is written only when the next
  // key is known, so that the separator can be short (between the block's
  // last key and the next block's first key). Until then it is pending.
  bool pending_index_entry = false;
  BlockHandle pending_handle;

  std::string compressed;  // scratch for compression

  void SetError(const Status& s) {
    if (status.ok() && !s.ok()) status = s;
  }

  // Finishes block, compresses it as configured, writes it, and resets it.
  void WriteBlock(BlockBuilder* block, BlockHandle* handle) {
    const Slice raw = block->Finish();
    Slice contents = raw;
    CompressionType type = kNoCompression;
    if (options.compression == kSnappyCompression) {
      compressed.clear();
      snappy::Compress(raw.data(), raw.size(), &compressed);
      // Keep the compressed form only when it saves at least 12.5 %.
      if (compressed.size() < raw.size() - raw.size() / 8) {
        contents = Slice(compressed);
        type = kSnappyCompression;
      }
    }
    WriteRawBlock(contents, type, handle);
    compressed.clear();
    block->Reset();
  }

  // Appends contents and its trailer; sets *handle to where they went.
  void WriteRawBlock(const Slice& contents, CompressionType type,
                     BlockHandle* handle) {
    handle->set_offset(offset);
    handle->set_size(contents.size());
    Status s = file->Append(contents);
    if (s.ok()) {
      char trailer[kBlockTrailerSize];
      trailer[0] = static_cast<char>(type);
      uint32_t crc = crc32c::Value(contents.data(), contents.size());
      crc = crc32c::Extend(crc, trailer, 1);
      EncodeFixed32(trailer + 1, crc32c::Mask(crc));
      s = file->Append(Slice(trailer, kBlockTrailerSize));
    }
    if (s.ok()) {
      offset += contents.size() + kBlockTrailerSize;
    }
    SetError(s);
  }
};

TableBuilder::TableBuilder(const Options& options, WritableFile* file)
    : rep_(std::make_unique<Rep>(options, file)) {}

TableBuilder::~TableBuilder() {
  assert(rep_->closed);  // forgot Finish() or Abandon()
}

void TableBuilder::Add(const Slice& key, const Slice& value) {
  Rep* r = rep_.get();
  assert(!r->closed);
  if (!r->status.ok()) return;
  assert(r->num_entries == 0 ||
         r->options.comparator->Compare(key, Slice(r->last_key)) > 0);

  if (r->pending_index_entry) {
    assert(r->data_block.empty());
    r->options.comparator->FindShortestSeparator(&r->last_key, key);
    std::string handle_encoding;
    r->pending_handle.EncodeTo(&handle_encoding);
    r->index_block.Add(r->last_key, handle_encoding);
    r->pending_index_entry = false;
  }

  if (r->filter_block != nullptr) r->filter_block->AddKey(key);

  r->last_key.assign(key.data(), key.size());
  ++r->num_entries;
  r->data_block.Add(key, value);

  if (r->data_block.CurrentSizeEstimate() >= r->options.block_size) Flush();
}

void TableBuilder::Flush() {
  Rep* r = rep_.get();
  assert(!r->closed);
  if (!r->status.ok() || r->data_block.empty()) return;
  assert(!r->pending_index_entry);
  r->WriteBlock(&r->data_block, &r->pending_handle);
  // No file->Flush() per block: nobody reads a table before Finish(), and a
  // write(2) per 4 KiB block costs a system call each and, being unaligned,
  // makes ext4 zero the tail of every new page it starts (the data server's
  // migration ingest spent more CPU in that kernel memset than in building
  // the tables: on the VM of README the first touch of a fresh page is slow,
  // see util/posix_direct_file.h). The file's own buffer writes whole
  // chunks; Finish() and the caller's Sync()/Close() hand over the rest.
  if (r->status.ok()) r->pending_index_entry = true;
  if (r->filter_block != nullptr) r->filter_block->StartBlock(r->offset);
}

Status TableBuilder::status() const { return rep_->status; }

Status TableBuilder::Finish() {
  Rep* r = rep_.get();
  Flush();
  assert(!r->closed);
  r->closed = true;

  BlockHandle filter_handle;
  BlockHandle metaindex_handle;
  BlockHandle index_handle;

  // Filter block: stored uncompressed (filters do not compress).
  if (r->status.ok() && r->filter_block != nullptr) {
    r->WriteRawBlock(r->filter_block->Finish(), kNoCompression, &filter_handle);
  }

  // Metaindex block: "filter.<policy name>" -> filter handle.
  if (r->status.ok()) {
    BlockBuilder meta_index_block(r->options.block_restart_interval);
    if (r->filter_block != nullptr) {
      std::string key = "filter.";
      key.append(r->options.filter_policy->Name());
      std::string handle_encoding;
      filter_handle.EncodeTo(&handle_encoding);
      meta_index_block.Add(key, handle_encoding);
    }
    r->WriteBlock(&meta_index_block, &metaindex_handle);
  }

  // Index block.
  if (r->status.ok()) {
    if (r->pending_index_entry) {
      r->options.comparator->FindShortSuccessor(&r->last_key);
      std::string handle_encoding;
      r->pending_handle.EncodeTo(&handle_encoding);
      r->index_block.Add(r->last_key, handle_encoding);
      r->pending_index_entry = false;
    }
    r->WriteBlock(&r->index_block, &index_handle);
  }

  // Footer.
  if (r->status.ok()) {
    Footer footer;
    footer.set_metaindex_handle(metaindex_handle);
    footer.set_index_handle(index_handle);
    std::string footer_encoding;
    footer.EncodeTo(&footer_encoding);
    Status s = r->file->Append(footer_encoding);
    if (s.ok()) r->offset += footer_encoding.size();
    r->SetError(s);
  }
  return r->status;
}

void TableBuilder::Abandon() {
  assert(!rep_->closed);
  rep_->closed = true;
}

uint64_t TableBuilder::NumEntries() const { return rep_->num_entries; }

uint64_t TableBuilder::FileSize() const { return rep_->offset; }

Slice TableBuilder::LastKey() const {
  return rep_->num_entries == 0 ? Slice() : Slice(rep_->last_key);
}

}  // namespace ldb
