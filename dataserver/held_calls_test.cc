// HeldCalls on its own: which event releases which call (in order), the deadline, the
// limit and ReleaseAll. Calls are ServerCalls without a connection, told apart by request id;
// they are never answered (the resume callback just records them).
#include "dataserver/held_calls.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::ds {
namespace {

class HeldCallsTest : public ::testing::Test {
 protected:
  std::unique_ptr<HeldCalls> Make(size_t limit) {
    return std::make_unique<HeldCalls>(limit, [this](std::unique_ptr<ServerCall> call) {
      std::lock_guard<std::mutex> l(mu_);
      resumed_.push_back(call->request().id());
    });
  }
  static std::unique_ptr<ServerCall> NewCall(uint64_t id) {
    auto call = std::make_unique<ServerCall>(nullptr);
    call->request().set_id(id);
    return call;
  }
  std::vector<uint64_t> Resumed() {
    std::lock_guard<std::mutex> l(mu_);
    return resumed_;
  }
  // The ids resumed once at least `n` were (they resume on the HeldCalls' thread).
  std::vector<uint64_t> ResumedAtLeast(size_t n) {
    const auto bound = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Resumed().size() < n && std::chrono::steady_clock::now() < bound) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Resumed();
  }

  std::mutex mu_;
  std::vector<uint64_t> resumed_;  // ids, in the order resumed
};

constexpr uint32_t kLong = 600000;  // ms: no deadline passes during a test

TEST_F(HeldCallsTest, TableInstalledResumesCallsUpToItsVersionInOrder) {
  auto held = Make(16);
  for (uint64_t id : {1, 2, 3, 4}) {
    std::unique_ptr<ServerCall> c = NewCall(id);
    ASSERT_TRUE(held->HoldForTable(id == 3 ? 9 : 5 + id % 2, kLong, &c));
    EXPECT_EQ(c, nullptr);
  }
  std::unique_ptr<ServerCall> c = NewCall(5);
  ASSERT_TRUE(held->HoldForBucket(5, kLong, &c));
  held->TableInstalled(4);
  EXPECT_EQ(held->held(), 5u);
  held->TableInstalled(6);  // ids 1, 2, 4 waited for 6, 5, 5
  EXPECT_EQ(held->held(), 2u);
  EXPECT_EQ(ResumedAtLeast(3), (std::vector<uint64_t>{1, 2, 4}));
  held->TableInstalled(100);  // the bucket's call stays
  EXPECT_EQ(held->held(), 1u);
  EXPECT_EQ(ResumedAtLeast(4), (std::vector<uint64_t>{1, 2, 4, 3}));
  EXPECT_EQ(held->expired(), 0u);
}

TEST_F(HeldCallsTest, BucketUnfencedResumesThatBucketOnly) {
  auto held = Make(16);
  for (uint64_t id : {10, 11, 12}) {
    std::unique_ptr<ServerCall> c = NewCall(id);
    ASSERT_TRUE(held->HoldForBucket(id == 11 ? 7 : 3, kLong, &c));
  }
  std::unique_ptr<ServerCall> c = NewCall(13);
  ASSERT_TRUE(held->HoldForTable(3, kLong, &c));  // a version equal to the bucket number
  held->BucketUnfenced(3);
  EXPECT_EQ(held->held(), 2u);
  EXPECT_EQ(ResumedAtLeast(2), (std::vector<uint64_t>{10, 12}));
  held->BucketUnfenced(3);
  EXPECT_EQ(held->held(), 2u);
  held->BucketUnfenced(7);
  EXPECT_EQ(held->held(), 1u);
  EXPECT_EQ(ResumedAtLeast(3), (std::vector<uint64_t>{10, 12, 11}));
}

TEST_F(HeldCallsTest, DeadlineResumesTheCall) {
  auto held = Make(16);
  std::unique_ptr<ServerCall> late = NewCall(1);
  std::unique_ptr<ServerCall> soon = NewCall(2);
  ASSERT_TRUE(held->HoldForBucket(1, kLong, &late));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(held->HoldForTable(8, 20, &soon));  // the timer must wake earlier than before
  EXPECT_EQ(ResumedAtLeast(1), (std::vector<uint64_t>{2}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_EQ(held->expired(), 1u);
  EXPECT_EQ(held->held(), 1u);
}

TEST_F(HeldCallsTest, LimitRefusesAndLeavesTheCall) {
  auto held = Make(2);
  std::unique_ptr<ServerCall> a = NewCall(1), b = NewCall(2), c = NewCall(3);
  ASSERT_TRUE(held->HoldForTable(2, kLong, &a));
  ASSERT_TRUE(held->HoldForBucket(2, kLong, &b));
  EXPECT_FALSE(held->HoldForTable(2, kLong, &c));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->request().id(), 3u);
  held->TableInstalled(2);  // room again at once, before the call is resumed
  EXPECT_TRUE(held->HoldForTable(3, kLong, &c));
}

TEST_F(HeldCallsTest, ReleaseAllResumesEverythingAndRefusesNewHolds) {
  auto held = Make(16);
  std::unique_ptr<ServerCall> a = NewCall(1), b = NewCall(2), c = NewCall(3);
  ASSERT_TRUE(held->HoldForTable(2, kLong, &a));
  ASSERT_TRUE(held->HoldForBucket(2, kLong, &b));
  held->ReleaseAll();  // returns once they are resumed
  EXPECT_EQ(Resumed(), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(held->HoldForBucket(2, kLong, &c));
  EXPECT_NE(c, nullptr);
  held->ReleaseAll();
  EXPECT_EQ(held->expired(), 0u);
}

TEST_F(HeldCallsTest, DestructorResumesHeldCalls) {
  auto held = Make(16);
  std::unique_ptr<ServerCall> a = NewCall(1);
  ASSERT_TRUE(held->HoldForTable(2, kLong, &a));
  held.reset();
  EXPECT_EQ(Resumed(), (std::vector<uint64_t>{1}));
}

}  // namespace
}  // namespace tessera::ds
