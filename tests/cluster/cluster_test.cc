// Integration tests over real processes: one configserver and three dataservers on
// 127.0.0.1, talked to over the wire protocol directly (routing by the table, as a
// client does), so each test pins down what the servers themselves guarantee.
#include <gtest/gtest.h>

#include <thread>

#include "common/asio.h"
#include "common/bucket_hash.h"
#include "tests/cluster/local_cluster.h"

namespace tessera::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ClusterTest : public ::testing::Test {
 protected:
  void StartCluster(ClusterSpec spec = {}) {
    Status s = cluster_.Start(spec);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(cluster_.GetTable(&table_).ok());
  }

  std::string MasterOf(const std::string& key) {
    uint32_t b = BucketOf(key, table_.bucket_count());
    return table_.servers(table_.owners(b * table_.copy_count())).address();
  }

  // Sends `req` to the master of `key` under the cached table; transport errors come
  // back as the response code UNAVAILABLE.
  proto::Response Send(const std::string& key, proto::Request req) {
    req.set_table_version(table_.version());
    proto::Response resp;
    Status s = cluster_.Call(MasterOf(key), &req, &resp);
    if (!s.ok()) {
      resp.set_code(s.Is(Code::kTimeout) ? proto::TIMEOUT : proto::UNAVAILABLE);
      resp.set_message(s.ToString());
    }
    return resp;
  }
  proto::Response Put(const std::string& key, const std::string& value, uint32_t area = 0,
                      uint32_t version = 0, uint32_t ttl = 0) {
    proto::Request req;
    auto* p = req.mutable_put();
    p->set_area(area);
    p->set_key(key);
    p->set_value(value);
    p->set_version(version);
    p->mutable_expiry()->set_ttl_seconds(ttl);
    return Send(key, req);
  }
  proto::Response Get(const std::string& key, uint32_t area = 0) {
    proto::Request req;
    req.mutable_get()->set_area(area);
    req.mutable_get()->set_key(key);
    return Send(key, req);
  }
  proto::Response Remove(const std::string& key, uint32_t version = 0) {
    proto::Request req;
    req.mutable_remove()->set_key(key);
    req.mutable_remove()->set_version(version);
    return Send(key, req);
  }
  proto::Response Incr(const std::string& key, int64_t delta, int64_t initial = 0) {
    proto::Request req;
    req.mutable_incr()->set_key(key);
    req.mutable_incr()->set_delta(delta);
    req.mutable_incr()->set_initial_value(initial);
    return Send(key, req);
  }

  static proto::ServerState StateOf(const proto::Table& t, const std::string& address) {
    for (const auto& srv : t.servers()) {
      if (srv.address() == address) return srv.state();
    }
    return proto::SERVER_STATE_UNKNOWN;
  }

  // Keys whose buckets are mastered by data server i.
  std::vector<std::string> KeysOn(int i, int n) {
    std::vector<std::string> keys;
    for (int k = 0; static_cast<int>(keys.size()) < n; ++k) {
      std::string key = "key-" + std::to_string(k);
      if (MasterOf(key) == cluster_.data_server(i)) keys.push_back(key);
    }
    return keys;
  }

  LocalCluster cluster_;
  proto::Table table_;
};

TEST_F(ClusterTest, TableCoversEveryBucketAcrossThreeNodes) {
  StartCluster();
  EXPECT_EQ(table_.bucket_count(), 64u);
  ASSERT_EQ(table_.servers_size(), 3);
  std::vector<int> masters(3);
  for (uint32_t b = 0; b < table_.bucket_count(); ++b) masters[table_.owners(b)]++;
  for (int m : masters) {  // 64 buckets over 3 nodes: 21 or 22 each
    EXPECT_GE(m, 21);
    EXPECT_LE(m, 22);
  }
}

