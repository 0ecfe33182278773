// The config server's side of bucket migration (migration/README.md) through its
// RPCs: plans published on membership changes, bucket_done flips, refusals, the end
// of a migration, restart, pause/resume, move_bucket, a node down mid-migration,
// migration_status. Fixture in config_server_test_fixture.h.
#include "configserver/config_server_test_fixture.h"

#include <algorithm>

namespace tessera::cs {
namespace {

class MigrationTest : public ConfigServerTest {
 protected:
  // The first moving bucket of `t` (bucket_count when none).
  static uint32_t FirstMoving(const proto::Table& t, uint32_t from = 0) {
    std::shared_ptr<const BucketTable> bt;
    EXPECT_TRUE(BucketTable::FromProto(t, &bt).ok());
    uint32_t b = from;
    while (b < bt->bucket_count() && !bt->BucketMoving(b)) ++b;
    return b;
  }
  static uint32_t MovingCount(const proto::Table& t) {
    std::shared_ptr<const BucketTable> bt;
    EXPECT_TRUE(BucketTable::FromProto(t, &bt).ok());
    return bt->MovingBucketCount();
  }
  // Reports `n` moving buckets done; returns the last table.
  proto::Table Flip(uint32_t n) {
    proto::Table t = Table();
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t b = FirstMoving(t);
      EXPECT_LT(b, t.bucket_count());
      const std::string master = ToAssignment(t).servers[b][0];
      proto::Response r = BucketDone(master, b, t.migration_id(), t.version());
      EXPECT_EQ(r.code(), proto::OK) << r.message();
      t = r.bucket_done().table();
    }
    return t;
  }
  proto::Response Pause(bool pause) {
    return Admin([&](proto::AdminRequest* a) {
      if (pause) {
        a->set_pause_migration(true);
      } else {
        a->set_resume_migration(true);
      }
    });
  }
  proto::Response MoveBucket(uint32_t bucket, const std::string& to) {
    return Admin([&](proto::AdminRequest* a) {
      a->mutable_move_bucket()->set_bucket(bucket);
      a->mutable_move_bucket()->set_to(to);
    });
  }
};

TEST_F(MigrationTest, AddNodePublishesAPlanWithTheOwnersUnchanged) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  EXPECT_EQ(v1.destination_owners_size(), 0);
  EXPECT_EQ(v1.migration_id(), 0u);
  proto::Response r = MigrationStatus();
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_FALSE(r.migration_status().migrating());

  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  EXPECT_EQ(v2.version(), v1.version() + 1);
  EXPECT_EQ(v2.migration_id(), 1u);
  EXPECT_FALSE(v2.migration_paused());
  EXPECT_EQ(ToAssignment(v2), ToAssignment(v1));  // clients still route as before
  EXPECT_EQ(MovingCount(v2), 16u);
  EXPECT_EQ(CopiesPerServer(v2).count(kD), 0u);
  for (uint32_t b = 0; b < kBuckets; ++b) {
    const std::string dest = DestinationOf(v2).servers[b][0];
    if (dest != ToAssignment(v2).servers[b][0]) {
      EXPECT_EQ(dest, kD) << "bucket " << b;
    }
  }
  // Heartbeats see the plan; a heartbeat changes nothing (no new plan, no version).
  proto::Response hb = Heartbeat(kD, v1.version());
  ASSERT_TRUE(hb.heartbeat().has_table());
  EXPECT_EQ(hb.heartbeat().table().destination_owners_size(), v2.destination_owners_size());
  Pass(100, {kA, kB, kC, kD});
  EXPECT_EQ(Table().version(), v2.version());

  r = MigrationStatus();
  ASSERT_EQ(r.code(), proto::OK);
  const proto::MigrationStatusResponse& st = r.migration_status();
  EXPECT_TRUE(st.migrating());
  EXPECT_FALSE(st.paused());
  EXPECT_EQ(st.migration_id(), 1u);
  EXPECT_EQ(st.buckets_total(), 16u);
  EXPECT_EQ(st.buckets_done(), 0u);
  EXPECT_GT(st.started_unix_ms(), 1600000000000u);
  // Adding a member again is a no-op.
  EXPECT_EQ(AddNode(kD).table_version(), v2.version());
}

