#include "table/table.h"

#include <cstring>
#include <string>

#include "ldb/cache.h"
#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "table/block.h"
#include "table/filter_block.h"
#include "table/format.h"
#include "table/two_level_iterator.h"
#include "util/coding.h"

namespace ldb {

namespace {

// Every block read from the file is checksummed, whatever
// ReadOptions::verify_checksums says: with an unverified block a flipped
// byte inside a value would be returned as data, and ldb never returns a
// wrong value. The cost (crc32c of a few KiB, in hardware) is small next to
// the read itself; cached blocks were verified when they were read.
ReadOptions VerifiedReadOptions(const ReadOptions& options) {
  ReadOptions verified = options;
  verified.verify_checksums = true;
  return verified;
}

void DeleteCachedBlock(const Slice& /*key*/, void* value) {
  delete static_cast<Block*>(value);
}

}  // namespace

struct Table::Rep {
  // Constant after Open; the table is immutable, so every method is safe
  // from many threads.
  Options options;
  const RandomAccessFile* file = nullptr;
  uint64_t file_size = 0;
  uint64_t cache_id = 0;  // prefix of this table's block-cache keys
  BlockHandle metaindex_handle;
  std::unique_ptr<Block> index_block;
  // The filter, when options.filter_policy is set and the table has a
  // readable filter built by a policy of the same name.
  BlockContents filter_contents;
  std::unique_ptr<FilterBlockReader> filter;

  // Reads the metaindex block and, through it, the filter. Failures leave
  // the filter off (it only speeds up reads); they are returned so that Open
  // can fail under paranoid_checks.
  Status ReadMeta(const Footer& footer);

  // The data block `handle` names, through the block cache when there is
  // one: *block, pinned by *cache_handle (to Release) when cached, else
  // owned by *owned.
  Status GetBlock(const ReadOptions& options, const BlockHandle& handle,
                  const Block** block, Cache::Handle** cache_handle,
                  std::unique_ptr<Block>* owned) const;

