#include "table/block.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ldb/comparator.h"
#include "table/block_builder.h"
#include "table/table_testutil.h"
#include "util/coding.h"
#include "util/random.h"

namespace ldb {
namespace {

using table_test::RandomKey;
using table_test::RandomValue;
using Model = std::map<std::string, std::string>;

// A Block owning a private copy of bytes (exact size, so that any read past
// the end is a real out-of-bounds read under a sanitizer).
std::unique_ptr<Block> MakeBlock(const Slice& bytes) {
  BlockContents contents;
  contents.owned.reset(new char[bytes.size() == 0 ? 1 : bytes.size()]);
  if (bytes.size() > 0) {
    std::memcpy(contents.owned.get(), bytes.data(), bytes.size());
  }
  contents.data = Slice(contents.owned.get(), bytes.size());
  contents.heap_allocated = true;
  contents.cachable = true;
  return std::make_unique<Block>(std::move(contents));
}

Model RandomModel(Random* rnd, int n) {
  Model model;
  for (int i = 0; i < n; ++i) {
    model[RandomKey(rnd, 12)] = RandomValue(rnd, 30);
  }
  return model;
}

std::string BuildBlock(const Model& model, int restart_interval) {
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : model) builder.Add(k, v);
  return builder.Finish().ToString();
}

void CheckBlockAgainstModel(const Block& block, const Model& model,
                            Random* rnd) {
  const Comparator* cmp = BytewiseComparator();
  std::unique_ptr<Iterator> iter = block.NewIterator(cmp);

  // Forward.
  iter->SeekToFirst();
  for (const auto& [k, v] : model) {
    ASSERT_TRUE(iter->Valid());
    ASSERT_EQ(k, iter->key().ToString());
    ASSERT_EQ(v, iter->value().ToString());
    iter->Next();
  }
  ASSERT_FALSE(iter->Valid());
  ASSERT_TRUE(iter->status().ok());

  // Backward.
  iter->SeekToLast();
  for (auto it = model.rbegin(); it != model.rend(); ++it) {
    ASSERT_TRUE(iter->Valid());
    ASSERT_EQ(it->first, iter->key().ToString());
    ASSERT_EQ(it->second, iter->value().ToString());
    iter->Prev();
  }
  ASSERT_FALSE(iter->Valid());

  // Seek to every key, and just after it (between keys).
  for (const auto& [k, v] : model) {
    iter->Seek(k);
    ASSERT_TRUE(iter->Valid());
    ASSERT_EQ(k, iter->key().ToString());
    ASSERT_EQ(v, iter->value().ToString());

    const std::string after = k + std::string(1, '\0');
    iter->Seek(after);
    auto next = model.lower_bound(after);
    if (next == model.end()) {
      ASSERT_FALSE(iter->Valid());
    } else {
      ASSERT_TRUE(iter->Valid());
      ASSERT_EQ(next->first, iter->key().ToString());
    }
  }

  // Random seeks followed by a random walk in both directions.
  for (int i = 0; i < 100; ++i) {
    const std::string target = RandomKey(rnd, 12);
    iter->Seek(target);
    auto pos = model.lower_bound(target);
    for (int step = 0; step < 20; ++step) {
      if (pos == model.end()) {
        ASSERT_FALSE(iter->Valid());
        break;
      }
      ASSERT_TRUE(iter->Valid());
      ASSERT_EQ(pos->first, iter->key().ToString());
      ASSERT_EQ(pos->second, iter->value().ToString());
      if (rnd->OneIn(2)) {
        iter->Next();
        ++pos;
      } else {
        iter->Prev();
        if (pos == model.begin()) {
          ASSERT_FALSE(iter->Valid());
          break;
        }
        --pos;
      }
    }
  }
  ASSERT_TRUE(iter->status().ok());
}

TEST(BlockTest, EmptyBlock) {
  BlockBuilder builder(16);
  EXPECT_TRUE(builder.empty());
  const std::string bytes = builder.Finish().ToString();
  EXPECT_EQ(8u, bytes.size());  // one restart point + the count
  std::unique_ptr<Block> block = MakeBlock(bytes);
  ASSERT_TRUE(block->well_formed());
  std::unique_ptr<Iterator> iter = block->NewIterator(BytewiseComparator());
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  iter->SeekToLast();
  EXPECT_FALSE(iter->Valid());
  iter->Seek("a");
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().ok());
}

