#include "db/db_iter.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "db/dbformat.h"
#include "gtest/gtest.h"
#include "util/coding.h"
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

using Entries = std::vector<std::pair<std::string, std::string>>;

std::string IKey(const std::string& user_key, SequenceNumber seq,
                 ValueType type) {
  std::string k;
  AppendInternalKey(&k, ParsedInternalKey(user_key, seq, type));
  return k;
}

// An iterator over a sorted vector of (internal key, value); ends with the
// given status. Thread-compatible.
class VectorIterator final : public Iterator {
 public:
  VectorIterator(Entries entries, Status status)
      : entries_(std::move(entries)),
        status_(std::move(status)),
        pos_(entries_.size()) {}

  bool Valid() const override { return pos_ < entries_.size(); }
  void SeekToFirst() override { pos_ = 0; }
  void SeekToLast() override {
    pos_ = entries_.empty() ? entries_.size() : entries_.size() - 1;
  }
  void Seek(const Slice& target) override {
    const InternalKeyComparator icmp(BytewiseComparator());
    pos_ = 0;
    while (pos_ < entries_.size() &&
           icmp.Compare(entries_[pos_].first, target) < 0) {
      pos_++;
    }
  }
  void Next() override {
    assert(Valid());
    pos_++;
  }
  void Prev() override {
    assert(Valid());
    pos_ = pos_ == 0 ? entries_.size() : pos_ - 1;
  }
  Slice key() const override { return entries_[pos_].first; }
  Slice value() const override { return entries_[pos_].second; }
  Status status() const override { return status_; }

 private:
  const Entries entries_;
  const Status status_;
  size_t pos_;
};

// Sorts entries in internal-key order and wraps them in a DB iterator.
std::unique_ptr<Iterator> MakeDBIter(Entries entries, SequenceNumber seq,
                                     Status status = Status::OK()) {
  const InternalKeyComparator icmp(BytewiseComparator());
  std::sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
    return icmp.Compare(a.first, b.first) < 0;
  });
  return NewDBIterator(
      BytewiseComparator(),
      std::make_unique<VectorIterator>(std::move(entries), std::move(status)),
      seq);
}

// "k1=v1,k2=v2" walking forward from the first entry.
std::string ScanForward(Iterator* iter) {
  std::string out;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
    if (!out.empty()) out += ",";
    out += iter->key().ToString() + "=" + iter->value().ToString();
  }
  return out;
}

std::string ScanBackward(Iterator* iter) {
  std::string out;
  for (iter->SeekToLast(); iter->Valid(); iter->Prev()) {
    if (!out.empty()) out += ",";
    out += iter->key().ToString() + "=" + iter->value().ToString();
  }
  return out;
}

TEST(DBIterTest, Empty) {
  auto iter = MakeDBIter({}, 100);
  EXPECT_EQ("", ScanForward(iter.get()));
  EXPECT_EQ("", ScanBackward(iter.get()));
  iter->Seek("a");
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().ok());
}

TEST(DBIterTest, SequenceVisibility) {
  Entries e = {
      {IKey("a", 1, kTypeValue), "a1"},  {IKey("a", 3, kTypeValue), "a3"},
      {IKey("a", 5, kTypeDeletion), ""}, {IKey("a", 7, kTypeValue), "a7"},
      {IKey("b", 4, kTypeValue), "b4"},  {IKey("c", 2, kTypeDeletion), ""},
      {IKey("c", 6, kTypeValue), "c6"}};
  const std::map<SequenceNumber, std::string> expected = {
      {0, ""},
      {1, "a=a1"},
      {2, "a=a1"},
      {3, "a=a3"},
      {4, "a=a3,b=b4"},
      {5, "b=b4"},
      {6, "b=b4,c=c6"},
      {7, "a=a7,b=b4,c=c6"},
      {kMaxSequenceNumber, "a=a7,b=b4,c=c6"}};
  for (const auto& [seq, want] : expected) {
    auto iter = MakeDBIter(e, seq);
    EXPECT_EQ(want, ScanForward(iter.get())) << seq;
    // Backward gives the same entries reversed.
    std::string back = ScanBackward(iter.get());
    std::vector<std::string> parts;
    size_t start = 0;
    while (!want.empty() && start <= want.size()) {
      size_t comma = want.find(',', start);
      if (comma == std::string::npos) comma = want.size();
      parts.push_back(want.substr(start, comma - start));
      start = comma + 1;
    }
    std::reverse(parts.begin(), parts.end());
    std::string want_back;
    for (const auto& p : parts) {
      if (!want_back.empty()) want_back += ",";
      want_back += p;
    }
    EXPECT_EQ(want_back, back) << seq;
    EXPECT_TRUE(iter->status().ok());
  }
}

