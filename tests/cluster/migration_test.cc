// Bucket migration end to end (issue 5): real processes, writers running throughout,
// every acknowledged write checked afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/bucket_hash.h"
#include "tessera/client.h"
#include "tests/cluster/acked_writers.h"
#include "tests/cluster/local_cluster.h"

namespace tessera::testing {
namespace {

namespace cl = tessera::client;
using std::chrono::seconds;

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterSpec spec;
    spec.bucket_count = 64;
    Status s = cluster_.Start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(cluster_.OpenClient(40, &client_).ok());
  }

  // Starts a data server outside cluster.conf and waits until the config server hears it.
  // A data server outside cluster.conf, heard by the config server.
  std::string StartExtraNode() {
    std::string node;
    Status s = cluster_.StartExtraDataServerAndWait(&node);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return node;
  }

  LocalCluster cluster_;
  std::unique_ptr<cl::Client> client_;
};

TEST_F(MigrationTest, JoinUnderLoadLosesNoAcknowledgedWrite) {
  // Some data before the join, then writers throughout.
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(client_->Put("pre-" + std::to_string(i), std::string(200, 'p')).ok());
  }
  proto::Table before;
  ASSERT_TRUE(cluster_.GetTable(&before).ok());
  AckedWriters writers(client_.get(), /*threads=*/4, /*keys_per_thread=*/300);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let load build up
  const std::string node = StartExtraNode();
  ASSERT_TRUE(cluster_.Admin(node, "").ok());
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(60))) << cluster_.Logs();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writers.Stop();
  EXPECT_GT(writers.acked(), 100u);

  std::string error;
  EXPECT_EQ(writers.Check(client_.get(), &error), 0) << error;
  for (int i = 0; i < 2000; ++i) {
    cl::Value v;
    ASSERT_TRUE(client_->Get("pre-" + std::to_string(i), &v).ok()) << i;
  }
  // The new node masters its share; every bucket answers only at its master.
  proto::Table after;
  ASSERT_TRUE(cluster_.GetTable(&after).ok());
  int on_new = 0;
  for (uint32_t b = 0; b < after.bucket_count(); ++b) {
    on_new += after.servers(after.owners(b)).address() == node ? 1 : 0;
  }
  EXPECT_GE(on_new, 15);  // 64 buckets over 4 nodes: 16 each
  int checked = 0;
  for (int i = 0; i < 2000 && checked < 50; ++i) {
    const std::string key = "pre-" + std::to_string(i);
    const uint32_t b = BucketOf(key, after.bucket_count());
    const std::string master = after.servers(after.owners(b)).address();
    const std::string old_master = before.servers(before.owners(b)).address();
    if (master == old_master) continue;
    ++checked;
    proto::Request req;
    req.set_table_version(after.version());
    req.mutable_get()->set_key(key);
    proto::Response resp;
    ASSERT_TRUE(cluster_.Call(old_master, &req, &resp).ok());
    EXPECT_EQ(resp.code(), proto::WRONG_OWNER) << key;
    ASSERT_TRUE(cluster_.Call(master, &req, &resp).ok());
    EXPECT_EQ(resp.code(), proto::OK) << key;
  }
  EXPECT_GT(checked, 0);
}

TEST_F(MigrationTest, RemoveNodeDrainsItWithNoAcknowledgedWriteLost) {
  AckedWriters writers(client_.get(), /*threads=*/3, /*keys_per_thread=*/300);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string leaving = cluster_.data_server(2);
  ASSERT_TRUE(cluster_.Admin("", leaving).ok());
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(60))) << cluster_.Logs();
  writers.Stop();
  proto::Table after;
  ASSERT_TRUE(cluster_.GetTable(&after).ok());
  for (uint32_t b = 0; b < after.bucket_count(); ++b) {
    ASSERT_NE(after.servers(after.owners(b)).address(), leaving) << b;
  }
  std::string error;
  EXPECT_EQ(writers.Check(client_.get(), &error), 0) << error;
}

TEST_F(MigrationTest, TtlSurvivesMigrationAndExpiredKeysDoNotMove) {
  cl::CallOptions ttl;
  ttl.ttl_seconds = 3600;
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(client_->Put("t-" + std::to_string(i), "v", ttl).ok());
  std::map<std::string, uint32_t> expire_at;
  for (int i = 0; i < 300; ++i) {
    cl::Value v;
    ASSERT_TRUE(client_->Get("t-" + std::to_string(i), &v).ok());
    expire_at["t-" + std::to_string(i)] = v.expire_at;
  }
  const std::string node = StartExtraNode();
  ASSERT_TRUE(cluster_.Admin(node, "").ok());
  ASSERT_TRUE(cluster_.WaitMigrationDone(seconds(60))) << cluster_.Logs();
  for (const auto& [key, at] : expire_at) {
    cl::Value v;
    ASSERT_TRUE(client_->Get(key, &v).ok()) << key;
    EXPECT_EQ(v.expire_at, at) << key;
  }
}

}  // namespace
}  // namespace tessera::testing
