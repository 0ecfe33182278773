// OrphanSweeper: the pure decision (which tables are swept, which buckets are
// candidates) and the sweeper's thread against fake storage callbacks (only buckets
// with live keys are reclaimed; a newer table, a changed table at the reclaim check
// or an error ends a sweep without counting it; foreign directories are never
// swept).
#include "dataserver/orphan_sweeper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tessera::ds {
namespace {

using Verdict = OrphanSweepDecision::Verdict;

constexpr const char* kA = "10.0.0.1:7100";
constexpr const char* kB = "10.0.0.2:7100";
constexpr const char* kC = "10.0.0.3:7100";

struct Spec {
  uint64_t version = 10;
  std::vector<std::pair<std::string, bool>> servers = {{kA, true}, {kB, true}, {kC, true}};
  uint32_t copy_count = 1;
  std::vector<std::vector<uint32_t>> owners;       // per bucket, master first
  std::vector<std::vector<uint32_t>> destination;  // empty = no migration
  bool paused = false;
  std::string cluster = "test";
};

std::shared_ptr<const BucketTable> Make(const Spec& spec) {
  proto::Table t;
  t.set_version(spec.version);
  t.set_bucket_count(static_cast<uint32_t>(spec.owners.size()));
  t.set_copy_count(spec.copy_count);
  t.set_cluster_name(spec.cluster);
  for (const auto& [address, up] : spec.servers) {
    proto::TableServer* s = t.add_servers();
    s->set_address(address);
    s->set_state(up ? proto::SERVER_UP : proto::SERVER_DOWN);
  }
  for (const auto& copies : spec.owners) {
    for (uint32_t c : copies) t.add_owners(c);
  }
  for (const auto& copies : spec.destination) {
    for (uint32_t c : copies) t.add_destination_owners(c);
  }
  if (!spec.destination.empty()) t.set_migration_id(4);
  t.set_migration_paused(spec.paused);
  std::shared_ptr<const BucketTable> out;
  Status s = BucketTable::FromProto(std::move(t), &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// 6 buckets, copy_count 1: A masters 0 and 3, B 1 and 4, C 2 and 5.
Spec ThreeNodes() {
  Spec s;
  s.owners = {{0}, {1}, {2}, {0}, {1}, {2}};
  return s;
}

// ---------------------------------------------------------------- decision

TEST(DecideOrphanSweepTest, QuietTableSweepsEveryBucketHeldElsewhere) {
  auto d = DecideOrphanSweep(*Make(ThreeNodes()), kA, 0);
  EXPECT_EQ(d.verdict, Verdict::kSweep);
  EXPECT_EQ(d.buckets, (std::vector<uint32_t>{1, 2, 4, 5}));
  EXPECT_EQ(d.held, 2u);
  EXPECT_EQ(d.holders_down, 0u);
}

TEST(DecideOrphanSweepTest, AnyMigrationPlanMeansNoSweep) {
  Spec s = ThreeNodes();
  s.destination = s.owners;
  s.destination[4] = {0};  // B -> A
  EXPECT_EQ(DecideOrphanSweep(*Make(s), kA, 0).verdict, Verdict::kMigrating);
  EXPECT_EQ(DecideOrphanSweep(*Make(s), kC, 0).verdict, Verdict::kMigrating);  // not involved
  EXPECT_TRUE(DecideOrphanSweep(*Make(s), kC, 0).buckets.empty());
  s.paused = true;
  EXPECT_EQ(DecideOrphanSweep(*Make(s), kA, 0).verdict, Verdict::kMigrating);
  // A plan whose buckets are all done is still a plan until the config server clears it.
  s.paused = false;
  s.destination = s.owners;
  EXPECT_EQ(DecideOrphanSweep(*Make(s), kA, 0).verdict, Verdict::kMigrating);
}

TEST(DecideOrphanSweepTest, ANodeNotInTheTableNeverSweeps) {
  auto d = DecideOrphanSweep(*Make(ThreeNodes()), "10.0.0.9:7100", 0);
  EXPECT_EQ(d.verdict, Verdict::kNotMember);
  EXPECT_TRUE(d.buckets.empty());
}

TEST(DecideOrphanSweepTest, AListedNodeHoldingNothingSweepsAll) {
  Spec s = ThreeNodes();
  s.servers.push_back({"10.0.0.4:7100", true});
  auto d = DecideOrphanSweep(*Make(s), "10.0.0.4:7100", 0);
  EXPECT_EQ(d.verdict, Verdict::kSweep);
  EXPECT_EQ(d.buckets.size(), 6u);
  EXPECT_EQ(d.held, 0u);
}

TEST(DecideOrphanSweepTest, OnlyNewerVersionsThanTheLastSwept) {
  auto t = Make(ThreeNodes());  // version 10
  EXPECT_EQ(DecideOrphanSweep(*t, kA, 9).verdict, Verdict::kSweep);
  EXPECT_EQ(DecideOrphanSweep(*t, kA, 10).verdict, Verdict::kAlreadySwept);
  EXPECT_EQ(DecideOrphanSweep(*t, kA, 11).verdict, Verdict::kAlreadySwept);
}

TEST(DecideOrphanSweepTest, ReplicasAreHeldToo) {
  Spec s;
  s.copy_count = 2;
  s.owners = {{0, 1}, {1, 2}, {2, 0}, {1, 0}};
  auto d = DecideOrphanSweep(*Make(s), kA, 0);
  EXPECT_EQ(d.verdict, Verdict::kSweep);
  EXPECT_EQ(d.buckets, (std::vector<uint32_t>{1}));  // the only bucket without A
  EXPECT_EQ(d.held, 3u);
}

TEST(DecideOrphanSweepTest, BucketsWhoseHoldersAreAllDownAreKept) {
  Spec s = ThreeNodes();
  s.servers[2].second = false;  // C down: buckets 2 and 5 have no UP holder
  auto d = DecideOrphanSweep(*Make(s), kA, 0);
  EXPECT_EQ(d.buckets, (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(d.holders_down, 2u);
  // With a second copy on an UP node the bucket is a candidate again.
  Spec r;
  r.copy_count = 2;
  r.servers = {{kA, true}, {kB, false}, {kC, true}};
  r.owners = {{1, 2}, {1, 0}};
  d = DecideOrphanSweep(*Make(r), kA, 0);
  EXPECT_EQ(d.buckets, (std::vector<uint32_t>{0}));
}

// ---------------------------------------------------------------- the sweeper

// Fake storage: buckets with live keys; reclaims recorded; the "installed" version
// that reclaim_if_current compares with; an optional gate that blocks has_live_key.
class FakeStore {
 public:
  OrphanSweeperCallbacks Callbacks() {
    OrphanSweeperCallbacks cb;
    cb.has_live_key = [this](uint32_t b, bool* live) {
      std::unique_lock<std::mutex> l(mu_);
      ++checks_;
      cv_.notify_all();
      cv_.wait(l, [&] { return !gate_closed_; });
      if (fail_bucket_ == static_cast<int64_t>(b)) return Status::Internal("disk on fire");
      *live = live_.count(b) > 0;
      return Status::OK();
    };
    cb.reclaim_if_current = [this](uint32_t b, uint64_t version, bool* current) {
      std::lock_guard<std::mutex> l(mu_);
      *current = version == installed_;
      if (*current) {
        reclaimed_.push_back(b);
        live_.erase(b);
      }
      return Status::OK();
    };
    return cb;
  }
  void SetLive(std::set<uint32_t> live) {
    std::lock_guard<std::mutex> l(mu_);
    live_ = std::move(live);
  }
  void SetInstalled(uint64_t v) {
    std::lock_guard<std::mutex> l(mu_);
    installed_ = v;
  }
  void CloseGate() {
    std::lock_guard<std::mutex> l(mu_);
    gate_closed_ = true;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> l(mu_);
    gate_closed_ = false;
    cv_.notify_all();
  }
  void FailBucket(int64_t b) {
    std::lock_guard<std::mutex> l(mu_);
    fail_bucket_ = b;
  }
  // Waits until has_live_key was called `n` times in all.
  bool WaitChecks(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(5), [&] { return checks_ >= n; });
  }
  std::vector<uint32_t> reclaimed() {
    std::lock_guard<std::mutex> l(mu_);
    return reclaimed_;
  }
  int checks() {
    std::lock_guard<std::mutex> l(mu_);
    return checks_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<uint32_t> live_;
  std::vector<uint32_t> reclaimed_;
  uint64_t installed_ = 0;
  bool gate_closed_ = false;
  int64_t fail_bucket_ = -1;
  int checks_ = 0;
};

class OrphanSweeperTest : public ::testing::Test {
 protected:
  std::unique_ptr<OrphanSweeper> MakeSweeper(OrphanSweeperOptions o = {},
                                             std::function<bool()> defer = {}) {
    if (o.self_address.empty()) o.self_address = kA;
    OrphanSweeperCallbacks cb = store_.Callbacks();
    cb.defer = std::move(defer);
    auto s = std::make_unique<OrphanSweeper>(o, std::move(cb));
    s->Start();
    return s;
  }
  // Installs `table` the way the data server does: the store's version, then OnTable.
  void Install(OrphanSweeper* s, const std::shared_ptr<const BucketTable>& table) {
    store_.SetInstalled(table->version());
    s->OnTable(table);
  }

  FakeStore store_;
};

TEST_F(OrphanSweeperTest, ReclaimsOnlyBucketsWithLiveKeys) {
  store_.SetLive({0, 2, 5});  // 0 is A's own bucket: never even checked
  auto sweeper = MakeSweeper();
  Install(sweeper.get(), Make(ThreeNodes()));
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_EQ(store_.reclaimed(), (std::vector<uint32_t>{2, 5}));
  const OrphanSweeper::Stats st = sweeper->stats();
  EXPECT_EQ(st.swept_version, 10u);
  EXPECT_EQ(st.sweeps, 1u);
  EXPECT_EQ(st.buckets_checked, 4u);
  EXPECT_EQ(st.buckets_reclaimed, 2u);
  EXPECT_EQ(st.verdict, Verdict::kSweep);
}

TEST_F(OrphanSweeperTest, MigratingTablesAreNotSweptUntilAQuietOneArrives) {
  store_.SetLive({1});
  auto sweeper = MakeSweeper();
  Spec s = ThreeNodes();
  s.destination = s.owners;
  s.destination[2] = {0};
  Install(sweeper.get(), Make(s));
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_TRUE(store_.reclaimed().empty());
  EXPECT_EQ(sweeper->stats().verdict, Verdict::kMigrating);
  EXPECT_EQ(sweeper->stats().considered_version, 10u);

  Spec quiet = ThreeNodes();
  quiet.version = 11;
  quiet.owners[2] = {0};  // bucket 2 flipped to A
  Install(sweeper.get(), Make(quiet));
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_EQ(store_.reclaimed(), (std::vector<uint32_t>{1}));
  EXPECT_EQ(sweeper->stats().swept_version, 11u);
}

TEST_F(OrphanSweeperTest, ANewerTableStopsASweepInProgress) {
  store_.SetLive({1, 2, 4, 5});
  store_.CloseGate();
  auto sweeper = MakeSweeper();
  Install(sweeper.get(), Make(ThreeNodes()));
  ASSERT_TRUE(store_.WaitChecks(1));  // blocked in the first bucket's check
  Spec s = ThreeNodes();
  s.version = 11;
  s.destination = s.owners;
  s.destination[1] = {0};  // bucket 1 now moves to A: must not be reclaimed
  Install(sweeper.get(), Make(s));
  store_.OpenGate();
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_TRUE(store_.reclaimed().empty());
  EXPECT_EQ(sweeper->stats().swept_version, 0u);
  EXPECT_EQ(sweeper->stats().sweeps, 0u);
}

TEST_F(OrphanSweeperTest, AChangedTableAtTheReclaimCheckStopsTheSweep) {
  store_.SetLive({1, 2});
  store_.CloseGate();
  auto sweeper = MakeSweeper();
  Install(sweeper.get(), Make(ThreeNodes()));
  ASSERT_TRUE(store_.WaitChecks(1));
  store_.SetInstalled(11);  // installed, but OnTable not called yet
  store_.OpenGate();
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_TRUE(store_.reclaimed().empty());
  EXPECT_EQ(sweeper->stats().swept_version, 0u);
}

TEST_F(OrphanSweeperTest, AStorageErrorStopsTheSweepAndTheNextTableRetries) {
  store_.SetLive({2, 5});
  store_.FailBucket(1);
  auto sweeper = MakeSweeper();
  Install(sweeper.get(), Make(ThreeNodes()));
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_TRUE(store_.reclaimed().empty());
  EXPECT_EQ(sweeper->stats().swept_version, 0u);
  store_.FailBucket(-1);
  Spec s = ThreeNodes();
  s.version = 12;
  Install(sweeper.get(), Make(s));
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_EQ(store_.reclaimed(), (std::vector<uint32_t>{2, 5}));
}

// Waits until the sweeper reports a deferred sweep (or 5 s); true when it does.
bool WaitDeferred(OrphanSweeper* s) {
  for (int i = 0; i < 500; ++i) {
    if (s->stats().deferred) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(OrphanSweeperTest, ASweepWaitsWhileDeferredThenChecksEveryBucket) {
  store_.SetLive({2, 5});
  std::atomic<bool> cleanup_pending{true};
  OrphanSweeperOptions o;
  o.defer_poll_ms = 5;
  auto sweeper = MakeSweeper(o, [&] { return cleanup_pending.load(); });
  Install(sweeper.get(), Make(ThreeNodes()));
  ASSERT_TRUE(WaitDeferred(sweeper.get()));
  EXPECT_FALSE(sweeper->WaitIdle(50));  // still queued behind the cleanup
  EXPECT_EQ(store_.checks(), 0);
  EXPECT_TRUE(sweeper->stats().busy);
  cleanup_pending = false;
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_EQ(store_.reclaimed(), (std::vector<uint32_t>{2, 5}));
  EXPECT_EQ(sweeper->stats().swept_version, 10u);
  EXPECT_FALSE(sweeper->stats().deferred);
}

TEST_F(OrphanSweeperTest, ATableArrivingDuringTheWaitReplacesTheDeferredSweep) {
  store_.SetLive({1});
  std::atomic<bool> cleanup_pending{true};
  OrphanSweeperOptions o;
  o.defer_poll_ms = 5;
  auto sweeper = MakeSweeper(o, [&] { return cleanup_pending.load(); });
  Install(sweeper.get(), Make(ThreeNodes()));  // version 10
  ASSERT_TRUE(WaitDeferred(sweeper.get()));
  Spec s = ThreeNodes();
  s.version = 11;
  s.destination = s.owners;
  s.destination[1] = {0};  // bucket 1 now moves to A: a plan, no sweep
  Install(sweeper.get(), Make(s));
  cleanup_pending = false;
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_EQ(store_.checks(), 0);  // version 10's sweep never ran
  EXPECT_TRUE(store_.reclaimed().empty());
  EXPECT_EQ(sweeper->stats().swept_version, 0u);

  Spec quiet = ThreeNodes();
  quiet.version = 12;
  quiet.owners[1] = {0};  // bucket 1 flipped to A: ours now
  cleanup_pending = true;
  Install(sweeper.get(), Make(quiet));
  ASSERT_TRUE(WaitDeferred(sweeper.get()));
  cleanup_pending = false;
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_TRUE(store_.reclaimed().empty());  // bucket 1 is held here: never checked
  EXPECT_EQ(store_.checks(), 3);            // 2, 4 and 5
  EXPECT_EQ(sweeper->stats().swept_version, 12u);
}

TEST_F(OrphanSweeperTest, DisabledOrForeignDirectoriesAreNeverSwept) {
  store_.SetLive({1, 2, 4, 5});
  OrphanSweeperOptions off;
  off.enabled = false;
  OrphanSweeperOptions other_identity;
  other_identity.remembered_address = kB;  // this directory served as B
  other_identity.remembered_bucket_count = 6;
  other_identity.remembered_cluster = "test";
  OrphanSweeperOptions other_count;
  other_count.remembered_address = kA;
  other_count.remembered_bucket_count = 1023;
  other_count.remembered_cluster = "test";
  OrphanSweeperOptions other_cluster;
  other_cluster.remembered_address = kA;
  other_cluster.remembered_bucket_count = 6;
  other_cluster.remembered_cluster = "prod";
  for (const auto& [o, verdict] : std::vector<std::pair<OrphanSweeperOptions, Verdict>>{
           {off, Verdict::kDisabled},
           {other_identity, Verdict::kOtherIdentity},
           {other_count, Verdict::kOtherIdentity},
           {other_cluster, Verdict::kOtherIdentity}}) {
    auto sweeper = MakeSweeper(o);
    Install(sweeper.get(), Make(ThreeNodes()));
    ASSERT_TRUE(sweeper->WaitIdle(5000));
    EXPECT_EQ(sweeper->stats().verdict, verdict);
  }
  EXPECT_TRUE(store_.reclaimed().empty());
  // The same directory remembered under our own identity and cluster is swept.
  OrphanSweeperOptions same;
  same.remembered_address = kA;
  same.remembered_bucket_count = 6;
  same.remembered_cluster = "test";
  auto sweeper = MakeSweeper(same);
  Install(sweeper.get(), Make(ThreeNodes()));
  ASSERT_TRUE(sweeper->WaitIdle(5000));
  EXPECT_EQ(store_.reclaimed(), (std::vector<uint32_t>{1, 2, 4, 5}));
}

}  // namespace
}  // namespace tessera::ds
