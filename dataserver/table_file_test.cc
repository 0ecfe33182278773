// TableFile: round trip, atomic replacement, every kind of damage is an error (never
// a crash), and ldb leaves the file alone (opening, flushing and compacting a DB in
// the same directory).
#include "dataserver/table_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/options.h"
#include "ldb/util/crc32c.h"

namespace tessera::ds {
namespace {

namespace fs = std::filesystem;

// servers a, b, c (all UP), 8 buckets x 2 copies.
std::shared_ptr<const BucketTable> MakeTable(uint64_t version, bool migrating = false) {
  proto::Table t;
  t.set_version(version);
  t.set_bucket_count(8);
  t.set_copy_count(2);
  t.set_cluster_name("test");
  for (const char* a : {"10.0.0.1:7100", "10.0.0.2:7100", "10.0.0.3:7100"}) {
    proto::TableServer* s = t.add_servers();
    s->set_address(a);
    s->set_state(proto::SERVER_UP);
  }
  for (uint32_t b = 0; b < 8; ++b) {
    t.add_owners(b % 3);
    t.add_owners((b + 1) % 3);
  }
  if (migrating) {
    // Bucket 2 goes from (2, 0) to (1, 0); every other bucket stays.
    *t.mutable_destination_owners() = t.owners();
    t.set_destination_owners(4, 1);
    t.set_migration_id(3);
  }
  std::shared_ptr<const BucketTable> out;
  EXPECT_TRUE(BucketTable::FromProto(std::move(t), &out).ok());
  return out;
}

class TableFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/table_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ldb::Env* env() { return ldb::Env::Default(); }