TEST(DBIterTest, DirectionSwitches) {
  Entries e = {
      {IKey("a", 1, kTypeValue), "a1"}, {IKey("b", 2, kTypeValue), "b2"},
      {IKey("b", 3, kTypeValue), "b3"}, {IKey("b", 4, kTypeDeletion), ""},
      {IKey("c", 5, kTypeValue), "c5"}, {IKey("c", 6, kTypeValue), "c6"},
      {IKey("d", 7, kTypeValue), "d7"}};
  auto iter = MakeDBIter(e, 100);
  iter->Seek("b");
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("c", iter->key().ToString());
  EXPECT_EQ("c6", iter->value().ToString());
  iter->Prev();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("a", iter->key().ToString());
  iter->Next();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("c", iter->key().ToString());
  EXPECT_EQ("c6", iter->value().ToString());
  iter->Next();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("d", iter->key().ToString());
  iter->Prev();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("c", iter->key().ToString());
  EXPECT_EQ("c6", iter->value().ToString());
  iter->Prev();
  iter->Prev();
  EXPECT_FALSE(iter->Valid());
  iter->SeekToLast();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("d", iter->key().ToString());
  iter->Next();
  EXPECT_FALSE(iter->Valid());

  // At snapshot 3, "b" is visible with its older value.
  auto snap = MakeDBIter(e, 3);
  snap->Seek("b");
  ASSERT_TRUE(snap->Valid());
  EXPECT_EQ("b3", snap->value().ToString());
  snap->Next();
  EXPECT_FALSE(snap->Valid());
  snap->SeekToLast();
  ASSERT_TRUE(snap->Valid());
  EXPECT_EQ("b", snap->key().ToString());
  EXPECT_EQ("b3", snap->value().ToString());
}

TEST(DBIterTest, CorruptInternalKeyForward) {
  Entries e = {{IKey("a", 1, kTypeValue), "a1"},
               {"bad", "x"},  // too short to be an internal key
               {IKey("c", 2, kTypeValue), "c2"}};
  // "bad" sorts between a and c under the tolerant comparator.
  auto iter = MakeDBIter(e, 100);
  iter->SeekToFirst();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ("a", iter->key().ToString());
  iter->Next();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption()) << iter->status().ToString();
  // The error sticks.
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().IsCorruption());
}

TEST(DBIterTest, CorruptInternalKeyBackward) {
  std::string bad_type = "b";
  PutFixed64(&bad_type, (9ull << 8) | 0x7);  // unknown value type
  Entries e = {{IKey("a", 1, kTypeValue), "a1"},
               {bad_type, "x"},
               {IKey("c", 2, kTypeValue), "c2"}};
  auto iter = MakeDBIter(e, 100);
  // Walking backwards has to look past "c" to know it has no older version,
  // so the damage may surface at once; either way no wrong entry is shown
  // and the walk ends in Corruption.
  std::string seen;
  for (iter->SeekToLast(); iter->Valid(); iter->Prev()) {
    seen += iter->key().ToString() + "=" + iter->value().ToString() + ";";
  }
  EXPECT_TRUE(seen.empty() || seen == "c=c2;") << seen;
  EXPECT_TRUE(iter->status().IsCorruption()) << iter->status().ToString();
}

