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

  // A well-formed file whose table is invalid (owner index out of range).
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
