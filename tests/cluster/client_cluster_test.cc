// The client SDK and the `tessera` CLI against real processes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <thread>

#include "common/bucket_hash.h"
#include "tessera/client.h"
#include "tests/cluster/local_cluster.h"

namespace tessera::testing {
namespace {

using client::CallOptions;
using client::Client;
using std::chrono::seconds;
namespace cl = tessera::client;

class ClientClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = cluster_.Start(ClusterSpec{});
    ASSERT_TRUE(s.ok()) << s.ToString();
    cl::Options options;
    options.config_servers = {cluster_.config_server()};
    options.timeout_ms = 1000;
    cl::Status cs = Client::Open(options, &client_);
    ASSERT_TRUE(cs.ok()) << cs.ToString();
  }

  std::string MasterOf(const std::string& key) {
    proto::Table t;
    EXPECT_TRUE(cluster_.GetTable(&t).ok());
    uint32_t b = BucketOf(key, t.bucket_count());
    return t.servers(t.owners(b * t.copy_count())).address();
  }

  LocalCluster cluster_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientClusterTest, DataCallsThroughTheSdk) {
  uint32_t version = 0;
  ASSERT_TRUE(client_->Put("alpha", "1", {}, &version).ok());
  EXPECT_EQ(version, 1u);
  cl::Value v;
  ASSERT_TRUE(client_->Get("alpha", &v).ok());
  EXPECT_EQ(v.data, "1");
  CallOptions cas;
  cas.version = 9;
  EXPECT_EQ(client_->Put("alpha", "2", cas).code(), cl::Code::kVersionMismatch);
  EXPECT_EQ(client_->Get("missing", &v).code(), cl::Code::kNotFound);
  int64_t n = 0;
  ASSERT_TRUE(client_->Incr("hits", 3, &n).ok());
  ASSERT_TRUE(client_->Decr("hits", 1, &n).ok());
  EXPECT_EQ(n, 2);
  std::vector<cl::MPutEntry> entries;
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    entries.push_back({"m" + std::to_string(i), "v" + std::to_string(i), 0});
    keys.push_back("m" + std::to_string(i));
  }
  keys.push_back("m-missing");
  std::vector<cl::MPutItem> put_items;
  ASSERT_TRUE(client_->MPut(entries, &put_items).ok());
  std::vector<cl::MGetItem> items;
  ASSERT_TRUE(client_->MGet(keys, &items).ok());
  ASSERT_EQ(items.size(), keys.size());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(items[i].status.ok()) << i;
    EXPECT_EQ(items[i].value.data, "v" + std::to_string(i));
  }
  EXPECT_EQ(items.back().status.code(), cl::Code::kNotFound);
  CallOptions ttl;
  ttl.ttl_seconds = 100;
  uint32_t expire_at = 0;
  ASSERT_TRUE(client_->Expire("alpha", ttl, &expire_at).ok());
  ASSERT_TRUE(client_->Get("alpha", &v).ok());
  EXPECT_EQ(v.expire_at, expire_at);
  EXPECT_GT(v.ttl_seconds, 90);
}

// A node joins (admin add): buckets migrate to it, the client's cached table is stale,
// the old owner answers "wrong owner", and the client refreshes and retries.
TEST_F(ClientClusterTest, ClientRetriesAfterATableChange) {
  const uint64_t before = client_->table_version();
  std::string node;
  Status started = cluster_.StartExtraDataServerAndWait(&node);
  ASSERT_TRUE(started.ok()) << started.ToString();
  ASSERT_TRUE(cluster_.Admin(node, "").ok());
  // Wait until the new node serves the new table.
  std::string moved_key;
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        proto::NodeInfo n;
        return cluster_.FindNode(node, &n) && n.member() && n.table_version() > before;
      },
      seconds(10)));
  // The join migrates buckets to the new node one by one: wait until it is over.
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        proto::Table t;
        return cluster_.GetTable(&t).ok() && t.destination_owners_size() == 0 &&
               t.migration_id() > 0;
      },
      seconds(30)));
  for (int i = 0; moved_key.empty() && i < 10000; ++i) {
    std::string key = "k" + std::to_string(i);
    if (MasterOf(key) == node) moved_key = key;
  }
  ASSERT_FALSE(moved_key.empty());
  EXPECT_EQ(client_->table_version(), before);  // the client has not looked yet
  ASSERT_TRUE(client_->Put(moved_key, "on the new node").ok());
  EXPECT_GT(client_->table_version(), before);
  cl::Value v;
  ASSERT_TRUE(client_->Get(moved_key, &v).ok());
  EXPECT_EQ(v.data, "on the new node");
  // The value lives on the new owner: ask it directly.
  proto::Request req;
  req.set_table_version(client_->table_version());
  req.mutable_get()->set_key(moved_key);
  proto::Response resp;
  ASSERT_TRUE(cluster_.Call(node, &req, &resp).ok());
  EXPECT_EQ(resp.code(), proto::OK);
  EXPECT_EQ(resp.get().value(), "on the new node");
}