TEST(BlockTest, RandomKeysManyRestartIntervals) {
  for (int restart_interval : {1, 2, 3, 16, 100}) {
    for (int n : {1, 2, 10, 200, 1000}) {
      Random rnd(restart_interval * 1000 + n);
      SCOPED_TRACE("restart_interval=" + std::to_string(restart_interval) +
                   " n=" + std::to_string(n));
      const Model model = RandomModel(&rnd, n);
      const std::string bytes = BuildBlock(model, restart_interval);
      std::unique_ptr<Block> block = MakeBlock(bytes);
      ASSERT_TRUE(block->well_formed());
      ASSERT_EQ(bytes.size(), block->size());
      CheckBlockAgainstModel(*block, model, &rnd);
    }
  }
}

// Keys longer than BlockIter's inline key buffer (and growing past it in
// the middle of a restart run), through a heap iterator and one on the
// stack.
TEST(BlockTest, KeysLongerThanTheInlineBuffer) {
  Random rnd(301);
  Model model;
  const std::string long_prefix(100, 'p');
  for (int i = 0; i < 200; ++i) {
    const int len = static_cast<int>(rnd.Uniform(300));
    std::string key =
        (i % 2 == 0 ? long_prefix : std::string("q")) + RandomKey(&rnd, len);
    model[key] = RandomValue(&rnd, 10);
  }
  for (int restart_interval : {1, 4, 16}) {
    std::unique_ptr<Block> block =
        MakeBlock(BuildBlock(model, restart_interval));
    ASSERT_TRUE(block->well_formed());
    ASSERT_NO_FATAL_FAILURE(CheckBlockAgainstModel(*block, model, &rnd));
    BlockIter iter(*block, BytewiseComparator());
    for (const auto& [k, v] : model) {
      iter.Seek(k);
      ASSERT_TRUE(iter.Valid());
      EXPECT_EQ(k, iter.key().ToString());
      EXPECT_EQ(v, iter.value().ToString());
    }
    iter.SeekToLast();
    for (auto it = model.rbegin(); it != model.rend(); ++it) {
      ASSERT_TRUE(iter.Valid());
      ASSERT_EQ(it->first, iter.key().ToString());
      iter.Prev();
    }
    EXPECT_FALSE(iter.Valid());
  }
}

TEST(BlockTest, StackIteratorOverMalformedBlockReportsCorruption) {
  std::unique_ptr<Block> block = MakeBlock(Slice("\x01", 1));
  ASSERT_FALSE(block->well_formed());
  BlockIter iter(*block, BytewiseComparator());
  iter.SeekToFirst();
  EXPECT_FALSE(iter.Valid());
  iter.Seek("a");
  EXPECT_FALSE(iter.Valid());
  iter.SeekToLast();
  EXPECT_FALSE(iter.Valid());
  EXPECT_TRUE(iter.status().IsCorruption());
}

TEST(BlockTest, PrefixCompressionShrinksSharedPrefixes) {
  Model model;
  for (int i = 0; i < 100; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "a/long/common/prefix/%04d", i);
    model[buf] = "v";
  }
  const std::string compressed = BuildBlock(model, 16);
  const std::string uncompressed = BuildBlock(model, 1);
  EXPECT_LT(compressed.size() * 2, uncompressed.size());
  Random rnd(7);
  CheckBlockAgainstModel(*MakeBlock(compressed), model, &rnd);
  CheckBlockAgainstModel(*MakeBlock(uncompressed), model, &rnd);
}

TEST(BlockTest, SizeEstimateAndReset) {
  BlockBuilder builder(4);
  EXPECT_EQ(8u, builder.CurrentSizeEstimate());
  builder.Add("key1", "value1");
  builder.Add("key2", "value2");
  const size_t estimate = builder.CurrentSizeEstimate();
  EXPECT_FALSE(builder.empty());
  EXPECT_EQ(estimate, builder.Finish().size());
  builder.Reset();
  EXPECT_TRUE(builder.empty());
  EXPECT_EQ(8u, builder.CurrentSizeEstimate());
  builder.Add("a", "b");
  Model model{{"a", "b"}};
  Random rnd(1);
  CheckBlockAgainstModel(*MakeBlock(builder.Finish()), model, &rnd);
}

TEST(BlockTest, MalformedRestartArray) {
  const Comparator* cmp = BytewiseComparator();
  std::vector<std::string> bad;
  bad.emplace_back("");     // shorter than the count
  bad.emplace_back("abc");  // shorter than the count
  std::string zero;         // zero restart points
  PutFixed32(&zero, 0);
  bad.push_back(zero);
  std::string huge = "xxxx";  // more restart points than fit
  PutFixed32(&huge, 1000);
  bad.push_back(huge);
  for (const std::string& bytes : bad) {
    std::unique_ptr<Block> block = MakeBlock(bytes);
    EXPECT_FALSE(block->well_formed());
    std::unique_ptr<Iterator> iter = block->NewIterator(cmp);
    iter->SeekToFirst();
    EXPECT_FALSE(iter->Valid());
    EXPECT_TRUE(iter->status().IsCorruption());
    EXPECT_NE(std::string::npos,
              iter->status().ToString().find("bad block contents"));
  }
}

