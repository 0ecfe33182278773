// TableCache through a DB: how often reads open table files, as counted by
// the "ldb.table-opens" property, with a cache smaller and larger than the
// DB's table count.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/options.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;
using test::Key;

constexpr int kKeys = 3000;

class TableCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv(Env::Default());
    options_.env = env_.get();
    options_.create_if_missing = true;
    options_.compression = kNoCompression;
    options_.max_file_size = 16 << 10;  // ~16 entries of 1000 bytes per table
    options_.write_buffer_size = 16 << 10;  // flushes of ~16 entries too
    dbname_ = "/table_cache_test";
  }

  // Writes kKeys 1000-byte values and compacts them into ~190 small tables.
  void Fill() {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(IsOk(DB::Open(options_, dbname_, &db)));
    Random rnd(301);
    for (int i = 0; i < kKeys; i++) {
      std::string value;
      for (int j = 0; j < 1000; j++) {
        value.push_back(static_cast<char>(' ' + rnd.Uniform(95)));
      }
      ASSERT_TRUE(IsOk(db->Put(WriteOptions(), Key(i), value)));
    }
    db->CompactRange(nullptr, nullptr);
  }

  uint64_t Property(DB* db, const std::string& name) {
    std::string value;
    EXPECT_TRUE(db->GetProperty(name, &value)) << name;
    return std::stoull(value);
  }

  int TableCount(DB* db) {
    int n = 0;
    for (int level = 0; level < 7; level++) {
      n += static_cast<int>(
          Property(db, "ldb.num-files-at-level" + std::to_string(level)));
    }
    return n;
  }

  // Fills the DB, then opens it with a table cache for `max_open_files`.
  void Reopen(int max_open_files) {
    ASSERT_NO_FATAL_FAILURE(Fill());
    options_.max_open_files = max_open_files;
    ASSERT_TRUE(IsOk(DB::Open(options_, dbname_, &db_)));
    tables_ = TableCount(db_.get());
    ASSERT_GT(tables_, 100);
    opens_at_open_ = Property(db_.get(), "ldb.table-opens");
  }

  // Tables opened since Reopen.
  uint64_t Opens() {
    return Property(db_.get(), "ldb.table-opens") - opens_at_open_;
  }

  // Reads every key once, in order.
  void ReadAll() {
    std::string value;
    for (int i = 0; i < kKeys; i++) {
      ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(i), &value)));
      ASSERT_EQ(1000u, value.size());
    }
  }

  std::unique_ptr<Env> env_;
  Options options_;
  std::string dbname_;
  std::unique_ptr<DB> db_;
  int tables_ = 0;
  uint64_t opens_at_open_ = 0;
};

TEST_F(TableCacheTest, ACacheLargerThanTheDbOpensEachTableOnce) {
  ASSERT_NO_FATAL_FAILURE(Reopen(1000));
  ReadAll();
  const uint64_t first = Opens();
  EXPECT_LE(first, static_cast<uint64_t>(tables_));
  EXPECT_GE(first, static_cast<uint64_t>(tables_) * 9 / 10);
  ReadAll();
  ReadAll();
  EXPECT_EQ(first, Opens());
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("ldb.stats", &stats));
  EXPECT_NE(std::string::npos, stats.find("Table cache: opens=")) << stats;
}

// The cache holds max_open_files - 10 tables: with 64 for ~190 tables, every
// pass in key order opens every table again (LRU evicts each one before it
// is needed again).
TEST_F(TableCacheTest, ACacheSmallerThanTheDbReopensTablesOnEveryPass) {
  ASSERT_NO_FATAL_FAILURE(Reopen(74));
  ReadAll();
  const uint64_t first = Opens();
  ReadAll();
  EXPECT_GE(Opens() - first, static_cast<uint64_t>(tables_) * 9 / 10);
}

}  // namespace
}  // namespace ldb