TEST_F(MigrationTest, BucketDoneWithTheCurrentVersionFlipsOneBucket) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  const uint32_t b = FirstMoving(v2);
  ASSERT_LT(b, kBuckets);
  const std::string source = ToAssignment(v2).servers[b][0];
  proto::Response r = BucketDone(source, b, v2.migration_id(), v2.version());
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.table_version(), v2.version() + 1);
  const proto::Table v3 = r.bucket_done().table();  // a copy: r is reused below
  EXPECT_EQ(v3.version(), v2.version() + 1);
  EXPECT_EQ(v3.SerializeAsString(), Table().SerializeAsString());
  EXPECT_EQ(v3.migration_id(), v2.migration_id());
  const Assignment before = ToAssignment(v2), after = ToAssignment(v3);
  EXPECT_EQ(after.servers[b][0], kD);
  for (uint32_t x = 0; x < kBuckets; ++x) {
    if (x != b) {
      EXPECT_EQ(after.servers[x], before.servers[x]) << "bucket " << x;
    }
  }
  EXPECT_EQ(DestinationOf(v3), DestinationOf(v2));
  EXPECT_EQ(MovingCount(v3), 15u);
  r = MigrationStatus();
  EXPECT_EQ(r.migration_status().buckets_total(), 16u);
  EXPECT_EQ(r.migration_status().buckets_done(), 1u);
  // The same report again: the bucket no longer moves (and the version moved on).
  r = BucketDone(source, b, v3.migration_id(), v3.version());
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << r.message();
  EXPECT_EQ(Table().version(), v3.version());
}

TEST_F(MigrationTest, StaleWrongSourceAndUnplannedReportsChangeNothing) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  const uint32_t b = FirstMoving(v2);
  const std::string source = ToAssignment(v2).servers[b][0];
  const std::string other = source == kA ? kB : kA;
  uint32_t still = 0;  // a bucket that does not move
  while (FirstMoving(v2, still) == still) ++still;

  // A stale version: STALE_TABLE, with the current table to adopt.
  proto::Response r = BucketDone(source, b, v2.migration_id(), v2.version() - 1);
  EXPECT_EQ(r.code(), proto::STALE_TABLE) << r.message();
  EXPECT_EQ(r.table_version(), v2.version());
  EXPECT_EQ(r.bucket_done().table().SerializeAsString(), v2.SerializeAsString());
  r = BucketDone(source, b, v2.migration_id(), v2.version() + 1);  // from the future
  EXPECT_EQ(r.code(), proto::STALE_TABLE) << r.message();
  // Not the bucket's master.
  r = BucketDone(other, b, v2.migration_id(), v2.version());
  EXPECT_EQ(r.code(), proto::WRONG_OWNER) << r.message();
  r = BucketDone(kD, b, v2.migration_id(), v2.version());  // the destination itself
  EXPECT_EQ(r.code(), proto::WRONG_OWNER) << r.message();
  // A bucket not in the plan, another migration, no such bucket, a bad address.
  r = BucketDone(ToAssignment(v2).servers[still][0], still, v2.migration_id(), v2.version());
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << r.message();
  r = BucketDone(source, b, v2.migration_id() + 1, v2.version());
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << r.message();
  r = BucketDone(source, kBuckets, v2.migration_id(), v2.version());
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << r.message();
  r = BucketDone("bad address", b, v2.migration_id(), v2.version());
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << r.message();
  EXPECT_EQ(Table().SerializeAsString(), v2.SerializeAsString());
  EXPECT_EQ(MigrationStatus().migration_status().buckets_done(), 0u);
}

