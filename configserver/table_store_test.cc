#include "configserver/table_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tessera::cs {
namespace {

namespace fs = std::filesystem;

proto::ConfigServerState SampleState(uint64_t version) {
  proto::ConfigServerState st;
  proto::Table* t = st.mutable_table();
  t->set_version(version);
  t->set_bucket_count(4);
  t->set_copy_count(1);
  t->set_cluster_name("test");
  for (const char* a : {"127.0.0.1:7101", "127.0.0.1:7102"}) {
    proto::TableServer* s = t->add_servers();
    s->set_address(a);
    s->set_state(proto::SERVER_UP);
  }
  for (uint32_t o : {0, 1, 0, 1}) t->add_owners(o);
  st.add_added("127.0.0.1:7102");
  st.add_removed("127.0.0.1:7199");
  return st;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class TableStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cs_table_store_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/data";  // Open creates it
  }
  void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }

  std::unique_ptr<TableStore> OpenStore() {
    std::unique_ptr<TableStore> store;
    Status s = TableStore::Open(dir_, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  std::string dir_;
};

TEST_F(TableStoreTest, MissingFileIsAFreshStart) {
  auto store = OpenStore();
  proto::ConfigServerState st;
  bool found = true;
  ASSERT_TRUE(store->Load(&st, &found).ok());
  EXPECT_FALSE(found);
  EXPECT_FALSE(st.has_table());
}

TEST_F(TableStoreTest, RoundTripAcrossReopen) {
  const proto::ConfigServerState written = SampleState(5);
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Save(written).ok());
  }
  auto store = OpenStore();
  proto::ConfigServerState read;
  bool found = false;
  ASSERT_TRUE(store->Load(&read, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(read.SerializeAsString(), written.SerializeAsString());
}

TEST_F(TableStoreTest, SaveReplacesAtomicallyAndLeavesNoScratchFile) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Save(SampleState(1)).ok());
  ASSERT_TRUE(store->Save(SampleState(2)).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/" + TableStore::kTempFileName));
  proto::ConfigServerState read;
  bool found = false;
  ASSERT_TRUE(store->Load(&read, &found).ok());
  EXPECT_EQ(read.table().version(), 2u);
}

TEST_F(TableStoreTest, CrashDuringSaveKeepsTheOldState) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Save(SampleState(3)).ok());
  }
  // A crash before the rename leaves a (possibly partial) scratch file behind: it is
  // not state, and the next open removes it.
  std::string partial = ReadFile(dir_ + "/" + TableStore::kStateFileName);
  partial.resize(partial.size() / 2);
  WriteFile(dir_ + "/" + TableStore::kTempFileName, partial);
  auto store = OpenStore();
  EXPECT_FALSE(fs::exists(dir_ + "/" + TableStore::kTempFileName));
  proto::ConfigServerState read;
  bool found = false;
  ASSERT_TRUE(store->Load(&read, &found).ok());
  EXPECT_EQ(read.table().version(), 3u);
}

TEST_F(TableStoreTest, CorruptFilesAreRefused) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Save(SampleState(9)).ok());
  }
  const std::string path = dir_ + "/" + TableStore::kStateFileName;
  const std::string good = ReadFile(path);
  auto expect_refused = [&](const std::string& data, const std::string& what) {
    WriteFile(path, data);
    auto store = OpenStore();
    proto::ConfigServerState read;
    bool found = true;
    Status s = store->Load(&read, &found);
    EXPECT_FALSE(s.ok()) << what;
    EXPECT_EQ(s.code(), Code::kInternal) << what;
    EXPECT_NE(s.message().find("corrupt"), std::string::npos) << what << ": " << s.message();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
    EXPECT_FALSE(found);
  };
  expect_refused("", "empty file");
  expect_refused(good.substr(0, 10), "short header");
  expect_refused(good.substr(0, good.size() - 1), "truncated payload");
  std::string bad_magic = good;
  bad_magic[0] ^= 1;
  expect_refused(bad_magic, "bad magic");
  std::string flipped = good;
  flipped[good.size() - 3] ^= 0x40;
  expect_refused(flipped, "payload bit flip");
  expect_refused(good + "x", "trailing byte");

  // A well-formed state whose table is invalid (owner index out of range), saved over a
  // good checkpoint (so it lands in the log).
  WriteFile(path, good);
  proto::ConfigServerState bad = SampleState(4);
  bad.mutable_table()->set_owners(0, 7);
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Save(bad).ok());
    proto::ConfigServerState read;
    bool found = true;
    Status s = store->Load(&read, &found);
    EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
    EXPECT_NE(s.message().find("invalid table"), std::string::npos) << s.message();
  }
}

