#include "common/bucket_table.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

proto::Table MakeTable(uint32_t buckets, uint32_t copies, uint32_t servers) {
  proto::Table t;
  t.set_version(5);
  t.set_bucket_count(buckets);
  t.set_copy_count(copies);
  for (uint32_t i = 0; i < servers; ++i) {
    auto* s = t.add_servers();
    s->set_address("127.0.0.1:" + std::to_string(7000 + i));
    s->set_state(proto::SERVER_UP);
  }
  for (uint32_t b = 0; b < buckets; ++b) {
    for (uint32_t c = 0; c < copies; ++c) t.add_owners((b + c) % servers);
  }
  return t;
}

TEST(BucketTableTest, Lookups) {
  proto::Table t = MakeTable(8, 2, 3);
  auto* q = t.add_area_quotas();
  q->set_area(4);
  q->set_quota_bytes(100);
  std::shared_ptr<const BucketTable> table;
  ASSERT_TRUE(BucketTable::FromProto(t, &table).ok());
  EXPECT_EQ(table->version(), 5u);
  EXPECT_EQ(table->MasterAddress(1), "127.0.0.1:7001");
  EXPECT_EQ(table->Copies(2)[1], 0u);
  EXPECT_EQ(table->ServerIndex("127.0.0.1:7002"), 2);
  EXPECT_EQ(table->ServerIndex("127.0.0.1:9"), -1);
  EXPECT_TRUE(table->IsMaster(3, 0));
  EXPECT_FALSE(table->IsMaster(3, -1));
  EXPECT_EQ(table->MasterCount(0) + table->MasterCount(1) + table->MasterCount(2), 8u);
  EXPECT_EQ(table->CopyCount(0) + table->CopyCount(1) + table->CopyCount(2), 16u);
  EXPECT_EQ(table->AreaQuotaBytes(4), 100u);
  EXPECT_EQ(table->AreaQuotaBytes(5), 0u);
}

TEST(BucketTableTest, RejectsMalformedTables) {
  std::shared_ptr<const BucketTable> table;
  proto::Table t = MakeTable(8, 2, 3);
  t.set_owners(3, 9);  // no server 9
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
  t = MakeTable(8, 2, 3);
  t.set_owners(1, t.owners(0));  // two copies of bucket 0 on one server
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
  t = MakeTable(8, 2, 3);
  t.mutable_owners()->RemoveLast();
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
  t = MakeTable(8, 2, 3);
  t.set_bucket_count(0);
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
  t = MakeTable(8, 2, 3);
  t.mutable_servers(1)->set_address(t.servers(0).address());
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
  EXPECT_EQ(table, nullptr);
}

TEST(BucketTableTest, MigrationView) {
  proto::Table t = MakeTable(8, 1, 3);
  std::shared_ptr<const BucketTable> table;
  ASSERT_TRUE(BucketTable::FromProto(t, &table).ok());
  EXPECT_FALSE(table->migrating());
  EXPECT_FALSE(table->BucketMoving(0));
  for (int b = 0; b < 8; ++b) t.add_destination_owners(b == 2 ? 0 : t.owners(b));
  t.set_migration_id(4);
  ASSERT_TRUE(BucketTable::FromProto(t, &table).ok());
  EXPECT_TRUE(table->migrating());
  EXPECT_EQ(table->migration_id(), 4u);
  EXPECT_TRUE(table->BucketMoving(2));
  EXPECT_FALSE(table->BucketMoving(3));
  EXPECT_EQ(table->DestinationCopies(2)[0], 0u);
  EXPECT_EQ(table->MovingBucketCount(), 1u);
  t.set_destination_owners(5, 7);  // no server 7
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
  t.mutable_destination_owners()->RemoveLast();
  EXPECT_TRUE(BucketTable::FromProto(t, &table).Is(Code::kInvalidArgument));
}

}  // namespace
}  // namespace tessera