TEST_F(MigrationTest, AllBucketsDoneClearsTheDestination) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  const proto::Table last = Flip(16);
  // The last flip's answer already carries the cleared table.
  EXPECT_EQ(last.destination_owners_size(), 0);
  EXPECT_EQ(last.version(), v2.version() + 17);
  EXPECT_EQ(last.migration_id(), 1u);
  EXPECT_EQ(ToAssignment(last), DestinationOf(v2));
  EXPECT_EQ(CopiesPerServer(last)[kD], 16u);
  EXPECT_EQ(CountChangedBuckets(ToAssignment(v1), ToAssignment(last)), 16u);
  const proto::MigrationStatusResponse st = MigrationStatus().migration_status();
  EXPECT_FALSE(st.migrating());
  EXPECT_EQ(st.migration_id(), 1u);
  // Nothing more happens: ticks and heartbeats keep the table.
  Pass(100, {kA, kB, kC, kD});
  EXPECT_EQ(Table().version(), last.version());
  // The next change gets the next id.
  ASSERT_EQ(RemoveNode(kD).code(), proto::OK);
  EXPECT_EQ(Table().migration_id(), 2u);
  EXPECT_EQ(MovingCount(Table()), 16u);
}

TEST_F(MigrationTest, ARestartedConfigServerCarriesOnWithTheSamePlan) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  const proto::Table mid = Flip(5);
  const uint64_t started = MigrationStatus().migration_status().started_unix_ms();
  StopServer();

  ASSERT_TRUE(StartServer().ok());
  EXPECT_EQ(Table().SerializeAsString(), mid.SerializeAsString());  // same version, same plan
  proto::MigrationStatusResponse st = MigrationStatus().migration_status();
  EXPECT_TRUE(st.migrating());
  EXPECT_EQ(st.migration_id(), v2.migration_id());
  EXPECT_EQ(st.buckets_total(), 16u);
  EXPECT_EQ(st.buckets_done(), 5u);
  EXPECT_EQ(st.started_unix_ms(), started);
  // The members heartbeat again: no new plan.
  Pass(100, {kA, kB, kC, kD});
  EXPECT_EQ(Table().version(), mid.version());
  // A source reporting with the table it had before the restart is accepted.
  const uint32_t b = FirstMoving(mid);
  proto::Response r =
      BucketDone(ToAssignment(mid).servers[b][0], b, mid.migration_id(), mid.version());
  EXPECT_EQ(r.code(), proto::OK) << r.message();
  const proto::Table done = FinishMigration();
  EXPECT_EQ(ToAssignment(done), DestinationOf(v2));
  EXPECT_EQ(done.migration_id(), v2.migration_id());
}

TEST_F(MigrationTest, PauseAndResume) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  proto::Response r = Pause(true);
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << "nothing to pause";
  EXPECT_EQ(Pause(false).code(), proto::OK);  // resuming nothing: no-op
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  r = Pause(true);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  const proto::Table p = Table();
  EXPECT_TRUE(p.migration_paused());
  EXPECT_EQ(p.version(), v2.version() + 1);
  EXPECT_EQ(p.migration_id(), v2.migration_id());
  EXPECT_TRUE(MigrationStatus().migration_status().paused());
  EXPECT_EQ(Pause(true).table_version(), p.version());  // already paused: no-op
  // A bucket in flight still finishes while paused.
  const proto::Table f = Flip(1);
  EXPECT_TRUE(f.migration_paused());
  // Paused survives a restart.
  StopServer();
  ASSERT_TRUE(StartServer().ok());
  EXPECT_TRUE(Table().migration_paused());
  r = Pause(false);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_FALSE(Table().migration_paused());
  EXPECT_EQ(Table().version(), f.version() + 1);
  EXPECT_FALSE(MigrationStatus().migration_status().paused());
  // Wrong token.
  proto::Request req;
  req.mutable_admin()->set_token("nope");
  req.mutable_admin()->set_pause_migration(true);
  EXPECT_EQ(Call(req).code(), proto::PERMISSION_DENIED);
}

