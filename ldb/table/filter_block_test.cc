#include "table/filter_block.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ldb/filter_policy.h"
#include "util/coding.h"
#include "util/hash.h"
#include "util/random.h"

namespace ldb {
namespace {

// An exact filter for tests: the 32-bit hash of every key. Counts calls.
class HashListPolicy : public FilterPolicy {
 public:
  const char* Name() const override { return "test.HashList"; }
  void CreateFilter(const Slice* keys, int n, std::string* dst) const override {
    for (int i = 0; i < n; ++i) {
      PutFixed32(dst, Hash(keys[i].data(), keys[i].size(), 1));
    }
  }
  bool KeyMayMatch(const Slice& key, const Slice& filter) const override {
    ++calls;
    const uint32_t h = Hash(key.data(), key.size(), 1);
    for (size_t i = 0; i + 4 <= filter.size(); i += 4) {
      if (DecodeFixed32(filter.data() + i) == h) return true;
    }
    return false;
  }
  mutable int calls = 0;
};

TEST(FilterBlockTest, EmptyBuilder) {
  HashListPolicy policy;
  FilterBlockBuilder builder(&policy);
  const Slice block = builder.Finish();
  // No filters: array offset 0, then the base lg.
  ASSERT_EQ(5u, block.size());
  EXPECT_EQ(0u, DecodeFixed32(block.data()));
  EXPECT_EQ(kFilterBaseLg, block[4]);
  FilterBlockReader reader(&policy, block);
  EXPECT_TRUE(reader.KeyMayMatch(0, "foo"));
  EXPECT_TRUE(reader.KeyMayMatch(100000, "foo"));
}

TEST(FilterBlockTest, SingleChunk) {
  HashListPolicy policy;
  FilterBlockBuilder builder(&policy);
  builder.StartBlock(100);
  builder.AddKey("foo");
  builder.AddKey("bar");
  builder.AddKey("box");
  builder.StartBlock(200);
  builder.AddKey("box");
  builder.StartBlock(300);
  builder.AddKey("hello");
  const Slice block = builder.Finish();
  FilterBlockReader reader(&policy, block);
  for (const char* key : {"foo", "bar", "box", "hello"}) {
    EXPECT_TRUE(reader.KeyMayMatch(100, key)) << key;
  }
  EXPECT_FALSE(reader.KeyMayMatch(100, "missing"));
  EXPECT_FALSE(reader.KeyMayMatch(100, "other"));
}

TEST(FilterBlockTest, MultiChunk) {
  HashListPolicy policy;
  FilterBlockBuilder builder(&policy);
  // First filter.
  builder.StartBlock(0);
  builder.AddKey("foo");
  builder.StartBlock(2000);
  builder.AddKey("bar");
  // Second filter.
  builder.StartBlock(3100);
  builder.AddKey("box");
  // Third filter is empty; fourth filter.
  builder.StartBlock(9000);
  builder.AddKey("box");
  builder.AddKey("hello");
  const Slice block = builder.Finish();
  FilterBlockReader reader(&policy, block);

  EXPECT_TRUE(reader.KeyMayMatch(0, "foo"));
  EXPECT_TRUE(reader.KeyMayMatch(2000, "bar"));
  EXPECT_FALSE(reader.KeyMayMatch(0, "box"));
  EXPECT_FALSE(reader.KeyMayMatch(0, "hello"));

  EXPECT_TRUE(reader.KeyMayMatch(3100, "box"));
  EXPECT_FALSE(reader.KeyMayMatch(3100, "foo"));
  EXPECT_FALSE(reader.KeyMayMatch(3100, "bar"));
  EXPECT_FALSE(reader.KeyMayMatch(3100, "hello"));

  // The empty filter (offsets 4096..6143) holds nothing.
  EXPECT_FALSE(reader.KeyMayMatch(4100, "foo"));
  EXPECT_FALSE(reader.KeyMayMatch(4100, "box"));

  EXPECT_TRUE(reader.KeyMayMatch(9000, "box"));
  EXPECT_TRUE(reader.KeyMayMatch(9000, "hello"));
  EXPECT_FALSE(reader.KeyMayMatch(9000, "foo"));
  EXPECT_FALSE(reader.KeyMayMatch(9000, "bar"));

  // Offsets past the last filter: may match.
  EXPECT_TRUE(reader.KeyMayMatch(100000, "anything"));
}

TEST(FilterBlockTest, ManyBlocksNoFalseNegatives) {
  HashListPolicy policy;
  FilterBlockBuilder builder(&policy);
  Random rnd(17);
  std::vector<std::pair<uint64_t, std::string>> added;
  uint64_t offset = 0;
  for (int block = 0; block < 300; ++block) {
    builder.StartBlock(offset);
    const int keys = 1 + static_cast<int>(rnd.Uniform(10));
    for (int i = 0; i < keys; ++i) {
      std::string key = "k";
      key.append(std::to_string(rnd.Next()));
      builder.AddKey(key);
      added.emplace_back(offset, key);
    }
    offset += 1 + rnd.Uniform(6000);
  }
  const std::string block = builder.Finish().ToString();
  FilterBlockReader reader(&policy, block);
  for (const auto& [off, key] : added) {
    EXPECT_TRUE(reader.KeyMayMatch(off, key)) << off << " " << key;
  }
}

TEST(FilterBlockTest, DamagedContentsMayMatch) {
  HashListPolicy policy;
  // Too short, and an array offset past the end.
  FilterBlockReader short_reader(&policy, Slice("abc", 3));
  EXPECT_TRUE(short_reader.KeyMayMatch(0, "foo"));
  std::string bad_offset;
  PutFixed32(&bad_offset, 1000);
  bad_offset.push_back(static_cast<char>(kFilterBaseLg));
  FilterBlockReader offset_reader(&policy, bad_offset);
  EXPECT_TRUE(offset_reader.KeyMayMatch(0, "foo"));
  // An absurd base lg.
  std::string bad_lg;
  PutFixed32(&bad_lg, 0);
  bad_lg.push_back(static_cast<char>(200));
  FilterBlockReader lg_reader(&policy, bad_lg);
  EXPECT_TRUE(lg_reader.KeyMayMatch(1u << 20, "foo"));
  // A filter offset past the array.
  std::string bad_filter = "xxxx";
  PutFixed32(&bad_filter, 3000);  // filter[0] starts past the array
  PutFixed32(&bad_filter, 4);     // array offset
  bad_filter.push_back(static_cast<char>(kFilterBaseLg));
  FilterBlockReader filter_reader(&policy, bad_filter);
  EXPECT_TRUE(filter_reader.KeyMayMatch(0, "foo"));
}

TEST(FilterBlockTest, RandomDamageNeverCrashes) {
  HashListPolicy policy;
  FilterBlockBuilder builder(&policy);
  for (uint64_t off = 0; off < 20000; off += 1500) {
    builder.StartBlock(off);
    std::string key = "key";
    key.append(std::to_string(off));
    builder.AddKey(key);
  }
  const std::string good = builder.Finish().ToString();
  Random rnd(5);
  int matches = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = good;
    if (rnd.OneIn(2)) {
      bad.resize(rnd.Uniform(bad.size()));
    } else {
      bad[rnd.Uniform(bad.size())] ^= static_cast<char>(1 + rnd.Uniform(255));
    }
    FilterBlockReader reader(&policy, bad);
    for (uint64_t off = 0; off < 30000; off += 700) {
      std::string key = "key";
      key.append(std::to_string(off));
      matches += reader.KeyMayMatch(off, key) ? 1 : 0;
    }
  }
  EXPECT_GT(matches, 0);
}

}  // namespace
}  // namespace ldb