  std::string dir_;
};

TEST_F(TableFileTest, WriteThenReadGivesTheTableAndIdentity) {
  auto table = MakeTable(42);
  ASSERT_TRUE(TableFile::Write(env(), dir_, "10.0.0.2:7100", *table).ok());
  TableFile::Contents c;
  Status s = TableFile::Read(env(), dir_, &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.self_address, "10.0.0.2:7100");
  ASSERT_NE(c.table, nullptr);
  EXPECT_EQ(c.table->version(), 42u);
  EXPECT_EQ(c.table->proto().SerializeAsString(), table->proto().SerializeAsString());
  EXPECT_FALSE(fs::exists(dir_ + "/" + TableFile::kTempFileName));
}

TEST_F(TableFileTest, WriteReplacesTheOldFile) {
  ASSERT_TRUE(TableFile::Write(env(), dir_, "10.0.0.1:7100", *MakeTable(5)).ok());
  ASSERT_TRUE(TableFile::Write(env(), dir_, "10.0.0.1:7100", *MakeTable(6, true)).ok());
  TableFile::Contents c;
  ASSERT_TRUE(TableFile::Read(env(), dir_, &c).ok());
  EXPECT_EQ(c.table->version(), 6u);
  EXPECT_TRUE(c.table->migrating());
}

TEST_F(TableFileTest, MissingFileIsNotFound) {
  TableFile::Contents c;
  Status s = TableFile::Read(env(), dir_, &c);
  EXPECT_TRUE(s.Is(Code::kNotFound)) << s.ToString();
}

TEST_F(TableFileTest, BadAddressIsRefused) {
  EXPECT_TRUE(TableFile::Write(env(), dir_, "", *MakeTable(1)).Is(Code::kInvalidArgument));
  EXPECT_FALSE(fs::exists(TableFile::Path(dir_)));
}

TEST_F(TableFileTest, EveryTruncationAndEveryFlippedByteIsDetected) {
  const std::string good = TableFile::Encode("10.0.0.3:7100", *MakeTable(9));
  TableFile::Contents c;
  ASSERT_TRUE(TableFile::Decode(good, &c).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    Status s = TableFile::Decode(good.substr(0, n), &c);
    EXPECT_TRUE(s.Is(Code::kInternal)) << n;
    EXPECT_NE(s.message().find("corrupt"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(TableFile::Decode(good + "x", &c).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_FALSE(TableFile::Decode(bad, &c).ok()) << "byte " << i;
  }
}

TEST_F(TableFileTest, ACorruptFileOnDiskIsAnErrorNamingTheFile) {
  ASSERT_TRUE(ldb::WriteStringToFile(env(), "garbage, not a table", TableFile::Path(dir_)).ok());
  TableFile::Contents c;
  Status s = TableFile::Read(env(), dir_, &c);
  EXPECT_TRUE(s.Is(Code::kInternal));
  EXPECT_NE(s.message().find(TableFile::Path(dir_)), std::string::npos) << s.message();
}

// The documented layout, built independently of Encode.
std::string Fixed32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}
std::string Frame(const std::string& address, const std::string& table_bytes) {
  const std::string payload =
      Fixed32(static_cast<uint32_t>(address.size())) + address + table_bytes;
  return std::string("TSTABLE1") + Fixed32(static_cast<uint32_t>(payload.size())) +
         Fixed32(ldb::crc32c::Mask(ldb::crc32c::Value(payload.data(), payload.size()))) + payload;
}

TEST_F(TableFileTest, TheLayoutIsTheDocumentedOne) {
  auto table = MakeTable(3);
  EXPECT_EQ(TableFile::Encode("10.0.0.1:7100", *table),
            Frame("10.0.0.1:7100", table->proto().SerializeAsString()));
}

TEST_F(TableFileTest, WellFramedButInvalidContentIsRefused) {
  TableFile::Contents c;
  proto::Table no_owners = MakeTable(3)->proto();
  no_owners.clear_owners();  // BucketTable::FromProto refuses it
  EXPECT_FALSE(TableFile::Decode(Frame("10.0.0.1:7100", no_owners.SerializeAsString()), &c).ok());
  EXPECT_FALSE(TableFile::Decode(Frame("10.0.0.1:7100", "\xff\xff\xff"), &c).ok());
  EXPECT_FALSE(TableFile::Decode(Frame("", MakeTable(3)->proto().SerializeAsString()), &c).ok());
  EXPECT_FALSE(TableFile::Decode(Frame(std::string(2000, 'a'), "x"), &c).ok());
  // An address length beyond the payload.
  const std::string payload = Fixed32(1000) + "10.0.0.1:7100";
  const std::string bad =
      std::string("TSTABLE1") + Fixed32(static_cast<uint32_t>(payload.size())) +
      Fixed32(ldb::crc32c::Mask(ldb::crc32c::Value(payload.data(), payload.size()))) + payload;
  EXPECT_FALSE(TableFile::Decode(bad, &c).ok());
}

TEST_F(TableFileTest, LdbLeavesTheFileAlone) {
  ASSERT_TRUE(TableFile::Write(env(), dir_, "10.0.0.1:7100", *MakeTable(11)).ok());
  // A stray temp file (a crash between write and rename) must survive too.
  ASSERT_TRUE(ldb::WriteStringToFile(env(), "partial", dir_ + "/" + TableFile::kTempFileName).ok());
  for (int round = 0; round < 2; ++round) {
    ldb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = 64 << 10;
    std::unique_ptr<ldb::DB> db;
    ASSERT_TRUE(ldb::DB::Open(o, dir_, &db).ok());
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(db->Put(ldb::WriteOptions(), "key" + std::to_string(i + round * 3000),
                          std::string(100, 'v'))
                      .ok());
    }
    db->CompactRange(nullptr, nullptr);
  }
  TableFile::Contents c;
  ASSERT_TRUE(TableFile::Read(env(), dir_, &c).ok());
  EXPECT_EQ(c.table->version(), 11u);
  EXPECT_TRUE(fs::exists(dir_ + "/" + TableFile::kTempFileName));
}

TEST(HeldBucketsTest, CopiesAndIncomingDestinations) {
  auto quiet = MakeTable(1);
  // Server 0 holds b where b % 3 == 0 (master) or (b + 1) % 3 == 0 (replica).
  EXPECT_EQ(HeldBuckets(*quiet, "10.0.0.1:7100", false), (std::vector<uint32_t>{0, 2, 3, 5, 6}));
  EXPECT_TRUE(HeldBuckets(*quiet, "10.0.0.9:7100", false).empty());
  auto moving = MakeTable(2, true);
  // Bucket 2 goes (2, 0) -> (1, 0): server 1 gains it only as an incoming bucket.
  EXPECT_EQ(HeldBuckets(*moving, "10.0.0.2:7100", false),
            (std::vector<uint32_t>{0, 1, 3, 4, 6, 7}));
  EXPECT_EQ(HeldBuckets(*moving, "10.0.0.2:7100", true),
            (std::vector<uint32_t>{0, 1, 2, 3, 4, 6, 7}));
}

}  // namespace
}  // namespace tessera::ds
