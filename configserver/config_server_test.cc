// The config server through its RPCs: a real RpcServer + RpcChannel on 127.0.0.1
// (port 0), a fake clock, a temp data_dir (fixture in config_server_test_fixture.h).
#include "configserver/config_server_test_fixture.h"

namespace tessera::cs {
namespace {

namespace fs = std::filesystem;

TEST_F(ConfigServerTest, FirstTableOnlyAfterMinDataServerCountHeartbeats) {
  ASSERT_TRUE(StartServer().ok());
  proto::Response r = GetTable();
  EXPECT_EQ(r.code(), proto::UNAVAILABLE);
  EXPECT_NE(r.message().find("no table yet"), std::string::npos) << r.message();
  EXPECT_EQ(r.table_version(), 0u);

  r = Heartbeat(kA);
  EXPECT_EQ(r.code(), proto::OK);
  EXPECT_FALSE(r.heartbeat().has_table());
  r = Heartbeat("127.0.0.1:7199");  // a non-member does not count
  EXPECT_EQ(r.code(), proto::OK);
  EXPECT_FALSE(r.heartbeat().has_table());
  r = Heartbeat(kA);  // nor does the same member twice
  EXPECT_FALSE(r.heartbeat().has_table());
  EXPECT_EQ(GetTable().code(), proto::UNAVAILABLE);

  r = Heartbeat(kB);
  ASSERT_EQ(r.code(), proto::OK);
  ASSERT_TRUE(r.heartbeat().has_table());
  EXPECT_EQ(r.table_version(), 1u);
  const proto::Table t = Table();
  EXPECT_EQ(t.version(), 1u);
  EXPECT_EQ(t.bucket_count(), kBuckets);
  EXPECT_EQ(t.copy_count(), 1u);
  EXPECT_EQ(t.cluster_name(), "test-cluster");
  ASSERT_EQ(t.area_quotas_size(), 1);
  EXPECT_EQ(t.area_quotas(0).area(), 7u);
  // Every member, kC too (in its grace period), UP and balanced; no non-member.
  ASSERT_EQ(t.servers_size(), 3);
  for (const auto& a : {kA, kB, kC}) EXPECT_EQ(StateOf(t, a), proto::SERVER_UP) << a;
  for (const auto& [address, copies] : CopiesPerServer(t)) {
    EXPECT_TRUE(copies == 21 || copies == 22) << address << " " << copies;
  }
}

TEST_F(ConfigServerTest, TablesAreSentOnlyWhenNewer) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table t = FirstTable();
  proto::Response r = Heartbeat(kA, t.version());
  EXPECT_EQ(r.code(), proto::OK);
  EXPECT_FALSE(r.heartbeat().has_table());
  EXPECT_EQ(r.table_version(), t.version());
  r = Heartbeat(kA, t.version() - 1);
  EXPECT_TRUE(r.heartbeat().has_table());
  r = GetTable(t.version());
  EXPECT_EQ(r.code(), proto::OK);
  EXPECT_FALSE(r.get_table().has_table());
  EXPECT_EQ(r.table_version(), t.version());
  r = GetTable(t.version() + 5);  // a client ahead of us gets nothing older
  EXPECT_FALSE(r.get_table().has_table());
}

TEST_F(ConfigServerTest, DownServerKeepsItsBucketsWithCopyCountOne) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  Heartbeat(kC);

  Pass(kDownMs - 1, {kA, kB});
  EXPECT_EQ(server_->service()->table_version(), v1.version());  // kC not down yet
  Pass(1, {kA, kB});
  const proto::Table v2 = Table();
  EXPECT_EQ(v2.version(), v1.version() + 1);
  EXPECT_EQ(StateOf(v2, kC), proto::SERVER_DOWN);
  EXPECT_EQ(StateOf(v2, kA), proto::SERVER_UP);
  // Its buckets stay assigned to it: nothing moved.
  EXPECT_EQ(ToAssignment(v2), ToAssignment(v1));

  proto::Response nodes = ListNodes();
  ASSERT_EQ(nodes.code(), proto::OK);
  bool seen = false;
  for (const proto::NodeInfo& n : nodes.list_nodes().nodes()) {
    if (n.address() != kC) continue;
    seen = true;
    EXPECT_EQ(n.state(), proto::SERVER_DOWN);
    EXPECT_TRUE(n.member());
    EXPECT_EQ(n.last_heartbeat_ms_ago(), kDownMs);
    EXPECT_EQ(n.buckets(), CopiesPerServer(v2)[kC]);
  }
  EXPECT_TRUE(seen);

