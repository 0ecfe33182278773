// Engine adapter for RocksDB (Debian's librocksdb-dev).
//
// RocksDB is configured to look like LevelDB/ldb as far as its options allow:
//   - Level-style compaction with LevelDB's shape: level0 triggers 4 / 8 / 12
//     (RocksDB's defaults are 4 / 20 / 36), max_bytes_for_level_base 10 MiB,
//     multiplier 10, 7 levels, target_file_size_base 2 MiB with multiplier 1
//     (LevelDB's max_file_size), level_compaction_dynamic_level_bytes off.
//   - write_buffer_size from the flag, max_write_buffer_number 2 (one mutable
//     plus one immutable memtable, as LevelDB), max_open_files 1000.
//   - max_background_jobs 1 to match ldb's single background thread. RocksDB
//     still keeps flushes and compactions in separate pools, so it may run one
//     flush and one compaction at the same time (its minimum); LevelDB and ldb
//     do both on one thread.
//   - BlockBasedTableOptions: 4 KiB blocks, restart interval 16, a block cache
//     (NewLRUCache) of --cache_size bytes, and NewBloomFilterPolicy(10). Since
//     RocksDB 7.0 that is always a FULL filter (one bloom per table file, the
//     "FastLocalBloom" of format_version 5); the old block-based filter is no
//     longer available. LevelDB and ldb build one filter per 2 KiB of data.
//     Index and filter blocks live in table-reader memory, outside the block
//     cache (cache_index_and_filter_blocks = false, RocksDB's default, which
//     matches LevelDB).
//   - Snappy compression on every level (bottommost too).
//   - Reads with verify_checksums = false (RocksDB defaults to true; LevelDB
//     and ldb to false).
// Left at RocksDB's defaults: concurrent memtable inserts, the compaction
// picking priority (kMinOverlappingRatio), and RocksDB's own write-stall
// controller (delayed_write_rate) instead of LevelDB's 1 ms sleep per write.
#if defined(LDB_BENCH_HAVE_ROCKSDB)

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>

#include "engine.h"

namespace tessera::ldb_bench {
namespace {

EngineStatus FromRocksDb(const rocksdb::Status& s) {
  return s.ok() ? EngineStatus::OK() : EngineStatus::Error(s.ToString());
}

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

rocksdb::ReadOptions BenchReadOptions() {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = false;
  return ro;
}

// Thread-compatible.
class RocksDbIterator final : public EngineIterator {
 public:
  explicit RocksDbIterator(rocksdb::Iterator* it) : it_(it) {}

  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  void Next() override { it_->Next(); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return ToView(it_->key()); }
  std::string_view value() const override { return ToView(it_->value()); }
  EngineStatus status() const override { return FromRocksDb(it_->status()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Thread-safe between Open and Close (rocksdb::DB is).
class RocksDbEngine final : public Engine {
 public:
  ~RocksDbEngine() override { Close().IgnoreError(); }

  const char* Name() const override { return "rocksdb"; }
  std::string Version() const override {
    return std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) +
           "." + std::to_string(ROCKSDB_PATCH);
  }

  EngineStatus Open(const std::string& path,
                    const BenchOptions& bench) override {
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(bench.cache_size_bytes);
    table.block_size = bench.block_size_bytes;
    table.block_restart_interval = 16;
    if (bench.bloom_bits_per_key > 0) {
      table.filter_policy.reset(
          rocksdb::NewBloomFilterPolicy(bench.bloom_bits_per_key));
    }
    table.whole_key_filtering = true;
    table.cache_index_and_filter_blocks = false;

    rocksdb::Options options;
    options.create_if_missing = !bench.use_existing_db;
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options.write_buffer_size = bench.write_buffer_size_bytes;
    options.max_write_buffer_number = 2;
    options.min_write_buffer_number_to_merge = 1;
    options.max_open_files = bench.max_open_files;
    options.compression =
        bench.snappy ? rocksdb::kSnappyCompression : rocksdb::kNoCompression;
    options.bottommost_compression = options.compression;
    options.compaction_style = rocksdb::kCompactionStyleLevel;
    options.num_levels = 7;
    options.level0_file_num_compaction_trigger = 4;
    options.level0_slowdown_writes_trigger = 8;
    options.level0_stop_writes_trigger = 12;
    options.max_bytes_for_level_base = 10 << 20;
    options.max_bytes_for_level_multiplier = 10;
    options.target_file_size_base = bench.max_file_size_bytes;
    options.target_file_size_multiplier = 1;
    options.level_compaction_dynamic_level_bytes = false;
    options.max_background_jobs = 1;
    options.max_subcompactions = 1;

    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
    db_.reset(db);
    return FromRocksDb(s);
  }

  EngineStatus Close() override {
    if (db_ == nullptr) return EngineStatus::OK();
    rocksdb::Status s = db_->Close();
    db_.reset();
    return FromRocksDb(s);
  }

  EngineStatus Destroy(const std::string& path) override {
    return FromRocksDb(rocksdb::DestroyDB(path, rocksdb::Options()));
  }

  EngineStatus Put(bool sync, std::string_view key,
                   std::string_view value) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return FromRocksDb(db_->Put(wo, ToSlice(key), ToSlice(value)));
  }

  EngineStatus Get(std::string_view key, std::string* value,
                   bool* found) override {
    rocksdb::Status s = db_->Get(BenchReadOptions(), ToSlice(key), value);
    *found = s.ok();
    if (s.IsNotFound()) return EngineStatus::OK();
    return FromRocksDb(s);
  }

  EngineStatus Delete(bool sync, std::string_view key) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return FromRocksDb(db_->Delete(wo, ToSlice(key)));
  }

  EngineStatus Write(bool sync, const KeyValue* puts, size_t n) override {
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < n; i++) {
      rocksdb::Status s =
          batch.Put(ToSlice(puts[i].key), ToSlice(puts[i].value));
      if (!s.ok()) return FromRocksDb(s);
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return FromRocksDb(db_->Write(wo, &batch));
  }

  std::unique_ptr<EngineIterator> NewIterator() override {
    return std::make_unique<RocksDbIterator>(
        db_->NewIterator(BenchReadOptions()));
  }

  std::string Stats() override {
    std::string stats;
    if (db_ != nullptr && db_->GetProperty("rocksdb.stats", &stats)) {
      return stats;
    }
    return std::string();
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<Engine> NewRocksDbEngine() {
  return std::make_unique<RocksDbEngine>();
}

}  // namespace tessera::ldb_bench

#endif  // LDB_BENCH_HAVE_ROCKSDB
