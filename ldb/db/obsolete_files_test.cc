// Obsolete-file removal without listing the directory after every compaction
// (DBImpl::RemoveObsoleteFiles): the tables a compaction replaced go at once,
// a table an iterator still reads stays until the iterator is gone, and the
// directory is listed when the WAL changed (and at Open).
#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/db_impl.h"
#include "db/filename.h"
#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;
using test::Key;

constexpr char kDbName[] = "/obsolete_files_test";

// Counts the listings of the DB's directory. Thread-safe.
class ListingCountEnv final : public EnvWrapper {
 public:
  explicit ListingCountEnv(Env* base) : EnvWrapper(base) {}

  Status GetChildren(const std::string& dir,
                     std::vector<std::string>* result) override {
    if (dir == kDbName) {
      listings_.fetch_add(1);
      if (fail_.load()) return Status::IOError(dir, "listing failed (test)");
    }
    return EnvWrapper::GetChildren(dir, result);
  }
  int listings() const { return listings_.load(); }
  void set_fail(bool fail) { fail_.store(fail); }

 private:
  std::atomic<int> listings_{0};
  std::atomic<bool> fail_{false};
};

class ObsoleteFilesTest : public testing::Test {
 protected:
  ObsoleteFilesTest() : mem_env_(NewMemEnv(Env::Default())), env_(mem_env_.get()) {
    options_.env = &env_;
    options_.create_if_missing = true;
    options_.write_buffer_size = 1 << 20;
    EXPECT_TRUE(IsOk(DB::Open(options_, kDbName, &db_)));
  }

  DBImpl* dbfull() { return static_cast<DBImpl*>(db_.get()); }

  // Writes keys [from, to) and flushes them into a level-0 table.
  void WriteTable(int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), Key(i), "v" + std::to_string(i))));
    }
    ASSERT_TRUE(IsOk(dbfull()->TEST_CompactMemTable()));
  }

  // Four tables: T1 [0, 100) in level 2 (a flush into an empty DB goes
  // down), T2 [50, 150) in level 1 (it overlaps T1), and two level-0 tables,
  // [120, 130) and [125, 135) (they overlap T2). Values are "v<i>".
  void WriteFourTables() {
    WriteTable(0, 100);
    WriteTable(50, 150);
    WriteTable(120, 130);
    WriteTable(125, 135);
    ASSERT_EQ(FilesAtLevel(0), 2);
    ASSERT_EQ(FilesAtLevel(1), 1);
    ASSERT_EQ(FilesAtLevel(2), 1);
  }

  // Numbers of the table files in the directory.
  std::set<uint64_t> TableFiles() {
    std::vector<std::string> names;
    EXPECT_TRUE(IsOk(mem_env_->GetChildren(kDbName, &names)));
    std::set<uint64_t> numbers;
    for (const std::string& name : names) {
      uint64_t number;
      FileType type;
      if (ParseFileName(name, &number, &type) && type == kTableFile) numbers.insert(number);
    }
    return numbers;
  }

  int FilesAtLevel(int level) {
    std::string value;
    EXPECT_TRUE(db_->GetProperty("ldb.num-files-at-level" + std::to_string(level), &value));
    return std::stoi(value);
  }
  int LiveTables() {
    int n = 0;
    for (int level = 0; level < config::kNumLevels; ++level) n += FilesAtLevel(level);
    return n;
  }

  std::unique_ptr<Env> mem_env_;
  ListingCountEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};


TEST_F(ObsoleteFilesTest, CompactedTablesGoWithoutListingTheDirectory) {
  WriteFourTables();
  const std::set<uint64_t> inputs = TableFiles();
  ASSERT_EQ(inputs.size(), 4u);

  // The flushes changed the WAL, so they listed the directory; the
  // compactions below do not change it.
  const int listings = env_.listings();
  for (int level = 0; level + 1 < config::kNumLevels; ++level) {
    if (FilesAtLevel(level) > 0) dbfull()->TEST_CompactRange(level, nullptr, nullptr);
  }
  dbfull()->TEST_WaitForBackgroundIdle();  // the deletions are done
  ASSERT_EQ(LiveTables(), 1);
  EXPECT_EQ(env_.listings(), listings);

  // Only the live table is left: every input went, and each intermediate
  // output went once the next level's compaction had merged it.
  const std::set<uint64_t> left = TableFiles();
  EXPECT_EQ(left.size(), 1u);
  for (uint64_t number : inputs) EXPECT_EQ(left.count(number), 0u) << number;
  for (int i = 0; i < 150; ++i) {
    std::string value;
    ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(i), &value))) << i;
    EXPECT_EQ(value, "v" + std::to_string(i));
  }
}