TEST_F(ClusterTest, PutGetRemoveIncrCasAcrossNodes) {
  StartCluster();
  for (int i = 0; i < 3; ++i) {
    for (const std::string& key : KeysOn(i, 5)) {
      proto::Response r = Put(key, "v-" + key);
      ASSERT_EQ(r.code(), proto::OK) << r.message();
      EXPECT_EQ(r.put().version(), 1u);
      EXPECT_EQ(r.table_version(), table_.version());
      r = Get(key);
      ASSERT_EQ(r.code(), proto::OK) << r.message();
      EXPECT_EQ(r.get().value(), "v-" + key);
      // CAS: the stale version fails and changes nothing; the right one succeeds.
      EXPECT_EQ(Put(key, "x", 0, /*version=*/7).code(), proto::VERSION_MISMATCH);
      EXPECT_EQ(Get(key).get().value(), "v-" + key);
      r = Put(key, "w", 0, /*version=*/1);
      ASSERT_EQ(r.code(), proto::OK) << r.message();
      EXPECT_EQ(r.put().version(), 2u);
      EXPECT_EQ(Remove(key, /*version=*/1).code(), proto::VERSION_MISMATCH);
      EXPECT_EQ(Remove(key, /*version=*/2).code(), proto::OK);
      EXPECT_EQ(Get(key).code(), proto::NOT_FOUND);
      EXPECT_EQ(Remove(key).code(), proto::NOT_FOUND);
    }
  }
  const std::string counter = KeysOn(1, 1)[0] + "-counter";
  proto::Response r = Incr(counter, 5, /*initial=*/100);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.incr().value(), 105);
  EXPECT_EQ(Incr(counter, -10).incr().value(), 95);
  EXPECT_EQ(Get(counter).get().value(), "95");
  ASSERT_EQ(Put(counter + "x", "not a number").code(), proto::OK);
  EXPECT_EQ(Incr(counter + "x", 1).code(), proto::INVALID_ARGUMENT);
}

TEST_F(ClusterTest, TtlExpires) {
  StartCluster();
  ASSERT_EQ(Put("short", "lived", 0, 0, /*ttl=*/1).code(), proto::OK);
  ASSERT_EQ(Put("long", "lived", 0, 0, /*ttl=*/3600).code(), proto::OK);
  proto::Response r = Get("long");
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_GT(r.get().ttl_seconds(), 3500);
  EXPECT_TRUE(LocalCluster::WaitFor([&] { return Get("short").code() == proto::NOT_FOUND; },
                                    seconds(4)));
  EXPECT_EQ(Get("long").code(), proto::OK);
}

TEST_F(ClusterTest, AreasAreIsolatedAndQuotasEnforced) {
  ClusterSpec spec;
  spec.extra_conf = "area_quotas { area: 5 quota_bytes: 4000 }";
  StartCluster(spec);
  ASSERT_EQ(Put("same", "in area 1", 1).code(), proto::OK);
  ASSERT_EQ(Put("same", "in area 2", 2).code(), proto::OK);
  EXPECT_EQ(Get("same", 1).get().value(), "in area 1");
  EXPECT_EQ(Get("same", 2).get().value(), "in area 2");
  EXPECT_EQ(Get("same", 3).code(), proto::NOT_FOUND);
  // Area 5 may hold 4000 bytes per data server: 1 KB values to one node hit it fast.
  const std::vector<std::string> keys = KeysOn(0, 10);
  int ok = 0;
  proto::Response last;
  for (const std::string& key : keys) {
    last = Put(key, std::string(1000, 'q'), 5);
    if (last.code() != proto::OK) break;
    ++ok;
  }
  EXPECT_GE(ok, 2);
  EXPECT_LE(ok, 4);
  EXPECT_EQ(last.code(), proto::QUOTA_EXCEEDED) << last.message();
  // Other areas are not limited by area 5's quota.
  for (const std::string& key : keys) ASSERT_EQ(Put(key, std::string(1000, 'q'), 6).code(), proto::OK);
}

TEST_F(ClusterTest, WriteToTheWrongOwnerIsRefusedAndNotApplied) {
  StartCluster();
  const std::string key = KeysOn(0, 1)[0];
  proto::Request req;
  req.set_table_version(table_.version());
  req.mutable_put()->set_key(key);
  req.mutable_put()->set_value("misrouted");
  proto::Response resp;
  ASSERT_TRUE(cluster_.Call(cluster_.data_server(1), &req, &resp).ok());
  EXPECT_EQ(resp.code(), proto::WRONG_OWNER);
  EXPECT_NE(resp.message().find("wrong owner, table version " + std::to_string(table_.version())),
            std::string::npos)
      << resp.message();
  EXPECT_EQ(Get(key).code(), proto::NOT_FOUND);
}