TEST_F(MigrationTest, MoveBucket) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  const Assignment a1 = ToAssignment(v1);
  uint32_t b = 0;
  while (a1.servers[b][0] != kA) ++b;
  // Refusals.
  EXPECT_EQ(MoveBucket(kBuckets, kB).code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(MoveBucket(b, kD).code(), proto::INVALID_ARGUMENT);  // not a member
  EXPECT_EQ(MoveBucket(b, "nonsense").code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(MoveBucket(b, kA).table_version(), v1.version());    // already there: no-op
  EXPECT_EQ(Table().version(), v1.version());

  proto::Response r = MoveBucket(b, kB);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  const proto::Table v2 = Table();
  EXPECT_EQ(v2.version(), v1.version() + 1);
  EXPECT_EQ(v2.migration_id(), 1u);
  EXPECT_EQ(ToAssignment(v2), a1);
  EXPECT_EQ(MovingCount(v2), 1u);
  EXPECT_EQ(FirstMoving(v2), b);
  EXPECT_EQ(DestinationOf(v2).servers[b][0], kB);
  const proto::Table done = FinishMigration();
  EXPECT_EQ(ToAssignment(done).servers[b][0], kB);
  // No rebalancing moves it back while the membership is unchanged.
  Pass(100, {kA, kB, kC});
  EXPECT_EQ(Table().version(), done.version());
  // A down member cannot receive.
  Pass(kDownMs, {kA, kB});
  ASSERT_EQ(StateOf(Table(), kC), proto::SERVER_DOWN);
  EXPECT_EQ(MoveBucket(b, kC).code(), proto::INVALID_ARGUMENT);
}

TEST_F(MigrationTest, MoveBucketWhileMigratingKeepsThePlanAndTakesANewId) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  uint32_t b = 0;  // a bucket the plan leaves alone
  while (FirstMoving(v2, b) == b) ++b;
  const std::string to = ToAssignment(v2).servers[b][0] == kA ? kB : kA;
  ASSERT_EQ(MoveBucket(b, to).code(), proto::OK);
  const proto::Table v3 = Table();
  EXPECT_EQ(v3.migration_id(), v2.migration_id() + 1);
  Assignment want = DestinationOf(v2);
  want.servers[b][0] = to;
  EXPECT_EQ(DestinationOf(v3), want);
  // A report under the old plan is refused.
  const uint32_t m = FirstMoving(v3);
  proto::Response r =
      BucketDone(ToAssignment(v3).servers[m][0], m, v2.migration_id(), v3.version());
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT) << r.message();
  EXPECT_EQ(ToAssignment(FinishMigration()), want);
}

TEST_F(MigrationTest, MoveBucketToAReplicaIsAPromotion) {
  config_.set_copy_count(2);
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  const Assignment a1 = ToAssignment(v1);
  const uint32_t b = 3;
  const std::string replica = a1.servers[b][1];
  ASSERT_EQ(MoveBucket(b, replica).code(), proto::OK);
  const proto::Table v2 = Table();
  EXPECT_EQ(v2.version(), v1.version() + 1);
  EXPECT_EQ(v2.destination_owners_size(), 0);  // no data moves: applied at once
  const Assignment a2 = ToAssignment(v2);
  EXPECT_EQ(a2.servers[b][0], replica);
  EXPECT_EQ(a2.servers[b][1], a1.servers[b][0]);
  // To a node without a copy: it replaces the master, copies stay distinct.
  std::string third;
  for (const auto& s : {kA, kB, kC}) {
    if (s != a2.servers[b][0] && s != a2.servers[b][1]) third = s;
  }
  ASSERT_EQ(MoveBucket(b, third).code(), proto::OK);
  const proto::Table v3 = Table();
  EXPECT_EQ(DestinationOf(v3).servers[b][0], third);
  EXPECT_EQ(DestinationOf(v3).servers[b][1], a2.servers[b][1]);
  EXPECT_EQ(ToAssignment(FinishMigration()).servers[b][0], third);
}

