// Test-only: the ConfigServerTest fixture shared by config_server_test.cc and
// migration_test.cc: a real RpcServer + RpcChannel on 127.0.0.1 (port 0), a fake
// clock, a temp data_dir, and helpers for every config server RPC.
#ifndef TESSERA_CONFIGSERVER_CONFIG_SERVER_TEST_FIXTURE_H_
#define TESSERA_CONFIGSERVER_CONFIG_SERVER_TEST_FIXTURE_H_

#include "configserver/config_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "common/bucket_table.h"
#include "common/io_thread.h"
#include "common/rpc_channel.h"
#include "configserver/table_builder.h"

namespace tessera::cs {


inline constexpr uint32_t kBuckets = 64;
inline constexpr uint64_t kDownMs = 400;
inline const std::string kA = "127.0.0.1:7101";
inline const std::string kB = "127.0.0.1:7102";
inline const std::string kC = "127.0.0.1:7103";
inline const std::string kD = "127.0.0.1:7104";
inline const std::string kToken = "s3cret";

inline Assignment ToAssignment(const proto::Table& t) {
  Assignment a;
  a.bucket_count = t.bucket_count();
  a.copy_count = t.copy_count();
  a.servers.resize(a.bucket_count);
  for (uint32_t b = 0; b < a.bucket_count; ++b) {
    for (uint32_t c = 0; c < a.copy_count; ++c) {
      a.servers[b].push_back(t.servers(t.owners(b * a.copy_count + c)).address());
    }
  }
  return a;
}

inline Assignment DestinationOf(const proto::Table& t) {
  Assignment a;
  a.bucket_count = t.bucket_count();
  a.copy_count = t.copy_count();
  a.servers.resize(a.bucket_count);
  for (uint32_t b = 0; b < a.bucket_count && t.destination_owners_size() > 0; ++b) {
    for (uint32_t c = 0; c < a.copy_count; ++c) {
      a.servers[b].push_back(t.servers(t.destination_owners(b * a.copy_count + c)).address());
    }
  }
  return a;
}

inline std::map<std::string, uint32_t> CopiesPerServer(const proto::Table& t) {
  std::map<std::string, uint32_t> out;
  for (uint32_t o : t.owners()) ++out[t.servers(o).address()];
  return out;
}

inline proto::ServerState StateOf(const proto::Table& t, const std::string& address) {
  for (const auto& s : t.servers()) {
    if (s.address() == address) return s.state();
  }
  return proto::SERVER_STATE_UNKNOWN;
}

class ConfigServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cs_server_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    config_.set_cluster_name("test-cluster");
    config_.set_bucket_count(kBuckets);
    config_.set_copy_count(1);
    for (const auto& a : {kA, kB, kC}) config_.add_data_servers(a);
    config_.set_min_data_server_count(2);
    config_.set_heartbeat_interval_ms(100);
    config_.set_server_down_time_ms(kDownMs);
    proto::AreaQuota* q = config_.add_area_quotas();
    q->set_area(7);
    q->set_quota_bytes(1 << 20);
    config_.set_admin_token(kToken);
  }

  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(root_);
  }

  Status StartServer() {
    ConfigServerOptions o;
    o.config = config_;
    o.data_dir = root_ + "/cs";
    o.clock = &clock_;
    o.tick_interval_ms = 20;
    o.allow_copies_without_replication = allow_copies_without_replication_;
    server_ = std::make_unique<ConfigServer>(o);
    Status s = server_->Start();
    if (!s.ok()) {
      server_.reset();
      return s;
    }
    channel_ = std::make_unique<RpcChannel>(io_.io(), HostPort{"127.0.0.1", server_->port()});
    return Status::OK();
  }

  void StopServer() {
    channel_.reset();
    if (server_) server_->Stop();
    server_.reset();
  }

  proto::Response Call(proto::Request req) {
    proto::Response resp;
    Status s = channel_->CallSync(&req, 5000, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }

  proto::Response Heartbeat(const std::string& address, uint64_t version = 0) {
    proto::Request req;
    proto::HeartbeatRequest* hb = req.mutable_heartbeat();
    hb->set_address(address);
    hb->set_table_version(version);
    hb->set_ready(true);
    hb->mutable_stats()->set_puts(11);
    return Call(req);
  }

  proto::Response GetTable(uint64_t known = 0) {
    proto::Request req;
    req.mutable_get_table()->set_known_version(known);
    return Call(req);
  }

  proto::Response ListNodes() {
    proto::Request req;
    req.mutable_list_nodes();
    return Call(req);
  }

  proto::Response AddNode(const std::string& address, const std::string& token = kToken) {
    proto::Request req;
    req.mutable_admin()->set_token(token);
    req.mutable_admin()->set_add_node(address);
    return Call(req);
  }

  proto::Response RemoveNode(const std::string& address, const std::string& token = kToken) {
    proto::Request req;
    req.mutable_admin()->set_token(token);
    req.mutable_admin()->set_remove_node(address);
    return Call(req);
  }

  // Sends bucket_done for `bucket` as `source`, stamped with `version`.
  proto::Response BucketDone(const std::string& source, uint32_t bucket, uint64_t migration_id,
                             uint64_t version) {
    proto::Request req;
    req.set_table_version(version);
    proto::BucketDoneRequest* done = req.mutable_bucket_done();
    done->set_source(source);
    done->set_bucket(bucket);
    done->set_migration_id(migration_id);
    return Call(req);
  }

  proto::Response MigrationStatus() {
    proto::Request req;
    req.mutable_migration_status();
    return Call(req);
  }

  proto::Response Admin(const std::function<void(proto::AdminRequest*)>& fill) {
    proto::Request req;
    req.mutable_admin()->set_token(kToken);
    fill(req.mutable_admin());
    return Call(req);
  }

  // Plays the sources: reports every moving bucket done (as its master) until the
  // migration is over. Returns the final table.
  proto::Table FinishMigration() {
    proto::Table t = Table();
    for (int round = 0; round < 10000 && t.destination_owners_size() > 0; ++round) {
      std::shared_ptr<const BucketTable> bt;
      EXPECT_TRUE(BucketTable::FromProto(t, &bt).ok());
      uint32_t b = 0;
      while (b < bt->bucket_count() && !bt->BucketMoving(b)) ++b;
      EXPECT_LT(b, bt->bucket_count());
      if (b >= bt->bucket_count()) break;
      proto::Response r = BucketDone(bt->MasterAddress(b), b, t.migration_id(), t.version());
      EXPECT_EQ(r.code(), proto::OK) << r.message();
      if (r.code() != proto::OK) break;
      t = r.bucket_done().table();
    }
    EXPECT_EQ(t.destination_owners_size(), 0);
    EXPECT_EQ(t.version(), Table().version());
    return t;
  }

  // Heartbeats from `alive`, then advances the clock by `ms` and ticks.
  // The clock moves in steps shorter than the server-down time, each followed by the
  // live nodes' heartbeats: the server's own tick thread may run between any two of
  // these calls, and must never find a live node silent for the down time (one step of
  // kDownMs did, now and then, and marked every node down).
  void Pass(uint64_t ms, const std::vector<std::string>& alive) {
    const uint64_t step = std::max<uint64_t>(1, config_.server_down_time_ms() / 4);
    for (const auto& a : alive) Heartbeat(a);
    for (uint64_t passed = 0; passed < ms;) {
      const uint64_t d = std::min(step, ms - passed);
      clock_.Advance(d);
      passed += d;
      for (const auto& a : alive) Heartbeat(a);
    }
    server_->service()->Tick();
  }

  // The current table, checked by BucketTable.
  proto::Table Table() {
    proto::Response r = GetTable(0);
    EXPECT_EQ(r.code(), proto::OK) << r.message();
    std::shared_ptr<const BucketTable> checked;
    Status s = BucketTable::FromProto(r.get_table().table(), &checked);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(r.table_version(), r.get_table().table().version());
    return r.get_table().table();
  }

  // Brings up the first table with kA, kB heartbeating (kC in its grace period).
  proto::Table FirstTable() {
    Heartbeat(kA);
    proto::Response r = Heartbeat(kB);
    EXPECT_TRUE(r.heartbeat().has_table());
    return Table();
  }

  std::string root_;
  proto::ClusterConfig config_;
  // These tests drive the table and promotion logic, copies included (see
  // ConfigServerOptions::allow_copies_without_replication).
  bool allow_copies_without_replication_ = true;
  FakeClock clock_;
  IoThread io_;
  std::unique_ptr<ConfigServer> server_;
  std::unique_ptr<RpcChannel> channel_;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_CONFIG_SERVER_TEST_FIXTURE_H_
