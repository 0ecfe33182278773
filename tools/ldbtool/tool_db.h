// ToolDb: a data server's ldb directory opened offline, exactly the way the data
// server's StorageManager opens it (dataserver/storage_manager.cc): the GC registry
// replayed from GCLOG, BitcmpComparator over it, the expire bloom policy, a block
// cache, snappy. The data server's --data_dir IS the ldb directory.
//
// Open refuses, with a message meant for an operator:
//  - a missing directory, or one without a CURRENT file ("not an ldb DB"); nothing
//    is created in it;
//  - a directory whose LOCK is held by another process: "DIR is in use (is the data
//    server running?)";
//  - whatever ldb reports (corruption, comparator mismatch).
//
// The comparator is ToolComparator: BitcmpComparator under the same persisted name,
// whose read hooks (ShouldDrop / ShouldDropMaybe) can be switched off for the
// calling thread with a RevealScope, so that `dump --all` sees expired and reclaimed
// keys. Background compactions run on ldb's threads and always apply the real hooks.
//
// Thread-compatible (one command at a time).
#ifndef TESSERA_TOOLS_LDBTOOL_TOOL_DB_H_
#define TESSERA_TOOLS_LDBTOOL_TOOL_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "comparators/bitcmp_comparator.h"
#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "ldb/cache.h"
#include "ldb/comparator.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"

namespace tessera::ldbtool {

// BitcmpComparator with read hooks that a RevealScope turns off on its thread.
// Thread-safe.
class ToolComparator final : public ldb::Comparator {
 public:
  // `registry` may be null; otherwise it must outlive the comparator.
  explicit ToolComparator(const comparators::GcRegistry* registry) : inner_(registry) {}

  int Compare(const ldb::Slice& a, const ldb::Slice& b) const override;
  const char* Name() const override;
  void FindShortestSeparator(std::string* start, const ldb::Slice& limit) const override;
  void FindShortSuccessor(std::string* key) const override;
  bool ShouldDrop(const ldb::Slice& user_key, ldb::SequenceNumber seq,
                  uint64_t now_seconds) const override;
  bool ShouldDropMaybe(const ldb::Slice& user_key, ldb::SequenceNumber seq,
                       uint64_t now_seconds) const override;
  bool ShouldStopBefore(const ldb::Slice& start_user_key,
                        const ldb::Slice& user_key) const override;
  bool ShouldDropRange(const ldb::Slice& smallest_user_key,
                       const ldb::Slice& largest_user_key,
                       ldb::SequenceNumber max_seq) const override;

 private:
  const comparators::BitcmpComparator inner_;
};

// While alive, ToolComparator's read hooks say "keep" on this thread. Not nestable
// across threads; nesting on one thread restores the outer state.
class RevealScope {
 public:
  RevealScope();
  ~RevealScope();
  RevealScope(const RevealScope&) = delete;
  RevealScope& operator=(const RevealScope&) = delete;

 private:
  const bool previous_;
};

// One live table file, from the "ldb.sstables" property.
struct TableFile {
  int level = 0;
  uint64_t number = 0;
  uint64_t bytes = 0;
};

class ToolDb {
 public:
  // Opens the DB in `dir` (see the file comment). Status messages are complete
  // sentences for the operator.
  static Status Open(const std::string& dir, std::unique_ptr<ToolDb>* out);

  ~ToolDb();
  ToolDb(const ToolDb&) = delete;
  ToolDb& operator=(const ToolDb&) = delete;

  const std::string& dir() const { return dir_; }
  ldb::DB* db() const { return db_.get(); }
  ldb::Env* env() const { return env_; }
  comparators::GcRegistry* registry() const { return registry_.get(); }
  const ToolComparator& comparator() const { return *comparator_; }
  // The clock ldb judges expiry with.
  uint32_t NowSeconds() const;

  // An ldb property, empty when unknown.
  std::string Property(const std::string& name) const;
  // A numeric ldb property; Internal when missing or not a number.
  Status NumProperty(const std::string& name, uint64_t* value) const;

  // The live table files by level (parsed from "ldb.sstables").
  Status ListTables(std::vector<TableFile>* tables) const;
  // Sum of the live table files' sizes.
  Status DiskBytes(uint64_t* bytes) const;

  // Calls fn(stored key, stored value) for every key in `range` (null = all) in
  // key order, until fn returns false. Without `reveal`, only keys reads can see;
  // with it, also expired and reclaimed ones (the newest version of each key).
  // Returns the iterator's error (e.g. Corruption naming the damage).
  using ScanFn = std::function<bool(const ldb::Slice& key, const ldb::Slice& value)>;
  Status Scan(const comparators::StoredKeyRange* range, bool reveal, const ScanFn& fn) const;

  // Closes the DB (waits for background work). Idempotent.
  void Close();

 private:
  explicit ToolDb(std::string dir) : dir_(std::move(dir)) {}

  const std::string dir_;
  ldb::Env* env_ = nullptr;
  std::unique_ptr<comparators::GcRegistry> registry_;
  std::unique_ptr<ToolComparator> comparator_;
  std::unique_ptr<const ldb::FilterPolicy> filter_;
  std::unique_ptr<ldb::Cache> cache_;
  std::unique_ptr<ldb::DB> db_;
};

}  // namespace tessera::ldbtool

#endif  // TESSERA_TOOLS_LDBTOOL_TOOL_DB_H_
