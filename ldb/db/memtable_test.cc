#include "db/memtable.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "db/dbformat.h"
#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

// prefix followed by the decimal number (avoids a GCC 12 -Wrestrict false
// positive on "literal" + std::to_string(...)).
std::string Cat(const char* prefix, uint64_t n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

class MemTableTest : public testing::Test {
 protected:
  MemTableTest() : icmp_(BytewiseComparator()), mem_(new MemTable(icmp_)) {
    mem_->Ref();
  }
  ~MemTableTest() override { mem_->Unref(); }

  // "v:<value>@<seq>", "del@<seq>" or "none".
  std::string Get(const std::string& key, SequenceNumber seq) {
    LookupKey lkey(key, seq);
    std::string value = "untouched";
    Status s;
    SequenceNumber found = 12345;
    if (!mem_->Get(lkey, &value, &s, &found)) {
      EXPECT_EQ("untouched", value);
      return "none";
    }
    if (s.ok()) {
      return "v:" + value + Cat("@", found);
    }
    EXPECT_TRUE(s.IsNotFound()) << s.ToString();
    return Cat("del@", found);
  }

  InternalKeyComparator icmp_;
  MemTable* mem_;  // owned through its reference count
};

TEST_F(MemTableTest, EmptyGetAndIterate) {
  EXPECT_EQ("none", Get("a", 100));
  EXPECT_EQ(0u, mem_->NumEntries());
  auto iter = mem_->NewIterator();
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  iter->SeekToLast();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().ok());
}

TEST_F(MemTableTest, GetHonorsSequenceAndDeletions) {
  mem_->Add(1, kTypeValue, "a", "v1");
  mem_->Add(3, kTypeValue, "a", "v3");
  mem_->Add(5, kTypeDeletion, "a", "");
  mem_->Add(7, kTypeValue, "a", "v7");
  mem_->Add(2, kTypeValue, "ab", "x2");
  mem_->Add(4, kTypeValue, "", "empty-key");
  mem_->Add(6, kTypeValue, "b", "");
  EXPECT_EQ(7u, mem_->NumEntries());

  EXPECT_EQ("none", Get("a", 0));
  EXPECT_EQ("v:v1@1", Get("a", 1));
  EXPECT_EQ("v:v1@1", Get("a", 2));
  EXPECT_EQ("v:v3@3", Get("a", 3));
  EXPECT_EQ("v:v3@3", Get("a", 4));
  EXPECT_EQ("del@5", Get("a", 5));
  EXPECT_EQ("del@5", Get("a", 6));
  EXPECT_EQ("v:v7@7", Get("a", 7));
  EXPECT_EQ("v:v7@7", Get("a", kMaxSequenceNumber));

  // A key that is a prefix of, or extends, another is not confused with it.
  EXPECT_EQ("none", Get("ab", 1));
  EXPECT_EQ("v:x2@2", Get("ab", 2));
  EXPECT_EQ("none", Get("aa", 100));
  EXPECT_EQ("none", Get("abc", 100));
  EXPECT_EQ("v:empty-key@4", Get("", 100));
  EXPECT_EQ("v:@6", Get("b", 100));  // empty value
  EXPECT_EQ("none", Get("c", 100));
}

TEST_F(MemTableTest, LargeValuesAndMemoryUsage) {
  const size_t before = mem_->ApproximateMemoryUsage();
  const std::string big(100000, 'x');
  mem_->Add(10, kTypeValue, "big", big);
  const std::string long_key(5000, 'k');
  mem_->Add(11, kTypeValue, long_key, "short");
  EXPECT_GE(mem_->ApproximateMemoryUsage(), before + big.size() + 5000);

  LookupKey lkey("big", 10);
  std::string value;
  Status s;
  ASSERT_TRUE(mem_->Get(lkey, &value, &s));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(big, value);
  EXPECT_EQ("v:short@11", Get(long_key, 20));
}