uint64_t LoadedVersion(TableStore* store) {
  proto::ConfigServerState read;
  bool found = false;
  Status s = store->Load(&read, &found);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return found ? read.table().version() : 0;
}

TEST_F(TableStoreTest, SavesAppendToTheLogAndCheckpointWhenItIsFull) {
  const uint64_t record = TableStore::kHeaderBytes + SampleState(1).ByteSizeLong();
  std::unique_ptr<TableStore> store;
  ASSERT_TRUE(TableStore::Open(dir_, &store, 3 * record).ok());
  const std::string base = dir_ + "/" + TableStore::kStateFileName;
  const std::string log = dir_ + "/" + TableStore::kLogFileName;
  ASSERT_TRUE(store->Save(SampleState(1)).ok());  // no checkpoint yet: writes one
  const std::string first = ReadFile(base);
  EXPECT_EQ(fs::file_size(log), 0u);
  for (uint64_t v = 2; v <= 4; ++v) {
    ASSERT_TRUE(store->Save(SampleState(v)).ok());
    EXPECT_EQ(ReadFile(base), first) << "the checkpoint is not rewritten by save " << v;
    EXPECT_EQ(fs::file_size(log), (v - 1) * record);
    EXPECT_EQ(LoadedVersion(store.get()), v);
  }
  ASSERT_TRUE(store->Save(SampleState(5)).ok());  // would pass 3 records: checkpoint
  EXPECT_EQ(fs::file_size(log), 0u);
  EXPECT_NE(ReadFile(base), first);
  EXPECT_FALSE(fs::exists(dir_ + "/" + TableStore::kTempFileName));
  store.reset();
  ASSERT_TRUE(TableStore::Open(dir_, &store, 3 * record).ok());
  EXPECT_EQ(LoadedVersion(store.get()), 5u);
  ASSERT_TRUE(store->Save(SampleState(6)).ok());
  store.reset();
  // A data_dir written before the log existed holds the checkpoint alone.
  fs::remove(log);
  ASSERT_TRUE(TableStore::Open(dir_, &store).ok());
  EXPECT_EQ(LoadedVersion(store.get()), 5u);
}