TEST_F(MigrationTest, ADestinationDownMidMigrationGetsANewPlanWithoutIt) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  Heartbeat(kC);
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  Heartbeat(kD);
  const proto::Table mid = Flip(4);
  Pass(kDownMs, {kA, kB, kC});  // kD goes down
  const proto::Table v3 = Table();
  EXPECT_EQ(StateOf(v3, kD), proto::SERVER_DOWN);
  // The old plan is over: either a new plan (new id) among the up nodes, or none
  // (here the up nodes are already balanced without kD's share: nothing to move).
  if (v3.destination_owners_size() > 0) {
    EXPECT_EQ(v3.migration_id(), v2.migration_id() + 1);
  } else {
    EXPECT_FALSE(MigrationStatus().migration_status().migrating());
  }
  EXPECT_EQ(ToAssignment(v3), ToAssignment(mid));  // flipped buckets stay flipped
  EXPECT_EQ(CopiesPerServer(v3)[kD], 4u);
  // Nothing more goes to the down node.
  if (v3.destination_owners_size() > 0) {
    const Assignment d = DestinationOf(v3), o = ToAssignment(v3);
    for (uint32_t b = 0; b < kBuckets; ++b) {
      if (d.servers[b][0] == kD) {
        EXPECT_EQ(o.servers[b][0], kD) << "bucket " << b;
      }
    }
    EXPECT_EQ(MigrationStatus().migration_status().migration_id(), v3.migration_id());
  }
  // A report under the old plan is refused.
  const uint32_t m = FirstMoving(v2);
  proto::Response r = BucketDone(ToAssignment(v3).servers[m][0], m, v2.migration_id(),
                                 v3.version());
  EXPECT_NE(r.code(), proto::OK);
  // kD returns: another plan, which completes with kD holding its share.
  Heartbeat(kD);
  const proto::Table v4 = Table();
  EXPECT_GT(v4.migration_id(), v3.migration_id());
  EXPECT_EQ(CopiesPerServer(FinishMigration())[kD], 16u);
}

TEST_F(MigrationTest, ADownSourceKeepsItsBuckets) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  Heartbeat(kC);
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  Heartbeat(kD);
  const proto::Table v2 = Table();
  Pass(kDownMs, {kB, kC, kD});  // kA goes down
  const proto::Table v3 = Table();
  EXPECT_EQ(StateOf(v3, kA), proto::SERVER_DOWN);
  EXPECT_EQ(v3.migration_id(), v2.migration_id() + 1);
  ASSERT_GT(v3.destination_owners_size(), 0);
  const Assignment d = DestinationOf(v3), o = ToAssignment(v3);
  uint32_t kept = 0;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    if (o.servers[b][0] == kA) {
      EXPECT_EQ(d.servers[b][0], kA) << "bucket " << b;  // cannot be sent
      ++kept;
    }
  }
  EXPECT_EQ(kept, CopiesPerServer(v2)[kA]);
  const proto::Table done = FinishMigration();  // the others still move to kD
  EXPECT_GT(CopiesPerServer(done)[kD], 0u);
}

TEST_F(MigrationTest, AnUnrelatedNodeDownAndUpKeepsAMoveBucketInFlight) {
  ASSERT_TRUE(StartServer().ok());
  const Assignment a1 = ToAssignment(FirstTable());
  Heartbeat(kC);
  uint32_t b = 0;
  while (a1.servers[b][0] != kA) ++b;
  ASSERT_EQ(MoveBucket(b, kB).code(), proto::OK);
  const proto::Table v2 = Table();
  ASSERT_EQ(MovingCount(v2), 1u);
  // kC neither sends nor receives a moving bucket: its going down and coming back
  // change its state in the table, not the plan.
  Pass(kDownMs, {kA, kB});
  const proto::Table v3 = Table();
  EXPECT_EQ(StateOf(v3, kC), proto::SERVER_DOWN);
  EXPECT_EQ(v3.migration_id(), v2.migration_id());
  EXPECT_EQ(DestinationOf(v3), DestinationOf(v2));
  Heartbeat(kC);
  const proto::Table v4 = Table();
  EXPECT_EQ(StateOf(v4, kC), proto::SERVER_UP);
  EXPECT_EQ(v4.migration_id(), v2.migration_id());
  EXPECT_EQ(DestinationOf(v4), DestinationOf(v2));
  const proto::Table done = FinishMigration();
  EXPECT_EQ(ToAssignment(done).servers[b][0], kB);
  EXPECT_FALSE(MigrationStatus().migration_status().migrating());
  // The source going down is another matter: the plan is rebuilt without the move.
  uint32_t c = 0;
  while (ToAssignment(done).servers[c][0] != kA) ++c;
  ASSERT_EQ(MoveBucket(c, kB).code(), proto::OK);
  Pass(kDownMs, {kB, kC});
  const proto::Table v5 = Table();
  EXPECT_EQ(StateOf(v5, kA), proto::SERVER_DOWN);
  EXPECT_EQ(ToAssignment(v5).servers[c][0], kA);
  EXPECT_TRUE(v5.destination_owners_size() == 0 || DestinationOf(v5).servers[c][0] == kA);
}

