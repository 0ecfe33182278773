// Table cache. See table_cache.h.
#include "db/table_cache.h"

#include "db/filename.h"
#include "ldb/env.h"
#include "table/table.h"
#include "util/coding.h"

namespace ldb {

namespace {

// What one cache entry owns. The table refers to the file, so `table` is
// declared after `file` and is therefore destroyed first.
struct TableAndFile {
  std::unique_ptr<RandomAccessFile> file;
  std::unique_ptr<Table> table;
};

void DeleteEntry(const Slice& /*key*/, void* value) {
  delete static_cast<TableAndFile*>(value);
}

std::string CacheKey(uint64_t file_number) {
  std::string key;
  PutFixed64(&key, file_number);
  return key;
}

}  // namespace

TableCache::TableCache(const std::string& dbname, const Options& options,
                       int entries)
    : env_(options.env),
      dbname_(dbname),
      options_(options),
      cache_(NewLRUCache(static_cast<size_t>(entries > 0 ? entries : 1))) {}

TableCache::~TableCache() = default;

Status TableCache::FindTable(uint64_t file_number, uint64_t file_size,
                             Cache::Handle** handle) {
  const std::string key = CacheKey(file_number);
  *handle = cache_->Lookup(key);
  if (*handle != nullptr) return Status::OK();

  auto entry = std::make_unique<TableAndFile>();
  const std::string fname = TableFileName(dbname_, file_number);
  Status s = env_->NewRandomAccessFile(fname, &entry->file);
  if (s.ok()) {
    s = Table::Open(options_, entry->file.get(), file_size, &entry->table);
  }
  if (!s.ok()) {
    // Errors are not cached: a transient failure (or a repaired file) is
    // retried on the next use.
    return s;
  }
  opens_.fetch_add(1, std::memory_order_relaxed);
  *handle = cache_->Insert(key, entry.release(), 1, &DeleteEntry);
  return Status::OK();
}

std::unique_ptr<Iterator> TableCache::NewIterator(const ReadOptions& options,
                                                  uint64_t file_number,
                                                  uint64_t file_size,
                                                  Table** tableptr) {
  if (tableptr != nullptr) *tableptr = nullptr;
  Cache::Handle* handle = nullptr;
  Status s = FindTable(file_number, file_size, &handle);
  if (!s.ok()) return NewErrorIterator(s);

  Table* table = static_cast<TableAndFile*>(cache_->Value(handle))->table.get();
  std::unique_ptr<Iterator> result = table->NewIterator(options);
  Cache* cache = cache_.get();
  result->RegisterCleanup([cache, handle] { cache->Release(handle); });
  if (tableptr != nullptr) *tableptr = table;
  return result;
}

Status TableCache::Get(
    const ReadOptions& options, uint64_t file_number, uint64_t file_size,
    const Slice& internal_key,
    const std::function<void(const Slice&, const Slice&)>& handle_result) {
  Cache::Handle* handle = nullptr;
  Status s = FindTable(file_number, file_size, &handle);
  if (!s.ok()) return s;
  const Table* table =
      static_cast<TableAndFile*>(cache_->Value(handle))->table.get();
  s = table->InternalGet(options, internal_key, handle_result);
  cache_->Release(handle);
  return s;
}

uint64_t TableCache::ApproximateOffsetOf(uint64_t file_number,
                                         uint64_t file_size,
                                         const Slice& internal_key) {
  Cache::Handle* handle = nullptr;
  Status s = FindTable(file_number, file_size, &handle);
  if (!s.ok()) return 0;
  const Table* table =
      static_cast<TableAndFile*>(cache_->Value(handle))->table.get();
  const uint64_t offset = table->ApproximateOffsetOf(internal_key);
  cache_->Release(handle);
  return offset;
}

void TableCache::Evict(uint64_t file_number) {
  cache_->Erase(CacheKey(file_number));
}

}  // namespace ldb
