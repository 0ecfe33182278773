// Engine adapter for ldb.
//
// Configuration (the same values every adapter uses, from BenchOptions):
//   block_size 4 KiB, restart interval 16, snappy, bloom filter of
//   bloom_bits_per_key bits per key (one filter per 2 KiB of table data, as
//   LevelDB), a block cache of cache_size bytes (NewLRUCache),
//   write_buffer_size, max_open_files, max_file_size 2 MiB, level-0 triggers 4
//   / 8 / 12 and a 10 MiB level-1 budget (ldb's defaults, the same as
//   LevelDB's). One background thread does both flushes and compactions.
// Reads do not verify checksums and fill the cache (the defaults).
#include <memory>
#include <string>

#include "engine.h"
#include "ldb/cache.h"
#include "ldb/db.h"
#include "ldb/filter_policy.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/slice.h"
#include "ldb/status.h"
#include "ldb/write_batch.h"

namespace tessera::ldb_bench {
namespace {

EngineStatus FromLdb(const ldb::Status& s) {
  return s.ok() ? EngineStatus::OK() : EngineStatus::Error(s.ToString());
}

ldb::Slice ToSlice(std::string_view s) {
  return ldb::Slice(s.data(), s.size());
}

// Thread-compatible.
class LdbIterator final : public EngineIterator {
 public:
  explicit LdbIterator(std::unique_ptr<ldb::Iterator> it)
      : it_(std::move(it)) {}

  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  void Next() override { it_->Next(); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return it_->key().view(); }
  std::string_view value() const override { return it_->value().view(); }
  EngineStatus status() const override { return FromLdb(it_->status()); }

 private:
  std::unique_ptr<ldb::Iterator> it_;
};

// Thread-safe between Open and Close (ldb::DB is).
class LdbEngine final : public Engine {
 public:
  ~LdbEngine() override { Close().IgnoreError(); }

  const char* Name() const override { return "ldb"; }
  std::string Version() const override { return "tessera"; }

  EngineStatus Open(const std::string& path,
                    const BenchOptions& bench) override {
    cache_ = ldb::NewLRUCache(bench.cache_size_bytes);
    filter_ = bench.bloom_bits_per_key > 0
                  ? ldb::NewBloomFilterPolicy(bench.bloom_bits_per_key)
                  : nullptr;
    ldb::Options options;
    options.create_if_missing = !bench.use_existing_db;
    options.write_buffer_size = bench.write_buffer_size_bytes;
    options.max_open_files = bench.max_open_files;
    options.block_cache = cache_.get();
    options.block_size = bench.block_size_bytes;
    options.max_file_size = bench.max_file_size_bytes;
    options.compression =
        bench.snappy ? ldb::kSnappyCompression : ldb::kNoCompression;
    options.filter_policy = filter_.get();
    options.level0_file_num_compaction_trigger = 4;
    options.level0_slowdown_writes_trigger = 8;
    options.level0_stop_writes_trigger = 12;
    options.max_bytes_for_level_base = 10 << 20;
    return FromLdb(ldb::DB::Open(options, path, &db_));
  }

  EngineStatus Close() override {
    db_.reset();  // waits for background work
    filter_.reset();
    cache_.reset();
    return EngineStatus::OK();
  }

  EngineStatus Destroy(const std::string& path) override {
    ldb::Options options;
    return FromLdb(ldb::DestroyDB(path, options));
  }

  EngineStatus Put(bool sync, std::string_view key,
                   std::string_view value) override {
    ldb::WriteOptions wo;
    wo.sync = sync;
    return FromLdb(db_->Put(wo, ToSlice(key), ToSlice(value)));
  }

  EngineStatus Get(std::string_view key, std::string* value,
                   bool* found) override {
    ldb::Status s = db_->Get(ldb::ReadOptions(), ToSlice(key), value);
    *found = s.ok();
    if (s.IsNotFound()) return EngineStatus::OK();
    return FromLdb(s);
  }

  EngineStatus Delete(bool sync, std::string_view key) override {
    ldb::WriteOptions wo;
    wo.sync = sync;
    return FromLdb(db_->Delete(wo, ToSlice(key)));
  }

  EngineStatus Write(bool sync, const KeyValue* puts, size_t n) override {
    ldb::WriteBatch batch;
    for (size_t i = 0; i < n; i++) {
      batch.Put(ToSlice(puts[i].key), ToSlice(puts[i].value));
    }
    ldb::WriteOptions wo;
    wo.sync = sync;
    return FromLdb(db_->Write(wo, &batch));
  }

  std::unique_ptr<EngineIterator> NewIterator() override {
    return std::make_unique<LdbIterator>(db_->NewIterator(ldb::ReadOptions()));
  }

  std::string Stats() override {
    std::string stats;
    if (db_ != nullptr && db_->GetProperty("ldb.stats", &stats)) return stats;
    return std::string();
  }

 private:
  // Declared before db_ so that the DB is destroyed first.
  std::unique_ptr<ldb::Cache> cache_;
  std::unique_ptr<const ldb::FilterPolicy> filter_;
  std::unique_ptr<ldb::DB> db_;
};

}  // namespace

std::unique_ptr<Engine> NewLdbEngine() { return std::make_unique<LdbEngine>(); }

}  // namespace tessera::ldb_bench