TEST_F(MigrationTest, AKeptPlanPromotesAroundADownMasterAndRebalancesWhenDone) {
  config_.set_copy_count(2);
  config_.add_data_servers(kD);
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  Heartbeat(kC);
  Heartbeat(kD);
  const Assignment a1 = ToAssignment(Table());
  std::map<std::string, uint32_t> masters1;
  for (const auto& copies : a1.servers) ++masters1[copies[0]];
  ASSERT_EQ(masters1[kD], kBuckets / 4);
  // A bucket without kD moves to the node that holds no copy of it.
  uint32_t b = 0;
  auto has = [](const std::vector<std::string>& copies, const std::string& n) {
    return std::find(copies.begin(), copies.end(), n) != copies.end();
  };
  while (has(a1.servers[b], kD)) ++b;
  std::string to;
  for (const auto& n : {kA, kB, kC}) {
    if (!has(a1.servers[b], n)) to = n;
  }
  ASSERT_EQ(MoveBucket(b, to).code(), proto::OK);
  const proto::Table v2 = Table();
  // kD goes down: the buckets it masters are served by their other copy at once, and
  // b still moves under the same plan.
  Pass(kDownMs, {kA, kB, kC});
  const proto::Table v3 = Table();
  ASSERT_EQ(StateOf(v3, kD), proto::SERVER_DOWN);
  const Assignment a3 = ToAssignment(v3);
  for (uint32_t x = 0; x < kBuckets; ++x) {
    EXPECT_NE(a3.servers[x][0], kD) << "bucket " << x;
  }
  EXPECT_EQ(MovingCount(v3), 1u);
  EXPECT_EQ(DestinationOf(v3).servers[b], DestinationOf(v2).servers[b]);
  EXPECT_EQ(v3.migration_id(), v2.migration_id());  // b's attempt carries on
  // The config server restarts (the kept plan's inputs and its promotions are
  // persisted), then kD comes back; once b has moved, the masters are balanced
  // again.
  StopServer();
  ASSERT_TRUE(StartServer().ok());
  Heartbeat(kA);
  Heartbeat(kB);
  Heartbeat(kC);
  Heartbeat(kD);
  EXPECT_EQ(Table().migration_id(), v2.migration_id());
  FinishMigration();
  const proto::Table done = Table();
  EXPECT_EQ(done.destination_owners_size(), 0);
  const Assignment a4 = ToAssignment(done);
  EXPECT_EQ(a4.servers[b][0], to);
  std::map<std::string, uint32_t> masters4;
  for (const auto& copies : a4.servers) ++masters4[copies[0]];
  EXPECT_EQ(masters4[kD], kBuckets / 4);
}