  // It comes back: UP in a newer table, same buckets.
  proto::Response r = Heartbeat(kC, v1.version());
  ASSERT_TRUE(r.heartbeat().has_table());
  const proto::Table& v3 = r.heartbeat().table();
  EXPECT_EQ(v3.version(), v2.version() + 1);
  EXPECT_EQ(StateOf(v3, kC), proto::SERVER_UP);
  EXPECT_EQ(ToAssignment(v3), ToAssignment(v1));
}

TEST_F(ConfigServerTest, DownMasterIsReplacedByAReplicaWithCopyCountTwo) {
  config_.set_copy_count(2);
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  Pass(kDownMs, {kA, kB});
  const proto::Table v2 = Table();
  EXPECT_GT(v2.version(), v1.version());
  EXPECT_EQ(StateOf(v2, kC), proto::SERVER_DOWN);
  const Assignment a1 = ToAssignment(v1), a2 = ToAssignment(v2);
  EXPECT_EQ(CountChangedBuckets(a1, a2), 0u);  // promotions only, no data moves
  EXPECT_GT(CountMasterChanges(a1, a2), 0u);
  for (uint32_t b = 0; b < kBuckets; ++b) EXPECT_NE(a2.servers[b][0], kC) << "bucket " << b;
}

TEST_F(ConfigServerTest, AdminRequiresTheTokenAndValidAddresses) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  proto::Response r = AddNode(kD, "wrong");
  EXPECT_EQ(r.code(), proto::PERMISSION_DENIED);
  EXPECT_EQ(r.table_version(), v1.version());
  r = AddNode(kD, "");
  EXPECT_EQ(r.code(), proto::PERMISSION_DENIED);
  r = RemoveNode(kA, "s3cre");
  EXPECT_EQ(r.code(), proto::PERMISSION_DENIED);
  r = AddNode("not an address");
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  r = RemoveNode("127.0.0.1:99999");
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  proto::Request empty;
  empty.mutable_admin()->set_token(kToken);
  EXPECT_EQ(Call(empty).code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(Table().version(), v1.version());  // nothing changed

  // No-ops: add a member, remove a non-member.
  r = AddNode(kA);
  EXPECT_EQ(r.code(), proto::OK);
  EXPECT_EQ(r.admin().table_version(), v1.version());
  r = RemoveNode("127.0.0.1:7777");
  EXPECT_EQ(r.code(), proto::OK);
  EXPECT_EQ(r.table_version(), v1.version());

  // Never below copy_count (1) members, i.e. never the last one.
  EXPECT_EQ(RemoveNode(kA).code(), proto::OK);
  EXPECT_EQ(RemoveNode(kB).code(), proto::OK);
  r = RemoveNode(kC);
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  EXPECT_NE(r.message().find("copy_count"), std::string::npos) << r.message();
  // The removed nodes stay in the table (as sources) until their buckets left.
  EXPECT_EQ(Table().servers_size(), 3);
  const proto::Table t = FinishMigration();
  ASSERT_EQ(t.servers_size(), 1);
  EXPECT_EQ(t.servers(0).address(), kC);
}

// Until replication exists, a cluster of more than one copy per bucket is refused
// with a clear error rather than run with copies that hold no data.
TEST_F(ConfigServerTest, CopyCountAboveOneIsRefusedWithoutReplication) {
  allow_copies_without_replication_ = false;
  config_.set_copy_count(2);
  Status s = StartServer();
  EXPECT_TRUE(s.Is(Code::kInvalidArgument)) << s.ToString();
  EXPECT_NE(s.message().find("replication is not built"), std::string::npos) << s.ToString();
  config_.set_copy_count(1);
  s = StartServer();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ConfigServerTest, RemoveRefusedBelowCopyCount) {
  config_.set_copy_count(3);
  config_.set_min_data_server_count(3);
  ASSERT_TRUE(StartServer().ok());
  proto::Response r = RemoveNode(kA);
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
}