TEST_F(TableStoreTest, ATornLogTailIsIgnoredAndOverwritten) {
  const std::string log = dir_ + "/" + TableStore::kLogFileName;
  {
    auto store = OpenStore();
    for (uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(store->Save(SampleState(v)).ok());
  }
  const std::string full = ReadFile(log);  // the records of versions 2 and 3
  for (size_t cut : {size_t{1}, size_t{12}, full.size() / 2 - 1}) {
    WriteFile(log, full.substr(0, full.size() - cut));
    auto store = OpenStore();
    EXPECT_EQ(LoadedVersion(store.get()), 2u) << "cut " << cut;
  }
  WriteFile(log, full + std::string(7, '\0') + "TSCSLOG1xx");  // garbage past the end
  {
    auto store = OpenStore();
    EXPECT_EQ(LoadedVersion(store.get()), 3u);
    ASSERT_TRUE(store->Save(SampleState(4)).ok());  // overwrites the garbage
    EXPECT_EQ(LoadedVersion(store.get()), 4u);
  }
  auto store = OpenStore();
  EXPECT_EQ(LoadedVersion(store.get()), 4u);
  EXPECT_EQ(fs::file_size(log), full.size() * 3 / 2);
}

TEST_F(TableStoreTest, ADamagedLogRecordFollowedByAnIntactOneIsRefused) {
  const std::string log = dir_ + "/" + TableStore::kLogFileName;
  {
    auto store = OpenStore();
    for (uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(store->Save(SampleState(v)).ok());
  }
  std::string data = ReadFile(log);
  data[TableStore::kHeaderBytes + 5] ^= 0x20;  // the payload of version 2's record
  WriteFile(log, data);
  auto store = OpenStore();
  proto::ConfigServerState read;
  bool found = true;
  Status s = store->Load(&read, &found);
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("corrupt"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(log), std::string::npos) << s.message();
  EXPECT_FALSE(found);
  // Nothing is written over the evidence.
  EXPECT_EQ(store->Save(SampleState(4)).code(), Code::kInternal);
  EXPECT_EQ(ReadFile(log), data);
}

TEST_F(TableStoreTest, ACrashDuringACheckpointKeepsTheNewestState) {
  const std::string log = dir_ + "/" + TableStore::kLogFileName;
  {
    auto store = OpenStore();
    for (uint64_t v = 1; v <= 4; ++v) ASSERT_TRUE(store->Save(SampleState(v)).ok());
  }
  // A crash after a checkpoint's append: the log ends with the state, the old
  // checkpoint is in place.
  const std::string appended = ReadFile(log);
  {
    auto store = OpenStore();
    EXPECT_EQ(LoadedVersion(store.get()), 4u);
  }
  // A crash after its rename, before the log was emptied: both hold it.
  {
    std::unique_ptr<TableStore> store;
    ASSERT_TRUE(TableStore::Open(dir_, &store, /*max_log_bytes=*/0).ok());
    ASSERT_TRUE(store->Save(SampleState(4)).ok());
    EXPECT_EQ(fs::file_size(log), 0u);
  }
  WriteFile(log, appended);
  auto store = OpenStore();
  EXPECT_EQ(LoadedVersion(store.get()), 4u);
}

TEST_F(TableStoreTest, AFailedCheckpointLeavesThePreviousState) {
  const uint64_t record = TableStore::kHeaderBytes + SampleState(1).ByteSizeLong();
  const std::string scratch = dir_ + "/" + TableStore::kTempFileName;
  {
    std::unique_ptr<TableStore> store;
    ASSERT_TRUE(TableStore::Open(dir_, &store, record).ok());
    ASSERT_TRUE(store->Save(SampleState(1)).ok());  // the first checkpoint
    ASSERT_TRUE(store->Save(SampleState(2)).ok());  // logged
    fs::create_directory(scratch);  // the next checkpoint cannot write its scratch file
    EXPECT_EQ(store->Save(SampleState(3)).code(), Code::kInternal);
    EXPECT_EQ(LoadedVersion(store.get()), 2u);
  }
  std::unique_ptr<TableStore> store;
  ASSERT_TRUE(TableStore::Open(dir_, &store, record).ok());  // removes the empty dir
  EXPECT_EQ(LoadedVersion(store.get()), 2u);
  ASSERT_TRUE(store->Save(SampleState(4)).ok());
  EXPECT_EQ(LoadedVersion(store.get()), 4u);
}

TEST_F(TableStoreTest, AnUnlinkedLogIsReplacedByACheckpoint) {
  const std::string log = dir_ + "/" + TableStore::kLogFileName;
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Save(SampleState(1)).ok());
    ASSERT_TRUE(store->Save(SampleState(2)).ok());
    fs::remove(log);  // appends to the open file would reach no directory entry
    ASSERT_TRUE(store->Save(SampleState(3)).ok());
    EXPECT_TRUE(fs::exists(log));
    ASSERT_TRUE(store->Save(SampleState(4)).ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(LoadedVersion(store.get()), 4u);
}

TEST_F(TableStoreTest, OneStorePerDirectory) {
  auto store = OpenStore();
  std::unique_ptr<TableStore> second;
  Status s = TableStore::Open(dir_, &second);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  store.reset();
  EXPECT_TRUE(TableStore::Open(dir_, &second).ok());
}

}  // namespace
}  // namespace tessera::cs
