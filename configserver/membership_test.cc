#include "configserver/membership.h"

#include <gtest/gtest.h>

namespace tessera::cs {
namespace {

constexpr uint64_t kDownMs = 4000;

class MembershipTest : public ::testing::Test {
 protected:
  MembershipTest() : m_(Membership::Options{kDownMs, 2, 4}, &clock_) {}

  void Beat(const std::string& address, uint64_t version = 0) {
    proto::HeartbeatRequest hb;
    hb.set_address(address);
    hb.set_table_version(version);
    hb.set_ready(true);
    hb.mutable_stats()->set_gets(42);
    m_.RecordHeartbeat(address, hb);
  }
  bool Up(const std::string& address) {
    const NodeState* n = m_.Find(address);
    return n != nullptr && n->up;
  }

  FakeClock clock_;
  Membership m_;
};

TEST_F(MembershipTest, CanonicalAddress) {
  std::string out;
  ASSERT_TRUE(CanonicalAddress("127.0.0.1:07101", &out).ok());
  EXPECT_EQ(out, "127.0.0.1:7101");
  EXPECT_FALSE(CanonicalAddress("127.0.0.1", &out).ok());
  EXPECT_FALSE(CanonicalAddress("127.0.0.1:0", &out).ok());
  EXPECT_FALSE(CanonicalAddress(":7000", &out).ok());
}

TEST_F(MembershipTest, GracePeriodAtStartThenDownThenBackUp) {
  m_.Reset({"a:1", "b:1"}, {});
  EXPECT_EQ(m_.MemberCount(), 2u);
  EXPECT_TRUE(Up("a:1"));
  EXPECT_TRUE(Up("b:1"));
  EXPECT_EQ(m_.HeardMemberCount(), 0u);

  clock_.Advance(kDownMs - 1);
  Beat("a:1");
  EXPECT_FALSE(m_.CheckTimeouts());  // b is silent for down_time - 1: still up
  EXPECT_TRUE(Up("b:1"));
  EXPECT_EQ(m_.HeardMemberCount(), 1u);

  clock_.Advance(1);
  EXPECT_TRUE(m_.CheckTimeouts());  // b silent for exactly down_time: down
  EXPECT_FALSE(Up("b:1"));
  EXPECT_TRUE(Up("a:1"));
  EXPECT_EQ(m_.DownMembers(), std::set<std::string>{"b:1"});
  EXPECT_FALSE(m_.CheckTimeouts());  // no change the second time

  // a was heard at start + down_time - 1, and it is now start + down_time.
  clock_.Advance(kDownMs - 2);
  EXPECT_FALSE(m_.CheckTimeouts());
  EXPECT_TRUE(Up("a:1"));
  clock_.Advance(1);
  EXPECT_TRUE(m_.CheckTimeouts());
  EXPECT_FALSE(Up("a:1"));

  // A heartbeat brings a member back at once, and reports the change.
  proto::HeartbeatRequest hb;
  hb.set_address("b:1");
  EXPECT_TRUE(m_.RecordHeartbeat("b:1", hb));
  EXPECT_TRUE(Up("b:1"));
  EXPECT_FALSE(m_.RecordHeartbeat("b:1", hb));  // already up
  EXPECT_EQ(m_.DownMembers(), std::set<std::string>{"a:1"});
}

TEST_F(MembershipTest, StartDownMembersHaveNoGrace) {
  m_.Reset({"a:1", "b:1"}, {"b:1"});
  EXPECT_TRUE(Up("a:1"));
  EXPECT_FALSE(Up("b:1"));
  EXPECT_EQ(m_.DownMembers(), std::set<std::string>{"b:1"});
  Beat("b:1");
  EXPECT_TRUE(Up("b:1"));
}

TEST_F(MembershipTest, NonMembersAreRecordedButDoNotJoin) {
  m_.Reset({"a:1"}, {});
  Beat("x:1", 7);
  EXPECT_FALSE(m_.IsMember("x:1"));
  EXPECT_EQ(m_.Members(), std::vector<std::string>{"a:1"});
  EXPECT_EQ(m_.MemberCount(), 1u);
  EXPECT_EQ(m_.HeardMemberCount(), 0u);
  const NodeState* x = m_.Find("x:1");
  ASSERT_NE(x, nullptr);
  EXPECT_FALSE(x->member);
  EXPECT_TRUE(x->up);
  EXPECT_EQ(x->table_version, 7u);
  EXPECT_EQ(x->stats.gets(), 42u);
  ASSERT_EQ(m_.Nodes().size(), 2u);
  // A non-member going silent is not a membership change.
  clock_.Advance(kDownMs);
  Beat("a:1");
  EXPECT_FALSE(m_.CheckTimeouts());
  EXPECT_FALSE(m_.Find("x:1")->up);

  // At most max_non_members (2) are remembered: the longest-silent is forgotten.
  clock_.Advance(1);
  Beat("y:1");
  clock_.Advance(1);
  Beat("z:1");
  EXPECT_EQ(m_.Find("x:1"), nullptr);
  EXPECT_NE(m_.Find("y:1"), nullptr);
  EXPECT_NE(m_.Find("z:1"), nullptr);
  EXPECT_NE(m_.Find("a:1"), nullptr);
}

TEST_F(MembershipTest, AddAndRemove) {
  m_.Reset({"a:1"}, {});
  EXPECT_FALSE(m_.AddMember("a:1"));
  clock_.Advance(3000);
  EXPECT_TRUE(m_.AddMember("b:1"));  // never heard: grace from now
  EXPECT_TRUE(m_.IsMember("b:1"));
  clock_.Advance(kDownMs - 1);
  Beat("a:1");
  EXPECT_FALSE(m_.CheckTimeouts());
  EXPECT_TRUE(Up("b:1"));
  clock_.Advance(1);
  EXPECT_TRUE(m_.CheckTimeouts());
  EXPECT_FALSE(Up("b:1"));

  // A heard non-member keeps its heartbeat state when added.
  Beat("c:1", 3);
  EXPECT_TRUE(m_.AddMember("c:1"));
  EXPECT_TRUE(Up("c:1"));
  EXPECT_EQ(m_.HeardMemberCount(), 2u);

  EXPECT_TRUE(m_.RemoveMember("c:1"));
  EXPECT_FALSE(m_.RemoveMember("c:1"));
  EXPECT_FALSE(m_.IsMember("c:1"));
  ASSERT_NE(m_.Find("c:1"), nullptr);  // still listed: it heartbeats
  EXPECT_TRUE(m_.RemoveMember("b:1"));
  EXPECT_EQ(m_.Find("b:1"), nullptr);  // never heard: forgotten
  EXPECT_EQ(m_.Members(), std::vector<std::string>{"a:1"});
}

TEST_F(MembershipTest, StatsAreasAreBounded) {
  m_.Reset({"a:1"}, {});
  proto::HeartbeatRequest hb;
  for (int i = 0; i < 100; ++i) hb.mutable_stats()->add_areas()->set_area(i);
  m_.RecordHeartbeat("a:1", hb);
  EXPECT_EQ(m_.Find("a:1")->stats.areas_size(), 4);
}

}  // namespace
}  // namespace tessera::cs