TEST_F(ConfigServerTest, AddAndRemoveNodeRebuildWithFewMoves) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  proto::Response r = AddNode(kD);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.admin().table_version(), v1.version() + 1);
  EXPECT_EQ(r.table_version(), v1.version() + 1);
  const proto::Table v2 = Table();
  ASSERT_EQ(v2.servers_size(), 4);
  EXPECT_EQ(StateOf(v2, kD), proto::SERVER_UP);  // in its grace period
  // A plan, the owners unchanged.
  EXPECT_EQ(ToAssignment(v2), ToAssignment(v1));
  ASSERT_GT(v2.destination_owners_size(), 0);
  EXPECT_EQ(v2.migration_id(), 1u);
  const Assignment dest2 = DestinationOf(v2);
  // Only the buckets the new node takes move.
  EXPECT_EQ(CountChangedBuckets(ToAssignment(v1), dest2), 16u);
  const proto::Table v2f = FinishMigration();
  EXPECT_EQ(v2f.version(), v2.version() + 16 + 1);  // 16 flips, then the plan cleared
  EXPECT_EQ(ToAssignment(v2f), dest2);
  auto copies = CopiesPerServer(v2f);
  EXPECT_EQ(copies[kD], 16u);

  r = RemoveNode(kA);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  const proto::Table v3 = Table();
  EXPECT_EQ(v3.version(), v2f.version() + 1);
  EXPECT_EQ(v3.migration_id(), 2u);
  EXPECT_EQ(StateOf(v3, kA), proto::SERVER_UP);  // a source until its buckets left
  EXPECT_EQ(ToAssignment(v3), ToAssignment(v2f));
  EXPECT_EQ(CountChangedBuckets(ToAssignment(v2f), DestinationOf(v3)), copies[kA]);
  const proto::Table v3f = FinishMigration();
  EXPECT_EQ(StateOf(v3f, kA), proto::SERVER_STATE_UNKNOWN);  // not in the table
  EXPECT_EQ(ToAssignment(v3f), DestinationOf(v3));
  for (const auto& [address, n] : CopiesPerServer(v3f)) {
    EXPECT_TRUE(n == 21 || n == 22) << address << " " << n;
  }
  // kA still heartbeats: listed as a non-member.
  Heartbeat(kA);
  bool seen = false;
  const proto::Response listed = ListNodes();
  for (const proto::NodeInfo& n : listed.list_nodes().nodes()) {
    if (n.address() == kA) {
      seen = true;
      EXPECT_FALSE(n.member());
      EXPECT_EQ(n.buckets(), 0u);
      EXPECT_EQ(n.stats().puts(), 11u);
    }
  }
  EXPECT_TRUE(seen);
}

TEST_F(ConfigServerTest, ListNodesShowsEveryKnownServer) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table t = FirstTable();
  Heartbeat("127.0.0.1:7199", 0);
  clock_.Advance(50);
  proto::Response r = ListNodes();
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_EQ(r.table_version(), t.version());
  EXPECT_EQ(r.list_nodes().table_version(), t.version());
  std::map<std::string, proto::NodeInfo> nodes;
  for (const auto& n : r.list_nodes().nodes()) nodes[n.address()] = n;
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_TRUE(nodes[kA].member());
  EXPECT_EQ(nodes[kA].state(), proto::SERVER_UP);
  EXPECT_EQ(nodes[kA].last_heartbeat_ms_ago(), 50u);
  EXPECT_EQ(nodes[kA].stats().puts(), 11u);
  uint32_t buckets = 0, masters = 0;
  for (const auto& a : {kA, kB, kC}) {
    buckets += nodes[a].buckets();
    masters += nodes[a].masters();
  }
  EXPECT_EQ(buckets, kBuckets);
  EXPECT_EQ(masters, kBuckets);
  EXPECT_FALSE(nodes["127.0.0.1:7199"].member());
  EXPECT_EQ(nodes["127.0.0.1:7199"].buckets(), 0u);
}

TEST_F(ConfigServerTest, BadRequestsAreAnsweredWithTheTableVersion) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table t = FirstTable();
  proto::Request req;
  req.mutable_get()->set_key("k");
  proto::Response r = Call(req);
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(r.table_version(), t.version());
  r = Heartbeat("nonsense");
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(r.table_version(), t.version());
}

TEST_F(ConfigServerTest, RestartKeepsVersionMembershipAndTable) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  ASSERT_EQ(RemoveNode(kB).code(), proto::OK);
  FinishMigration();
  Pass(kDownMs, {kA, kD});  // kC goes down
  const proto::Table before = Table();
  EXPECT_EQ(StateOf(before, kC), proto::SERVER_DOWN);
  StopServer();

  ASSERT_TRUE(StartServer().ok());
  // The table is served at once, same version (nothing changed), kC still DOWN.
  const proto::Table after = Table();
  EXPECT_EQ(after.version(), before.version());
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  // The admin changes survived: kB out, kD in.
  EXPECT_EQ(StateOf(after, kB), proto::SERVER_STATE_UNKNOWN);
  EXPECT_EQ(StateOf(after, kD), proto::SERVER_UP);
  // kC returns: a newer version.
  EXPECT_EQ(Heartbeat(kC).table_version(), before.version() + 1);
  StopServer();

  // A config change (quotas) makes a new version at start: versions only grow.
  config_.clear_area_quotas();
  ASSERT_TRUE(StartServer().ok());
  const proto::Table changed = Table();
  EXPECT_EQ(changed.version(), before.version() + 2);
  EXPECT_EQ(changed.area_quotas_size(), 0);
}

