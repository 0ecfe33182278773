// Engine: the adapter through which ldb_bench drives ldb, LevelDB and RocksDB
// with the same workload. Each implementation configures its store the same
// way from BenchOptions (see the comment at the top of each *_engine.cc for
// the exact settings and the differences that remain).
#ifndef TESSERA_TOOLS_LDB_BENCH_ENGINE_H_
#define TESSERA_TOOLS_LDB_BENCH_ENGINE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::ldb_bench {

// The result of an engine call: OK, or an error message (already prefixed by
// the engine's own status text). Thread-compatible.
class [[nodiscard]] EngineStatus {
 public:
  EngineStatus() = default;
  static EngineStatus OK() { return EngineStatus(); }
  static EngineStatus Error(std::string message) {
    EngineStatus s;
    s.message_ =
        message.empty() ? std::string("unknown error") : std::move(message);
    return s;
  }

  bool ok() const { return message_.empty(); }
  // "OK" or the error message.
  std::string ToString() const { return ok() ? "OK" : message_; }
  void IgnoreError() const {}

 private:
  std::string message_;  // empty means OK
};

// How every engine is configured. The same values go to every engine.
struct BenchOptions {
  size_t write_buffer_size_bytes = 4 << 20;
  size_t cache_size_bytes = 8 << 20;  // block cache
  size_t block_size_bytes = 4 << 10;
  // Bytes per table file before a compaction starts a new one (LevelDB's
  // fixed 2 MiB; given to ldb and RocksDB too).
  size_t max_file_size_bytes = 2 << 20;
  int bloom_bits_per_key = 10;
  int max_open_files = 1000;
  bool snappy = true;
  // Open must fail (not create) when the DB does not exist.
  bool use_existing_db = false;
};

// One put of a batch. The views must stay valid for the Write call.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};

// An iterator over the whole key space of an open engine, in key order.
// Thread-compatible. Must be destroyed before its engine is closed. key() and
// value() stay valid only until the iterator moves.
class EngineIterator {
 public:
  EngineIterator() = default;
  EngineIterator(const EngineIterator&) = delete;
  EngineIterator& operator=(const EngineIterator&) = delete;
  virtual ~EngineIterator() = default;

  virtual void SeekToFirst() = 0;
  // Positions at the first key >= target.
  virtual void Seek(std::string_view target) = 0;
  // REQUIRES: Valid()
  virtual void Next() = 0;
  virtual bool Valid() const = 0;
  // REQUIRES: Valid()
  virtual std::string_view key() const = 0;
  // REQUIRES: Valid()
  virtual std::string_view value() const = 0;
  // An error met while iterating, else OK.
  virtual EngineStatus status() const = 0;
};

// A key-value store under test.
//
// Open and Close are called from one thread with no other call running. In
// between, every other method is thread-safe (the stores are).
class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  // Closes the store if still open.
  virtual ~Engine() = default;

  // "ldb", "leveldb" or "rocksdb".
  virtual const char* Name() const = 0;
  // Library version, e.g. "1.23".
  virtual std::string Version() const = 0;

  // Opens (creating unless options.use_existing_db) the store in directory
  // `path`. REQUIRES: not open.
  virtual EngineStatus Open(const std::string& path,
                            const BenchOptions& options) = 0;
  // Waits for background work and releases the store. No-op when not open.
  virtual EngineStatus Close() = 0;
  // Removes the store's files. REQUIRES: not open.
  virtual EngineStatus Destroy(const std::string& path) = 0;

  virtual EngineStatus Put(bool sync, std::string_view key,
                           std::string_view value) = 0;
  // Sets *found; a missing key is not an error.
  virtual EngineStatus Get(std::string_view key, std::string* value,
                           bool* found) = 0;
  virtual EngineStatus Delete(bool sync, std::string_view key) = 0;
  // Applies puts[0, n) atomically, as one batch.
  virtual EngineStatus Write(bool sync, const KeyValue* puts, size_t n) = 0;
  virtual std::unique_ptr<EngineIterator> NewIterator() = 0;

  // A short engine-specific statistics dump (may be empty).
  virtual std::string Stats() { return std::string(); }
};

// Engines compiled into this binary, in the order "all" runs them.
struct EngineFactory {
  const char* name;
  std::unique_ptr<Engine> (*create)();
};
const std::vector<EngineFactory>& CompiledEngines();

// Implemented by ldb_engine.cc, leveldb_engine.cc and rocksdb_engine.cc.
std::unique_ptr<Engine> NewLdbEngine();
std::unique_ptr<Engine> NewLevelDbEngine();
std::unique_ptr<Engine> NewRocksDbEngine();

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_ENGINE_H_