// kill -9 a data server: its keys are Unavailable (never NotFound) through the SDK
// while the rest keep working; after it restarts the same client reads its data.
TEST_F(ClientClusterTest, DownNodeIsUnavailableThenServesAgain) {
  const std::string victim = cluster_.data_server(1);
  std::vector<std::string> on_victim, elsewhere;
  for (int i = 0; on_victim.size() < 10 || elsewhere.size() < 10; ++i) {
    std::string key = "d" + std::to_string(i);
    (MasterOf(key) == victim ? on_victim : elsewhere).push_back(key);
  }
  for (const auto& k : on_victim) ASSERT_TRUE(client_->Put(k, "v" + k).ok());
  for (const auto& k : elsewhere) ASSERT_TRUE(client_->Put(k, "v" + k).ok());
  cluster_.KillDataServer(1);
  cl::Value v;
  for (const auto& k : on_victim) {
    cl::Status s = client_->Get(k, &v);
    EXPECT_TRUE(s.code() == cl::Code::kUnavailable || s.code() == cl::Code::kTimeout)
        << s.ToString();
  }
  for (const auto& k : elsewhere) ASSERT_TRUE(client_->Get(k, &v).ok()) << k;
  ASSERT_TRUE(cluster_.RestartDataServer(1).ok());
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return client_->Get(on_victim[0], &v).ok(); },
                                    seconds(15)));
  for (const auto& k : on_victim) {
    ASSERT_TRUE(client_->Get(k, &v).ok()) << k;
    EXPECT_EQ(v.data, "v" + k);
  }
}

#ifdef TESSERA_CLI_BIN
TEST_F(ClientClusterTest, CliCommandsAndExitCodes) {
  const std::string cs = "--config_servers=" + cluster_.config_server();
  CliResult r = RunCli(cs + " put greeting hello --ttl=60");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = RunCli(cs + " get greeting");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("hello"), std::string::npos) << r.out;
  r = RunCli(cs + " --json get greeting");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"value\""), std::string::npos) << r.out;
  r = RunCli(cs + " get no-such-key");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("(not found)"), std::string::npos) << r.out;
  r = RunCli(cs + " incr counter 5");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find('5'), std::string::npos) << r.out;
  r = RunCli(cs + " put greeting changed --version=7");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  r = RunCli(cs + " frobnicate");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = RunCli(cs + " nodes");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (int i = 0; i < 3; ++i) EXPECT_NE(r.out.find(cluster_.data_server(i)), std::string::npos);
  r = RunCli(cs + " --json table");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"bucket_count\""), std::string::npos) << r.out;
  // Per-node stats, with the time client writes were held back by ldb.
  r = RunCli(cs + " stats");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("WRITE_STALL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TABLE_OPENS"), std::string::npos) << r.out;
  for (int i = 0; i < 3; ++i) EXPECT_NE(r.out.find(cluster_.data_server(i)), std::string::npos);
  r = RunCli(cs + " --json stats");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"write_stall_ms\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"table_files\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"table_opens\""), std::string::npos) << r.out;
  r = RunCli("--config_servers=127.0.0.1:1 get greeting --timeout_ms=500");
  EXPECT_EQ(r.exit_code, 3) << r.out;
}
#endif

}  // namespace
}  // namespace tessera::testing