TEST_F(MemTableTest, IteratorYieldsInternalKeysInOrder) {
  Random rnd(17);
  struct Entry {
    std::string internal_key;
    std::string value;
  };
  std::vector<Entry> entries;
  SequenceNumber seq = 1;
  for (int i = 0; i < 2000; i++) {
    std::string user_key = Cat("k", rnd.Uniform(300));
    const ValueType type = rnd.OneIn(4) ? kTypeDeletion : kTypeValue;
    std::string value = type == kTypeValue ? Cat("value", rnd.Next()) : "";
    mem_->Add(seq, type, user_key, value);
    std::string ikey;
    AppendInternalKey(&ikey, ParsedInternalKey(user_key, seq, type));
    entries.push_back({ikey, value});
    seq++;
  }
  std::sort(entries.begin(), entries.end(),
            [&](const Entry& a, const Entry& b) {
              return icmp_.Compare(a.internal_key, b.internal_key) < 0;
            });

  auto iter = mem_->NewIterator();
  size_t i = 0;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next(), i++) {
    ASSERT_LT(i, entries.size());
    EXPECT_EQ(entries[i].internal_key, iter->key().ToString());
    EXPECT_EQ(entries[i].value, iter->value().ToString());
  }
  EXPECT_EQ(entries.size(), i);

  // Backwards.
  i = entries.size();
  for (iter->SeekToLast(); iter->Valid(); iter->Prev()) {
    ASSERT_GT(i, 0u);
    i--;
    EXPECT_EQ(entries[i].internal_key, iter->key().ToString());
  }
  EXPECT_EQ(0u, i);

  // Seek lands on the first internal key >= target.
  for (int j = 0; j < 200; j++) {
    std::string target;
    AppendInternalKey(&target,
                      ParsedInternalKey(Cat("k", rnd.Uniform(300)),
                                        rnd.Uniform(2100), kValueTypeForSeek));
    auto it = std::lower_bound(entries.begin(), entries.end(), target,
                               [&](const Entry& e, const std::string& t) {
                                 return icmp_.Compare(e.internal_key, t) < 0;
                               });
    iter->Seek(target);
    if (it == entries.end()) {
      EXPECT_FALSE(iter->Valid());
    } else {
      ASSERT_TRUE(iter->Valid());
      EXPECT_EQ(it->internal_key, iter->key().ToString());
      EXPECT_EQ(it->value, iter->value().ToString());
    }
  }
}

// Get agrees with a model for random contents and random snapshots.
TEST_F(MemTableTest, GetMatchesModel) {
  Random rnd(99);
  // user key -> (seq -> value or nullopt-as-deletion marker)
  std::map<std::string, std::map<SequenceNumber, std::pair<bool, std::string>>>
      model;
  for (SequenceNumber seq = 1; seq <= 3000; seq++) {
    const std::string key = Cat("key", rnd.Uniform(100));
    const bool is_value = !rnd.OneIn(3);
    const std::string value = is_value ? std::to_string(seq * 7) : "";
    mem_->Add(seq, is_value ? kTypeValue : kTypeDeletion, key, value);
    model[key][seq] = {is_value, value};
  }
  for (int i = 0; i < 3000; i++) {
    const std::string key = Cat("key", rnd.Uniform(110));
    const SequenceNumber snap = rnd.Uniform(3100);
    std::string expected = "none";
    auto mit = model.find(key);
    if (mit != model.end()) {
      auto vit = mit->second.upper_bound(snap);
      if (vit != mit->second.begin()) {
        --vit;
        expected = vit->second.first ? "v:" + vit->second.second + "@" +
                                           std::to_string(vit->first)
                                     : Cat("del@", vit->first);
      }
    }
    ASSERT_EQ(expected, Get(key, snap)) << key << " @ " << snap;
  }
}

TEST(MemTableRefTest, RefCountingDeletesAtZero) {
  InternalKeyComparator icmp(BytewiseComparator());
  auto* mem = new MemTable(icmp);
  mem->Ref();
  mem->Ref();
  mem->Add(1, kTypeValue, "k", "v");
  mem->Unref();
  // Still alive: one reference left.
  EXPECT_EQ(1u, mem->NumEntries());
  auto iter = mem->NewIterator();
  iter->SeekToFirst();
  EXPECT_TRUE(iter->Valid());
  iter.reset();
  mem->Unref();  // deleted here; ASAN/valgrind would catch a leak or misuse
}

}  // namespace
}  // namespace ldb
