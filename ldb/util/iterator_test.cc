#include "ldb/iterator.h"

#include <vector>

#include "gtest/gtest.h"

namespace ldb {
namespace {

TEST(IteratorTest, EmptyIterator) {
  std::unique_ptr<Iterator> it = NewEmptyIterator();
  EXPECT_FALSE(it->Valid());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  it->Seek("foo");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST(IteratorTest, ErrorIterator) {
  std::unique_ptr<Iterator> it =
      NewErrorIterator(Status::Corruption("bad block"));
  EXPECT_FALSE(it->Valid());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption());
  EXPECT_EQ("Corruption: bad block", it->status().ToString());
}

TEST(IteratorTest, CleanupsRunInReverseOrder) {
  std::vector<int> order;
  {
    std::unique_ptr<Iterator> it = NewEmptyIterator();
    for (int i = 0; i < 5; ++i) {
      it->RegisterCleanup([&order, i] { order.push_back(i); });
    }
    EXPECT_TRUE(order.empty());
  }
  EXPECT_EQ(std::vector<int>({4, 3, 2, 1, 0}), order);
}

TEST(IteratorTest, NoCleanups) {
  std::unique_ptr<Iterator> it = NewErrorIterator(Status::IOError("x"));
  it.reset();  // Must not crash.
}

}  // namespace
}  // namespace ldb