TEST(DBIterTest, InternalErrorIsPassedThrough) {
  Entries e = {{IKey("a", 1, kTypeValue), "a1"}};
  auto iter = MakeDBIter(e, 100, Status::IOError("disk on fire"));
  EXPECT_TRUE(iter->status().IsIOError());
}

// Random histories compared with a model, for several snapshots, walking in
// both directions with seeks mixed in.
TEST(DBIterTest, RandomizedAgainstModel) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    SCOPED_TRACE(seed);
    Random rnd(seed);
    const int kOps = 400;
    auto random_key = [&]() {
      // Shared prefixes and an empty key.
      static const char* kKeys[] = {"",  "a",  "aa",  "ab",  "b",  "ba", "baa",
                                    "c", "k1", "k10", "k11", "k2", "z"};
      return std::string(kKeys[rnd.Uniform(13)]);
    };
    Entries entries;
    struct Op {
      std::string key;
      SequenceNumber seq;
      bool put;
      std::string value;
    };
    std::vector<Op> ops;
    for (SequenceNumber seq = 1; seq <= kOps; seq++) {
      Op op{random_key(), seq, !rnd.OneIn(3), ""};
      if (op.put) op.value = Cat("v", seq);
      entries.push_back(
          {IKey(op.key, seq, op.put ? kTypeValue : kTypeDeletion), op.value});
      ops.push_back(op);
    }

    for (SequenceNumber snap :
         {SequenceNumber{0}, SequenceNumber{1}, SequenceNumber{17},
          SequenceNumber{100}, SequenceNumber{250}, SequenceNumber{kOps},
          kMaxSequenceNumber}) {
      SCOPED_TRACE(snap);
      std::map<std::string, std::pair<bool, std::string>> latest;
      for (const auto& op : ops) {
        if (op.seq <= snap) latest[op.key] = {op.put, op.value};
      }
      std::map<std::string, std::string> model;
      for (const auto& [k, v] : latest) {
        if (v.first) model[k] = v.second;
      }

      auto iter = MakeDBIter(entries, snap);
      std::string want_fwd, want_back;
      for (const auto& [k, v] : model) {
        if (!want_fwd.empty()) want_fwd += ",";
        want_fwd += k + "=" + v;
      }
      for (auto it = model.rbegin(); it != model.rend(); ++it) {
        if (!want_back.empty()) want_back += ",";
        want_back += it->first + "=" + it->second;
      }
      ASSERT_EQ(want_fwd, ScanForward(iter.get()));
      ASSERT_EQ(want_back, ScanBackward(iter.get()));

      // Random walk.
      auto mit = model.end();
      for (int step = 0; step < 2000; step++) {
        const uint32_t action = rnd.Uniform(10);
        const bool valid = mit != model.end();
        if (action == 0) {
          iter->SeekToFirst();
          mit = model.begin();
        } else if (action == 1) {
          iter->SeekToLast();
          mit = model.empty() ? model.end() : std::prev(model.end());
        } else if (action == 2) {
          std::string target = random_key();
          if (rnd.OneIn(2)) target += "0";  // between existing keys
          iter->Seek(target);
          mit = model.lower_bound(target);
        } else if (!valid) {
          continue;
        } else if (action < 6) {
          iter->Next();
          ++mit;
        } else {
          iter->Prev();
          mit = mit == model.begin() ? model.end() : std::prev(mit);
        }
        ASSERT_EQ(mit != model.end(), iter->Valid()) << "step " << step;
        if (iter->Valid()) {
          ASSERT_EQ(mit->first, iter->key().ToString()) << "step " << step;
          ASSERT_EQ(mit->second, iter->value().ToString()) << "step " << step;
        }
        ASSERT_TRUE(iter->status().ok());
      }
    }
  }
}

}  // namespace
}  // namespace ldb