TEST_F(ClusterTest, KilledDataServerIsMarkedDownKeepsItsBucketsAndRejoinsWithItsData) {
  StartCluster();
  const std::vector<std::string> keys = KeysOn(2, 20);
  for (const std::string& key : keys) ASSERT_EQ(Put(key, "before-" + key).code(), proto::OK);
  const proto::Table before = table_;

  auto killed_at = std::chrono::steady_clock::now();
  cluster_.KillDataServer(2);
  proto::Table down;
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        return cluster_.GetTable(&down).ok() &&
               StateOf(down, cluster_.data_server(2)) == proto::SERVER_DOWN;
      },
      seconds(10)));
  auto took = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LE(took, milliseconds(cluster_.spec().server_down_time_ms + 1000));
  EXPECT_GT(down.version(), before.version());
  // copy_count 1: the buckets stay with the down node (its data is away, not gone).
  ASSERT_EQ(down.owners_size(), before.owners_size());
  for (int i = 0; i < down.owners_size(); ++i) EXPECT_EQ(down.owners(i), before.owners(i));
  // Its keys are unavailable, never "not found".
  table_ = down;
  for (const std::string& key : keys) EXPECT_EQ(Get(key).code(), proto::UNAVAILABLE);

  ASSERT_TRUE(cluster_.RestartDataServer(2).ok());
  proto::Table up;
  ASSERT_TRUE(LocalCluster::WaitFor(
      [&] {
        return cluster_.GetTable(&up).ok() &&
               StateOf(up, cluster_.data_server(2)) == proto::SERVER_UP;
      },
      seconds(10)));
  EXPECT_GT(up.version(), down.version());
  table_ = up;
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return Get(keys[0]).code() == proto::OK; }, seconds(5)));
  for (const std::string& key : keys) {
    proto::Response r = Get(key);
    ASSERT_EQ(r.code(), proto::OK) << key << ": " << r.message();
    EXPECT_EQ(r.get().value(), "before-" + key);
  }
}

TEST_F(ClusterTest, ConfigServerRestartKeepsTheTableVersion) {
  StartCluster();
  ASSERT_EQ(Put("k", "v").code(), proto::OK);
  const uint64_t version = table_.version();
  cluster_.KillConfigServer();
  // Data servers keep serving with the table they have.
  EXPECT_EQ(Get("k").code(), proto::OK);
  ASSERT_TRUE(cluster_.RestartConfigServer().ok());
  proto::Table after;
  ASSERT_TRUE(LocalCluster::WaitFor([&] { return cluster_.GetTable(&after).ok(); }, seconds(10)));
  EXPECT_GE(after.version(), version);
  table_ = after;
  EXPECT_EQ(Get("k").get().value(), "v");
  EXPECT_EQ(Put("k2", "v2").code(), proto::OK);
}

TEST_F(ClusterTest, GarbageBytesCloseOnlyThatConnection) {
  StartCluster();
  namespace asio = boost::asio;
  asio::io_context io;
  HostPort hp;
  ASSERT_TRUE(ParseHostPort(cluster_.data_server(0), &hp).ok());
  asio::ip::tcp::endpoint ep(asio::ip::make_address(hp.host), hp.port);
  auto closed_by_server = [&](const std::string& bytes) {
    asio::ip::tcp::socket s(io);
    s.connect(ep);
    asio::write(s, asio::buffer(bytes));
    char buf[64];
    boost::system::error_code ec;
    s.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  };
  EXPECT_TRUE(closed_by_server(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));  // huge length
  EXPECT_TRUE(closed_by_server(std::string("\x00\x00\x00\x05garbage", 12)));         // not a Request
  EXPECT_TRUE(closed_by_server(std::string("\x00\x00\x00\x00", 4)));                 // zero length
  // The server still serves everyone else.
  const std::string key = KeysOn(0, 1)[0];
  ASSERT_EQ(Put(key, "alive").code(), proto::OK);
  EXPECT_EQ(Get(key).get().value(), "alive");
}

TEST_F(ClusterTest, OversizeRequestsAreRejected) {
  StartCluster();
  proto::Response r = Put(std::string(1025, 'k'), "v");
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  r = Put("k", std::string((1 << 20) + 1, 'v'));
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(Put("k", "small").code(), proto::OK);
}

}  // namespace
}  // namespace tessera::testing