  // Opens an iterator over the data block whose encoded handle is
  // index_value, through the block cache when there is one.
  std::unique_ptr<Iterator> BlockReader(const ReadOptions& options,
                                        const Slice& index_value) const;
};

Status Table::Rep::ReadMeta(const Footer& footer) {
  if (options.filter_policy == nullptr) return Status::OK();
  const ReadOptions read_options = VerifiedReadOptions(ReadOptions());
  BlockContents meta_contents;
  Status s = ReadBlock(file, file_size, read_options, footer.metaindex_handle(),
                       &meta_contents);
  if (!s.ok()) return s;
  Block meta(std::move(meta_contents));
  std::unique_ptr<Iterator> iter = meta.NewIterator(BytewiseComparator());
  std::string key = "filter.";
  key.append(options.filter_policy->Name());
  iter->Seek(key);
  if (!iter->Valid() || iter->key() != Slice(key)) {
    return iter->status();  // no filter of this policy: not an error
  }
  Slice handle_value = iter->value();
  BlockHandle filter_handle;
  s = filter_handle.DecodeFrom(&handle_value);
  if (!s.ok()) return s;
  s = ReadBlock(file, file_size, read_options, filter_handle, &filter_contents);
  if (!s.ok()) return s;
  filter = std::make_unique<FilterBlockReader>(options.filter_policy,
                                               filter_contents.data);
  return Status::OK();
}

Status Table::Rep::GetBlock(const ReadOptions& read_options,
                            const BlockHandle& handle, const Block** block,
                            Cache::Handle** cache_handle,
                            std::unique_ptr<Block>* owned) const {
  *block = nullptr;
  *cache_handle = nullptr;
  Cache* const cache = options.block_cache;
  const ReadOptions verified = VerifiedReadOptions(read_options);
  char cache_key[16];
  if (cache != nullptr) {
    EncodeFixed64(cache_key, cache_id);
    EncodeFixed64(cache_key + 8, handle.offset());
    *cache_handle = cache->Lookup(Slice(cache_key, sizeof(cache_key)));
    if (*cache_handle != nullptr) {
      *block = static_cast<const Block*>(cache->Value(*cache_handle));
      return Status::OK();
    }
  }
  BlockContents contents;
  Status s = ReadBlock(file, file_size, verified, handle, &contents);
  if (!s.ok()) return s;
  const bool cachable = contents.cachable;
  auto fresh = std::make_unique<Block>(std::move(contents));
  // Never cache a block that cannot be parsed.
  if (cache == nullptr || !fresh->well_formed() || !cachable ||
      !read_options.fill_cache) {
    *block = fresh.get();
    *owned = std::move(fresh);
    return Status::OK();
  }
  const size_t charge = fresh->size();
  *block = fresh.get();
  // The cache owns the block from here; DeleteCachedBlock frees it.
  *cache_handle = cache->Insert(Slice(cache_key, sizeof(cache_key)),
                                fresh.release(), charge, &DeleteCachedBlock);
  return Status::OK();
}

std::unique_ptr<Iterator> Table::Rep::BlockReader(
    const ReadOptions& read_options, const Slice& index_value) const {
  Slice input = index_value;
  BlockHandle handle;
  Status s = handle.DecodeFrom(&input);
  if (!s.ok()) return NewErrorIterator(s);

  const Block* block = nullptr;
  Cache::Handle* cache_handle = nullptr;
  std::unique_ptr<Block> owned;
  s = GetBlock(read_options, handle, &block, &cache_handle, &owned);
  if (!s.ok()) return NewErrorIterator(s);
  std::unique_ptr<Iterator> iter = block->NewIterator(options.comparator);
  if (cache_handle != nullptr) {
    Cache* const cache = options.block_cache;
    iter->RegisterCleanup(
        [cache, cache_handle] { cache->Release(cache_handle); });
  } else {
    std::shared_ptr<Block> shared(std::move(owned));
    iter->RegisterCleanup([shared] {});  // keeps the block alive
  }
  return iter;
}

Table::Table(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

Table::~Table() = default;

Status Table::Open(const Options& options, const RandomAccessFile* file,
                   uint64_t file_size, std::unique_ptr<Table>* table) {
  table->reset();
  if (file_size < Footer::kEncodedLength) {
    return Status::Corruption("file is too short to be an sstable");
  }
  char footer_space[Footer::kEncodedLength];
  Slice footer_input;
  Status s = file->Read(file_size - Footer::kEncodedLength,
                        Footer::kEncodedLength, &footer_input, footer_space);
  if (!s.ok()) return s;
  if (footer_input.size() != Footer::kEncodedLength) {
    return Status::Corruption("truncated sstable footer");
  }
  Footer footer;
  s = footer.DecodeFrom(&footer_input);
  if (!s.ok()) return s;

  auto rep = std::make_unique<Rep>();
  rep->options = options;
  rep->file = file;
  rep->file_size = file_size;
  rep->metaindex_handle = footer.metaindex_handle();

  BlockContents index_contents;
  s = ReadBlock(file, file_size, VerifiedReadOptions(ReadOptions()),
                footer.index_handle(), &index_contents);
  if (!s.ok()) return s;
  rep->index_block = std::make_unique<Block>(std::move(index_contents));
  if (!rep->index_block->well_formed()) {
    return Status::Corruption("bad index block contents");
  }

  s = rep->ReadMeta(footer);
  if (!s.ok()) {
    rep->filter.reset();
    if (options.paranoid_checks) return s;
  }

  if (options.block_cache != nullptr) {
    rep->cache_id = options.block_cache->NewId();
  }
  table->reset(new Table(std::move(rep)));
  return Status::OK();
}

std::unique_ptr<Iterator> Table::NewIterator(const ReadOptions& options) const {
  const Rep* rep = rep_.get();
  return NewTwoLevelIterator(
      rep->index_block->NewIterator(rep->options.comparator),
      [rep](const ReadOptions& read_options, const Slice& index_value) {
        return rep->BlockReader(read_options, index_value);
      },
      options);
}

Status Table::InternalGet(const ReadOptions& options, const Slice& k,
                          const std::function<void(const Slice&, const Slice&)>&
                              handle_result) const {
  // Iterators on the stack (BlockIter is final): no heap allocation besides
  // a block read on a cache miss.
  const Rep* rep = rep_.get();
  BlockIter index_iter(*rep->index_block, rep->options.comparator);
  index_iter.Seek(k);
  bool first_block = true;
  for (; index_iter.Valid(); index_iter.Next(), first_block = false) {
    Slice handle_value = index_iter.value();
    BlockHandle handle;
    Status s = handle.DecodeFrom(&handle_value);
    if (!s.ok()) return s;
    // Only the first candidate block can hold k itself; when the filter
    // rules k out of it, k is absent from the table.
    if (first_block && rep->filter != nullptr &&
        !rep->filter->KeyMayMatch(handle.offset(), k)) {
      return Status::OK();
    }
    const Block* block = nullptr;
    Cache::Handle* cache_handle = nullptr;
    std::unique_ptr<Block> owned;
    s = rep->GetBlock(options, handle, &block, &cache_handle, &owned);
    if (!s.ok()) return s;
    bool done = false;
    {
      BlockIter block_iter(*block, rep->options.comparator);
      block_iter.Seek(k);
      if (block_iter.Valid()) {
        handle_result(block_iter.key(), block_iter.value());
        done = true;
      } else {
        s = block_iter.status();
      }
    }
    if (cache_handle != nullptr) {
      rep->options.block_cache->Release(cache_handle);
    }
    if (done || !s.ok()) return s;
    // Every key of this block is < k (k fell between its last key and the
    // index separator): the first key >= k starts the next block.
  }
  return index_iter.status();
}

uint64_t Table::ApproximateOffsetOf(const Slice& key) const {
  const Rep* rep = rep_.get();
  std::unique_ptr<Iterator> index_iter =
      rep->index_block->NewIterator(rep->options.comparator);
  index_iter->Seek(key);
  if (index_iter->Valid()) {
    Slice value = index_iter->value();
    BlockHandle handle;
    if (handle.DecodeFrom(&value).ok()) return handle.offset();
  }
  // Past the last key, or a damaged index entry: the data ends where the
  // metaindex block starts.
  return rep->metaindex_handle.offset();
}

}  // namespace ldb