TEST_F(ConfigServerTest, RefusesToStartOnACorruptStateOrAMismatchedConfig) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  StopServer();
  const std::string path = root_ + "/cs/" + TableStore::kStateFileName;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(25);
    f.put('\x7f');
  }
  Status s = StartServer();
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("corrupt"), std::string::npos) << s.message();
  fs::remove(path);

  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  StopServer();
  config_.set_bucket_count(kBuckets * 2);
  s = StartServer();
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("bucket_count"), std::string::npos) << s.message();
}

TEST_F(ConfigServerTest, ATableThatCannotBePersistedIsNotServed) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  const std::string dir = root_ + "/cs";
  fs::remove_all(dir);  // every Save fails now
  Pass(kDownMs, {kA, kB});  // kC goes down: a new table that cannot be persisted
  EXPECT_EQ(Table().version(), v1.version());
  EXPECT_EQ(StateOf(Table(), kC), proto::SERVER_UP);
  proto::Response r = AddNode(kD);
  EXPECT_EQ(r.code(), proto::INTERNAL) << r.message();
  EXPECT_EQ(r.table_version(), v1.version());

  fs::create_directories(dir);
  server_->service()->Tick();  // retries
  const proto::Table v2 = Table();
  EXPECT_EQ(v2.version(), v1.version() + 1);
  EXPECT_EQ(StateOf(v2, kC), proto::SERVER_DOWN);
  EXPECT_EQ(StateOf(v2, kD), proto::SERVER_STATE_UNKNOWN);  // the failed add was undone
  EXPECT_TRUE(fs::exists(dir + "/" + TableStore::kStateFileName));
}

TEST_F(ConfigServerTest, SecondServerOnTheSameDataDirIsRefused) {
  ASSERT_TRUE(StartServer().ok());
  ConfigServerOptions o;
  o.config = config_;
  o.data_dir = root_ + "/cs";
  o.clock = &clock_;
  ConfigServer second(o);
  Status s = second.Start();
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
}

}  // namespace
}  // namespace tessera::cs

namespace tessera::cs {
namespace {

// The real clock and ticker: a server that stops heartbeating is marked down within
// server_down_time + one tick, with no explicit Tick.
TEST(ConfigServerRealClockTest, SilentServerIsMarkedDownByTheTicker) {
  char tmpl[] = "/tmp/cs_server_rt_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  proto::ClusterConfig config;
  config.set_cluster_name("rt");
  config.set_bucket_count(16);
  config.add_data_servers(kA);
  config.add_data_servers(kB);
  config.set_heartbeat_interval_ms(20);
  config.set_server_down_time_ms(200);
  config.set_admin_token(kToken);
  ConfigServerOptions o;
  o.config = config;
  o.data_dir = root + "/cs";
  o.tick_interval_ms = 10;
  ConfigServer server(o);
  ASSERT_TRUE(server.Start().ok());
  IoThread io;
  RpcChannel channel(io.io(), HostPort{"127.0.0.1", server.port()});
  auto beat = [&](const std::string& address) {
    proto::Request req;
    req.mutable_heartbeat()->set_address(address);
    proto::Response resp;
    EXPECT_TRUE(channel.CallSync(&req, 2000, &resp).ok());
    return resp;
  };
  beat(kA);
  beat(kB);
  ASSERT_NE(server.service()->table(), nullptr);
  const uint64_t v1 = server.service()->table_version();
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(5);
  // kA keeps heartbeating, kB is silent.
  std::shared_ptr<const proto::Table> t;
  while (std::chrono::steady_clock::now() < deadline) {
    beat(kA);
    t = server.service()->table();
    if (t->version() > v1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the heartbeat period
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_GT(t->version(), v1);
  EXPECT_EQ(StateOf(*t, kB), proto::SERVER_DOWN);
  EXPECT_EQ(StateOf(*t, kA), proto::SERVER_UP);
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::milliseconds(200 + 1000));
  server.Stop();
  fs::remove_all(root);
}

}  // namespace
}  // namespace tessera::cs