TEST_F(ObsoleteFilesTest, TableReadByAnIteratorStaysUntilItIsGone) {
  WriteFourTables();
  const std::set<uint64_t> before = TableFiles();

  // Merge T1 and T2 while an iterator reads them.
  std::unique_ptr<Iterator> it(db_->NewIterator(ReadOptions()));
  dbfull()->TEST_CompactRange(1, nullptr, nullptr);
  dbfull()->TEST_WaitForBackgroundIdle();
  ASSERT_EQ(FilesAtLevel(1), 0);
  ASSERT_EQ(FilesAtLevel(2), 1);
  std::set<uint64_t> on_disk = TableFiles();
  for (uint64_t number : before) EXPECT_EQ(on_disk.count(number), 1u) << number;
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  ASSERT_TRUE(IsOk(it->status()));
  EXPECT_EQ(n, 150);
  it.reset();

  // The next removal, after the next compaction (of the two level-0
  // tables), takes them, still without listing the directory.
  const int listings = env_.listings();
  dbfull()->TEST_CompactRange(0, nullptr, nullptr);
  dbfull()->TEST_WaitForBackgroundIdle();
  EXPECT_EQ(env_.listings(), listings);
  on_disk = TableFiles();
  for (uint64_t number : before) EXPECT_EQ(on_disk.count(number), 0u) << number;
  EXPECT_EQ(static_cast<int>(on_disk.size()), LiveTables());
}

TEST_F(ObsoleteFilesTest, StrayTableGoesAtTheNextWalChange) {
  WriteFourTables();
  // A table no Version names (as a crash between a build and its MANIFEST
  // record leaves one): no candidate covers it, a directory listing does.
  const uint64_t stray = 900000;
  ASSERT_TRUE(IsOk(WriteStringToFile(mem_env_.get(), "junk", TableFileName(kDbName, stray))));
  dbfull()->TEST_CompactRange(0, nullptr, nullptr);
  dbfull()->TEST_WaitForBackgroundIdle();
  EXPECT_EQ(TableFiles().count(stray), 1u);

  const int listings = env_.listings();
  WriteTable(10, 20);  // a flush: the WAL changes
  dbfull()->TEST_WaitForBackgroundIdle();
  EXPECT_GT(env_.listings(), listings);
  EXPECT_EQ(TableFiles().count(stray), 0u);
}

TEST_F(ObsoleteFilesTest, FailedListingDeletesCandidatesAndListsAgain) {
  WriteFourTables();
  const std::set<uint64_t> before = TableFiles();
  std::unique_ptr<Iterator> it(db_->NewIterator(ReadOptions()));
  dbfull()->TEST_CompactRange(1, nullptr, nullptr);  // T1 and T2, held by it
  dbfull()->TEST_WaitForBackgroundIdle();
  it.reset();

  // The flush changes the WAL, so its removal lists the directory, and the
  // listing fails: T1 and T2 (candidates) still go, by name.
  env_.set_fail(true);
  WriteTable(200, 210);
  dbfull()->TEST_WaitForBackgroundIdle();
  std::set<uint64_t> on_disk = TableFiles();
  int gone = 0;
  for (uint64_t number : before) gone += on_disk.count(number) == 0 ? 1 : 0;
  EXPECT_EQ(gone, 2);

  // The listing is still due: the next removal lists again.
  env_.set_fail(false);
  const int listings = env_.listings();
  dbfull()->TEST_CompactRange(0, nullptr, nullptr);
  dbfull()->TEST_WaitForBackgroundIdle();
  EXPECT_GT(env_.listings(), listings);
  EXPECT_EQ(static_cast<int>(TableFiles().size()), LiveTables());
}

}  // namespace
}  // namespace ldb
