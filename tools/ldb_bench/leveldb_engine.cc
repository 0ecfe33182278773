// Engine adapter for LevelDB (Debian's libleveldb-dev).
//
// Configuration (the same values every adapter uses, from BenchOptions):
//   block_size 4 KiB, restart interval 16, snappy, NewBloomFilterPolicy with
//   bloom_bits_per_key (LevelDB's filter block: one filter per 2 KiB of table
//   data), a block cache of cache_size bytes (NewLRUCache), write_buffer_size,
//   max_open_files, max_file_size 2 MiB. Level-0 triggers 4 / 8 / 12 and the
//   10 MiB level-1 budget are LevelDB's compile-time constants. One background
//   thread does both flushes and compactions.
// Reads do not verify checksums and fill the cache (the defaults).
#if defined(LDB_BENCH_HAVE_LEVELDB)

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/slice.h>
#include <leveldb/status.h>
#include <leveldb/write_batch.h>

#include <memory>
#include <string>

#include "engine.h"

namespace tessera::ldb_bench {
namespace {

EngineStatus FromLevelDb(const leveldb::Status& s) {
  return s.ok() ? EngineStatus::OK() : EngineStatus::Error(s.ToString());
}

leveldb::Slice ToSlice(std::string_view s) {
  return leveldb::Slice(s.data(), s.size());
}

std::string_view ToView(const leveldb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

// Thread-compatible.
class LevelDbIterator final : public EngineIterator {
 public:
  explicit LevelDbIterator(leveldb::Iterator* it) : it_(it) {}

  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  void Next() override { it_->Next(); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return ToView(it_->key()); }
  std::string_view value() const override { return ToView(it_->value()); }
  EngineStatus status() const override { return FromLevelDb(it_->status()); }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
};

// Thread-safe between Open and Close (leveldb::DB is).
class LevelDbEngine final : public Engine {
 public:
  ~LevelDbEngine() override { Close().IgnoreError(); }

  const char* Name() const override { return "leveldb"; }
  std::string Version() const override {
    return std::to_string(leveldb::kMajorVersion) + "." +
           std::to_string(leveldb::kMinorVersion);
  }

  EngineStatus Open(const std::string& path,
                    const BenchOptions& bench) override {
    cache_.reset(leveldb::NewLRUCache(bench.cache_size_bytes));
    filter_.reset(bench.bloom_bits_per_key > 0
                      ? leveldb::NewBloomFilterPolicy(bench.bloom_bits_per_key)
                      : nullptr);
    leveldb::Options options;
    options.create_if_missing = !bench.use_existing_db;
    options.write_buffer_size = bench.write_buffer_size_bytes;
    options.max_open_files = bench.max_open_files;
    options.block_cache = cache_.get();
    options.block_size = bench.block_size_bytes;
    options.max_file_size = bench.max_file_size_bytes;
    options.compression =
        bench.snappy ? leveldb::kSnappyCompression : leveldb::kNoCompression;
    options.filter_policy = filter_.get();
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, path, &db);
    db_.reset(db);
    return FromLevelDb(s);
  }

  EngineStatus Close() override {
    db_.reset();
    filter_.reset();
    cache_.reset();
    return EngineStatus::OK();
  }

  EngineStatus Destroy(const std::string& path) override {
    return FromLevelDb(leveldb::DestroyDB(path, leveldb::Options()));
  }

  EngineStatus Put(bool sync, std::string_view key,
                   std::string_view value) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return FromLevelDb(db_->Put(wo, ToSlice(key), ToSlice(value)));
  }

  EngineStatus Get(std::string_view key, std::string* value,
                   bool* found) override {
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), ToSlice(key), value);
    *found = s.ok();
    if (s.IsNotFound()) return EngineStatus::OK();
    return FromLevelDb(s);
  }

  EngineStatus Delete(bool sync, std::string_view key) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return FromLevelDb(db_->Delete(wo, ToSlice(key)));
  }

  EngineStatus Write(bool sync, const KeyValue* puts, size_t n) override {
    leveldb::WriteBatch batch;
    for (size_t i = 0; i < n; i++) {
      batch.Put(ToSlice(puts[i].key), ToSlice(puts[i].value));
    }
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return FromLevelDb(db_->Write(wo, &batch));
  }

  std::unique_ptr<EngineIterator> NewIterator() override {
    return std::make_unique<LevelDbIterator>(
        db_->NewIterator(leveldb::ReadOptions()));
  }

  std::string Stats() override {
    std::string stats;
    if (db_ != nullptr && db_->GetProperty("leveldb.stats", &stats)) {
      return stats;
    }
    return std::string();
  }

 private:
  // Declared before db_ so that the DB is destroyed first.
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace

std::unique_ptr<Engine> NewLevelDbEngine() {
  return std::make_unique<LevelDbEngine>();
}

}  // namespace tessera::ldb_bench

#endif  // LDB_BENCH_HAVE_LEVELDB
