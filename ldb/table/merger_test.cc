#include "table/merger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "ldb/comparator.h"
#include "table/table_testutil.h"
#include "util/random.h"

namespace ldb {
namespace {

using table_test::RandomKey;
using table_test::VectorIterator;
using Entries = VectorIterator::Entries;

// k sorted children with random keys, duplicates across and within
// children. Each value names its child and position, so equal keys can be
// told apart.
std::vector<Entries> RandomChildren(Random* rnd, int k, int max_len) {
  std::vector<Entries> children(k);
  for (int c = 0; c < k; ++c) {
    const int n = static_cast<int>(rnd->Uniform(max_len + 1));
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i) keys.push_back(RandomKey(rnd, 3));
    std::sort(keys.begin(), keys.end());
    for (int i = 0; i < n; ++i) {
      std::string value = "c";
      value.append(std::to_string(c)).append("#").append(std::to_string(i));
      children[c].emplace_back(keys[i], value);
    }
  }
  return children;
}

// The merged order: by key; equal keys in child order (then child position).
Entries Model(const std::vector<Entries>& children) {
  Entries all;
  for (const Entries& child : children) {
    all.insert(all.end(), child.begin(), child.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
  return all;
}

std::unique_ptr<Iterator> Merge(const std::vector<Entries>& children) {
  std::vector<std::unique_ptr<Iterator>> iters;
  for (const Entries& child : children) {
    iters.push_back(std::make_unique<VectorIterator>(child));
  }
  return NewMergingIterator(BytewiseComparator(), std::move(iters));
}

void ExpectAt(const Iterator& iter, const Entries& model, size_t pos) {
  if (pos >= model.size()) {
    ASSERT_FALSE(iter.Valid());
    return;
  }
  ASSERT_TRUE(iter.Valid());
  ASSERT_EQ(model[pos].first, iter.key().ToString());
  ASSERT_EQ(model[pos].second, iter.value().ToString());
}

TEST(MergerTest, NoChildren) {
  std::unique_ptr<Iterator> iter = NewMergingIterator(BytewiseComparator(), {});
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  iter->SeekToLast();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().ok());
}

TEST(MergerTest, OneChildIsReturnedItself) {
  auto child = std::make_unique<VectorIterator>(Entries{{"a", "1"}});
  Iterator* raw = child.get();
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(std::move(child));
  std::unique_ptr<Iterator> iter =
      NewMergingIterator(BytewiseComparator(), std::move(children));
  EXPECT_EQ(raw, iter.get());
}

TEST(MergerTest, ForwardAndBackwardScans) {
  for (int k : {2, 3, 5, 17}) {
    Random rnd(k);
    for (int trial = 0; trial < 20; ++trial) {
      const std::vector<Entries> children = RandomChildren(&rnd, k, 30);
      const Entries model = Model(children);
      std::unique_ptr<Iterator> iter = Merge(children);
      iter->SeekToFirst();
      for (size_t i = 0; i < model.size(); ++i) {
        ExpectAt(*iter, model, i);
        iter->Next();
      }
      ASSERT_FALSE(iter->Valid());
      iter->SeekToLast();
      for (size_t i = model.size(); i-- > 0;) {
        ExpectAt(*iter, model, i);
        iter->Prev();
      }
      ASSERT_FALSE(iter->Valid());
      ASSERT_TRUE(iter->status().ok());
    }
  }
}

TEST(MergerTest, SeekAndRandomWalkWithDirectionSwitches) {
  for (int k : {2, 4, 9}) {
    Random rnd(100 + k);
    for (int trial = 0; trial < 30; ++trial) {
      const std::vector<Entries> children = RandomChildren(&rnd, k, 25);
      const Entries model = Model(children);
      std::unique_ptr<Iterator> iter = Merge(children);
      for (int round = 0; round < 20; ++round) {
        size_t pos;
        switch (rnd.Uniform(3)) {
          case 0: {
            const std::string target = RandomKey(&rnd, 3);
            iter->Seek(target);
            pos = std::lower_bound(model.begin(), model.end(), target,
                                   [](const auto& e, const std::string& t) {
                                     return e.first < t;
                                   }) -
                  model.begin();
            break;
          }
          case 1:
            iter->SeekToFirst();
            pos = 0;
            break;
          default:
            iter->SeekToLast();
            pos = model.empty() ? 0 : model.size() - 1;
            break;
        }
        for (int step = 0; step < 40; ++step) {
          ExpectAt(*iter, model, pos);
          if (!iter->Valid()) break;
          if (rnd.OneIn(2)) {
            iter->Next();
            ++pos;
          } else {
            iter->Prev();
            if (pos == 0) {
              ASSERT_FALSE(iter->Valid());
              break;
            }
            --pos;
          }
        }
      }
      ASSERT_TRUE(iter->status().ok());
    }
  }
}

TEST(MergerTest, DirectionSwitchInsideRunOfEqualKeys) {
  // Three children all holding "k" (one twice): the forward order is
  // c0, c1#0, c1#1, c2 and backward exactly the reverse.
  std::vector<Entries> children = {
      {{"a", "c0a"}, {"k", "c0"}, {"z", "c0z"}},
      {{"k", "c1#0"}, {"k", "c1#1"}},
      {{"k", "c2"}, {"m", "c2m"}},
  };
  const Entries model = Model(children);
  std::unique_ptr<Iterator> iter = Merge(children);
  // Visit every position, then bounce back and forth around it.
  for (size_t start = 0; start < model.size(); ++start) {
    iter->SeekToFirst();
    for (size_t i = 0; i < start; ++i) iter->Next();
    ExpectAt(*iter, model, start);
    if (start > 0) {
      iter->Prev();
      ExpectAt(*iter, model, start - 1);
      iter->Next();
      ExpectAt(*iter, model, start);
    }
    if (start + 1 < model.size()) {
      iter->Next();
      ExpectAt(*iter, model, start + 1);
      iter->Prev();
      ExpectAt(*iter, model, start);
    }
  }
}

TEST(MergerTest, ChildErrorStopsTheMerge) {
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(
      std::make_unique<VectorIterator>(Entries{{"a", "1"}, {"c", "3"}}));
  children.push_back(std::make_unique<VectorIterator>(
      Entries{{"b", "2"}}, Status::Corruption("child broke")));
  std::unique_ptr<Iterator> iter =
      NewMergingIterator(BytewiseComparator(), std::move(children));
  iter->SeekToFirst();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("a", iter->key().ToString());
  iter->Next();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("b", iter->key().ToString());
  iter->Next();  // the second child runs off its end and reports an error
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
  // The error sticks.
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
}

}  // namespace
}  // namespace ldb