TEST_F(MigrationTest, ANodeDownWhenThePlanWasMadeIsBalancedOnceItIsOver) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  Heartbeat(kC);
  Pass(kDownMs, {kA, kB});  // kC goes down
  ASSERT_EQ(StateOf(Table(), kC), proto::SERVER_DOWN);
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  Heartbeat(kD);
  const proto::Table v2 = Table();
  ASSERT_GT(MovingCount(v2), 0u);
  uint32_t c_planned = 0;  // frozen: kC keeps what it holds
  for (const auto& copies : DestinationOf(v2).servers) c_planned += copies[0] == kC ? 1 : 0;
  EXPECT_EQ(c_planned, CopiesPerServer(v2)[kC]);
  // kC (frozen: it neither sends nor receives) comes back: the plan stands.
  Heartbeat(kC);
  const proto::Table v3 = Table();
  EXPECT_EQ(StateOf(v3, kC), proto::SERVER_UP);
  EXPECT_EQ(v3.migration_id(), v2.migration_id());
  EXPECT_EQ(DestinationOf(v3), DestinationOf(v2));
  // An operator's edit of the running plan does not make it forget that.
  uint32_t m = 0;
  while (FirstMoving(v3, m) == m) ++m;  // a bucket the plan leaves alone
  const Assignment a3 = ToAssignment(v3);
  ASSERT_EQ(MoveBucket(m, a3.servers[m][0] == kA ? kB : kA).code(), proto::OK);
  // Once it is over, the layout is rebuilt for kC up: another migration evens out
  // the shares (64 buckets, 4 nodes).
  FinishMigration();
  const proto::Table after = Table();
  ASSERT_GT(after.migration_id(), v2.migration_id());
  if (after.destination_owners_size() > 0) FinishMigration();
  for (const auto& [node, copies] : CopiesPerServer(Table())) {
    EXPECT_EQ(copies, kBuckets / 4) << node;
  }
}

TEST_F(MigrationTest, StatusSumsTheSourcesHeartbeats) {
  ASSERT_TRUE(StartServer().ok());
  FirstTable();
  ASSERT_EQ(AddNode(kD).code(), proto::OK);
  const proto::Table v2 = Table();
  auto beat = [&](const std::string& address, uint64_t id, uint64_t keys, uint64_t bytes) {
    proto::Request req;
    proto::HeartbeatRequest* hb = req.mutable_heartbeat();
    hb->set_address(address);
    hb->set_table_version(v2.version());
    hb->set_ready(true);
    proto::MigrationStats* m = hb->mutable_stats()->mutable_migration();
    m->set_migration_id(id);
    m->set_keys_sent(keys);
    m->set_bytes_sent(bytes);
    proto::BucketMigration* bm = m->add_in_flight();
    bm->set_bucket(FirstMoving(v2));
    bm->set_destination(kD);
    bm->set_phase("scan");
    return Call(req);
  };
  beat(kA, v2.migration_id(), 100, 1000);
  beat(kB, v2.migration_id(), 20, 200);
  beat(kC, v2.migration_id() + 7, 5, 50);  // another migration: not counted
  const proto::MigrationStatusResponse st = MigrationStatus().migration_status();
  EXPECT_EQ(st.keys_sent(), 120u);
  EXPECT_EQ(st.bytes_sent(), 1200u);
  ASSERT_EQ(st.in_flight_size(), 2);
  EXPECT_EQ(st.in_flight(0).phase(), "scan");
  EXPECT_EQ(st.in_flight(0).destination(), kD);
}

TEST_F(MigrationTest, ARestartWithAChangedClusterConfPlansAMigration) {
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v1 = FirstTable();
  StopServer();
  config_.add_data_servers(kD);
  ASSERT_TRUE(StartServer().ok());
  const proto::Table v2 = Table();
  EXPECT_EQ(v2.version(), v1.version() + 1);
  EXPECT_EQ(v2.migration_id(), 1u);
  EXPECT_EQ(ToAssignment(v2), ToAssignment(v1));
  EXPECT_EQ(MovingCount(v2), 16u);
  // Restarted again unchanged: the same plan.
  StopServer();
  ASSERT_TRUE(StartServer().ok());
  EXPECT_EQ(Table().SerializeAsString(), v2.SerializeAsString());
}

}  // namespace
}  // namespace tessera::cs
