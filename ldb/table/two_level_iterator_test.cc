#include "table/two_level_iterator.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "table/table_testutil.h"
#include "util/random.h"

namespace ldb {
namespace {

using table_test::VectorIterator;
using Entries = VectorIterator::Entries;

// An index over "blocks" held in a vector; the index value is the block
// number. Blocks may be empty, and a block named "bad" fails to open.
class TwoLevelTest : public testing::Test {
 protected:
  std::unique_ptr<Iterator> NewIter() {
    Entries index;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      index.emplace_back(index_keys_[i], std::to_string(i));
    }
    return NewTwoLevelIterator(
        std::make_unique<VectorIterator>(index),
        [this](const ReadOptions&,
               const Slice& value) -> std::unique_ptr<Iterator> {
          ++opened_;
          const size_t n = std::stoul(value.ToString());
          if (bad_.count(n) > 0) {
            return NewErrorIterator(Status::Corruption("bad block"));
          }
          return std::make_unique<VectorIterator>(blocks_[n]);
        },
        ReadOptions());
  }

  // Adds a block; its index key is its last key (or the previous index key
  // when empty).
  void AddBlock(Entries block) {
    std::string key = block.empty()
                          ? (index_keys_.empty() ? "" : index_keys_.back())
                          : block.back().first;
    index_keys_.push_back(key);
    blocks_.push_back(std::move(block));
  }

  Entries All() const {
    Entries all;
    for (const Entries& b : blocks_) all.insert(all.end(), b.begin(), b.end());
    return all;
  }

  std::vector<Entries> blocks_;
  std::vector<std::string> index_keys_;
  std::set<size_t> bad_;
  int opened_ = 0;
};

TEST_F(TwoLevelTest, SkipsEmptyBlocksBothWays) {
  AddBlock({});
  AddBlock({{"a", "1"}, {"b", "2"}});
  AddBlock({});
  AddBlock({});
  AddBlock({{"c", "3"}});
  AddBlock({});
  const Entries all = All();
  std::unique_ptr<Iterator> iter = NewIter();
  iter->SeekToFirst();
  for (const auto& [k, v] : all) {
    ASSERT_TRUE(iter->Valid());
    EXPECT_EQ(k, iter->key().ToString());
    EXPECT_EQ(v, iter->value().ToString());
    iter->Next();
  }
  EXPECT_FALSE(iter->Valid());
  iter->SeekToLast();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    ASSERT_TRUE(iter->Valid());
    EXPECT_EQ(it->first, iter->key().ToString());
    iter->Prev();
  }
  EXPECT_FALSE(iter->Valid());
  iter->Seek("bb");
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("c", iter->key().ToString());
  iter->Prev();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("b", iter->key().ToString());
  iter->Seek("d");
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().ok());
}

TEST_F(TwoLevelTest, ReusesTheOpenBlock) {
  AddBlock({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  std::unique_ptr<Iterator> iter = NewIter();
  iter->Seek("a");
  iter->Seek("b");
  iter->Seek("c");
  EXPECT_EQ(1, opened_);
}

TEST_F(TwoLevelTest, BlockErrorStopsIteration) {
  AddBlock({{"a", "1"}});
  AddBlock({{"b", "2"}});
  AddBlock({{"c", "3"}});
  bad_.insert(1);
  std::unique_ptr<Iterator> iter = NewIter();
  iter->SeekToFirst();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("a", iter->key().ToString());
  iter->Next();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
  iter->SeekToFirst();  // sticky
  EXPECT_FALSE(iter->Valid());

  std::unique_ptr<Iterator> back = NewIter();
  back->SeekToLast();
  ASSERT_TRUE(back->Valid());
  EXPECT_EQ("c", back->key().ToString());
  back->Prev();
  EXPECT_FALSE(back->Valid());
  EXPECT_TRUE(back->status().IsCorruption());
}

TEST(TwoLevelIndexErrorTest, IndexErrorIsReported) {
  std::unique_ptr<Iterator> iter = NewTwoLevelIterator(
      std::make_unique<VectorIterator>(Entries{},
                                       Status::Corruption("bad index")),
      [](const ReadOptions&, const Slice&) { return NewEmptyIterator(); },
      ReadOptions());
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
}

}  // namespace
}  // namespace ldb