TEST(BlockTest, BadEntryGivesCorruption) {
  // One entry claiming a 200-byte value inside a tiny block.
  std::string bytes;
  PutVarint32(&bytes, 0);    // shared
  PutVarint32(&bytes, 1);    // non_shared
  PutVarint32(&bytes, 200);  // value length: runs past the restart array
  bytes.append("k");
  PutFixed32(&bytes, 0);  // restart[0]
  PutFixed32(&bytes, 1);  // num_restarts
  std::unique_ptr<Block> block = MakeBlock(bytes);
  ASSERT_TRUE(block->well_formed());
  std::unique_ptr<Iterator> iter = block->NewIterator(BytewiseComparator());
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
  EXPECT_NE(std::string::npos,
            iter->status().ToString().find("bad entry in block"));
  // The error sticks.
  iter->Seek("k");
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
}

TEST(BlockTest, SharedPrefixLongerThanPreviousKey) {
  std::string bytes;
  PutVarint32(&bytes, 5);  // shared with an empty previous key: damaged
  PutVarint32(&bytes, 1);
  PutVarint32(&bytes, 1);
  bytes.append("kv");
  PutFixed32(&bytes, 0);
  PutFixed32(&bytes, 1);
  std::unique_ptr<Block> block = MakeBlock(bytes);
  std::unique_ptr<Iterator> iter = block->NewIterator(BytewiseComparator());
  iter->SeekToLast();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
}

TEST(BlockTest, RestartPointOutOfRange) {
  BlockBuilder builder(1);
  builder.Add("a", "1");
  builder.Add("b", "2");
  std::string bytes = builder.Finish().ToString();
  // Point restart[1] far past the entries.
  EncodeFixed32(&bytes[bytes.size() - 8], 0xffffff);
  std::unique_ptr<Block> block = MakeBlock(bytes);
  std::unique_ptr<Iterator> iter = block->NewIterator(BytewiseComparator());
  iter->Seek("b");
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
}

// Walks a damaged block every way; must terminate without reading out of
// bounds (run under a sanitizer to check the latter). Returns entries seen.
int ExerciseDamagedBlock(const Block& block, Random* rnd) {
  const Comparator* cmp = BytewiseComparator();
  int seen = 0;
  std::unique_ptr<Iterator> iter = block.NewIterator(cmp);
  iter->SeekToFirst();
  for (int i = 0; i < 10000 && iter->Valid(); ++i, iter->Next()) {
    seen += static_cast<int>(iter->key().size() + iter->value().size() > 0);
  }
  iter = block.NewIterator(cmp);
  iter->SeekToLast();
  for (int i = 0; i < 10000 && iter->Valid(); ++i, iter->Prev()) ++seen;
  for (int i = 0; i < 10; ++i) {
    iter = block.NewIterator(cmp);
    iter->Seek(RandomKey(rnd, 12));
    for (int step = 0; step < 50 && iter->Valid(); ++step) {
      if (rnd->OneIn(2)) {
        iter->Next();
      } else {
        iter->Prev();
      }
    }
  }
  return seen;
}

TEST(BlockTest, DamagedBlocksNeverCrash) {
  Random rnd(301);
  const Model model = RandomModel(&rnd, 100);
  for (int restart_interval : {1, 4, 16}) {
    const std::string good = BuildBlock(model, restart_interval);
    for (int trial = 0; trial < 500; ++trial) {
      std::string bad = good;
      switch (rnd.Uniform(3)) {
        case 0: {  // flip a few bytes
          const int flips = 1 + static_cast<int>(rnd.Uniform(4));
          for (int f = 0; f < flips; ++f) {
            bad[rnd.Uniform(bad.size())] ^=
                static_cast<char>(1 + rnd.Uniform(255));
          }
          break;
        }
        case 1:  // truncate, keeping a plausible restart count at the end
          bad.resize(rnd.Uniform(bad.size()));
          break;
        default:  // damage the restart array only
          for (int f = 0; f < 3; ++f) {
            bad[bad.size() - 1 -
                rnd.Uniform(std::min<size_t>(bad.size(), 4 * 10))] =
                static_cast<char>(rnd.Uniform(256));
          }
          break;
      }
      std::unique_ptr<Block> block = MakeBlock(bad);
      ExerciseDamagedBlock(*block, &rnd);
    }
  }
}

}  // namespace
}  // namespace ldb
