#include "ldb/write_batch.h"

#include <string>

#include "db/dbformat.h"
#include "db/memtable.h"
#include "db/write_batch_internal.h"
#include "gtest/gtest.h"
#include "util/coding.h"

namespace ldb {
namespace {

// Applies the batch to a fresh memtable and prints its contents in memtable
// order, e.g. "Put(a, va)@100|Delete(b)@101|". On failure "ParseError(...)".
std::string PrintContents(const WriteBatch* batch) {
  InternalKeyComparator icmp(BytewiseComparator());
  auto* mem = new MemTable(icmp);
  mem->Ref();
  std::string state;
  Status s = WriteBatchInternal::InsertInto(batch, mem);
  int count = 0;
  auto iter = mem->NewIterator();
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
    ParsedInternalKey ikey;
    EXPECT_TRUE(ParseInternalKey(iter->key(), &ikey));
    if (ikey.type == kTypeValue) {
      state.append("Put(").append(ikey.user_key.data(), ikey.user_key.size());
      state.append(", ").append(iter->value().data(), iter->value().size());
      state.append(")");
    } else {
      state.append("Delete(")
          .append(ikey.user_key.data(), ikey.user_key.size())
          .append(")");
    }
    state.append("@").append(std::to_string(ikey.sequence)).append("|");
    count++;
  }
  iter.reset();
  if (!s.ok()) {
    state.append("ParseError(").append(s.ToString()).append(")");
  } else if (count != WriteBatchInternal::Count(batch)) {
    state += "CountMismatch()";
  }
  mem->Unref();
  return state;
}

// Records handler calls in batch order.
class Recorder : public WriteBatch::Handler {
 public:
  void Put(const Slice& key, const Slice& value) override {
    log += "Put(" + key.ToString() + "," + value.ToString() + ")";
  }
  void Delete(const Slice& key) override {
    log += "Delete(" + key.ToString() + ")";
  }
  std::string log;
};

TEST(WriteBatchTest, Empty) {
  WriteBatch batch;
  EXPECT_EQ("", PrintContents(&batch));
  EXPECT_EQ(0, batch.Count());
  EXPECT_EQ(0, WriteBatchInternal::Count(&batch));
  EXPECT_EQ(WriteBatchInternal::kHeader, batch.ApproximateSize());
  Recorder r;
  EXPECT_TRUE(batch.Iterate(&r).ok());
  EXPECT_EQ("", r.log);
}

TEST(WriteBatchTest, Multiple) {
  WriteBatch batch;
  batch.Put(Slice("foo"), Slice("bar"));
  batch.Delete(Slice("box"));
  batch.Put(Slice("baz"), Slice("boo"));
  WriteBatchInternal::SetSequence(&batch, 100);
  EXPECT_EQ(100u, WriteBatchInternal::Sequence(&batch));
  EXPECT_EQ(3, batch.Count());
  EXPECT_EQ("Put(baz, boo)@102|Delete(box)@101|Put(foo, bar)@100|",
            PrintContents(&batch));
  Recorder r;
  EXPECT_TRUE(batch.Iterate(&r).ok());
  EXPECT_EQ("Put(foo,bar)Delete(box)Put(baz,boo)", r.log);
}

TEST(WriteBatchTest, ExactEncoding) {
  WriteBatch batch;
  WriteBatchInternal::SetSequence(&batch, 0x0102030405060708ull);
  batch.Put("k", "vv");
  batch.Delete("d");
  std::string expected;
  PutFixed64(&expected, 0x0102030405060708ull);
  PutFixed32(&expected, 2);
  expected += std::string("\x01\x01k\x02vv", 6);
  expected += std::string(
      "\x00\x01"
      "d",
      3);
  EXPECT_EQ(expected, WriteBatchInternal::Contents(&batch).ToString());
  EXPECT_EQ(expected.size(), WriteBatchInternal::ByteSize(&batch));
}

TEST(WriteBatchTest, RoundTripThroughContents) {
  WriteBatch batch;
  batch.Put("a", std::string(1000, 'x'));
  batch.Delete("");
  batch.Put("", "");
  WriteBatchInternal::SetSequence(&batch, 7);

  WriteBatch copy;
  ASSERT_TRUE(WriteBatchInternal::SetContents(
                  &copy, WriteBatchInternal::Contents(&batch))
                  .ok());
  EXPECT_EQ(3, copy.Count());
  EXPECT_EQ(7u, WriteBatchInternal::Sequence(&copy));
  EXPECT_EQ(PrintContents(&batch), PrintContents(&copy));

  WriteBatch assigned;
  assigned = batch;
  EXPECT_EQ(PrintContents(&batch), PrintContents(&assigned));
}

TEST(WriteBatchTest, Clear) {
  WriteBatch batch;
  batch.Put("a", "b");
  WriteBatchInternal::SetSequence(&batch, 55);
  batch.Clear();
  EXPECT_EQ(0, batch.Count());
  EXPECT_EQ(0u, WriteBatchInternal::Sequence(&batch));
  EXPECT_EQ(WriteBatchInternal::kHeader, batch.ApproximateSize());
  batch.Put("c", "d");
  EXPECT_EQ("Put(c, d)@0|", PrintContents(&batch));
}

TEST(WriteBatchTest, Append) {
  WriteBatch b1, b2;
  WriteBatchInternal::SetSequence(&b1, 200);
  WriteBatchInternal::SetSequence(&b2, 300);
  b1.Append(b2);
  EXPECT_EQ("", PrintContents(&b1));
  b2.Put("a", "va");
  b1.Append(b2);
  EXPECT_EQ("Put(a, va)@200|", PrintContents(&b1));
  b2.Clear();
  b2.Put("b", "vb");
  b1.Append(b2);
  EXPECT_EQ("Put(a, va)@200|Put(b, vb)@201|", PrintContents(&b1));
  b2.Delete("foo");
  b1.Append(b2);
  EXPECT_EQ("Put(a, va)@200|Put(b, vb)@202|Put(b, vb)@201|Delete(foo)@203|",
            PrintContents(&b1));
  EXPECT_EQ(4, b1.Count());
  EXPECT_EQ(200u, WriteBatchInternal::Sequence(&b1));

  // Appending a batch to itself doubles it.
  WriteBatch self;
  self.Put("x", "1");
  self.Delete("y");
  self.Append(self);
  EXPECT_EQ(4, self.Count());
  Recorder r;
  ASSERT_TRUE(self.Iterate(&r).ok());
  EXPECT_EQ("Put(x,1)Delete(y)Put(x,1)Delete(y)", r.log);
}

TEST(WriteBatchTest, ApproximateSize) {
  WriteBatch batch;
  const size_t empty_size = batch.ApproximateSize();
  batch.Put(Slice("foo"), Slice("bar"));
  const size_t one_key_size = batch.ApproximateSize();
  EXPECT_LT(empty_size, one_key_size);
  batch.Put(Slice("baz"), Slice("boo"));
  const size_t two_keys_size = batch.ApproximateSize();
  EXPECT_LT(one_key_size, two_keys_size);
  batch.Delete(Slice("box"));
  const size_t post_delete_size = batch.ApproximateSize();
  EXPECT_LT(two_keys_size, post_delete_size);
}

TEST(WriteBatchTest, SetContentsTooSmall) {
  WriteBatch batch;
  Status s = WriteBatchInternal::SetContents(&batch, Slice("short"));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  s = WriteBatchInternal::SetContents(&batch, Slice(""));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // The batch is untouched and usable.
  EXPECT_EQ(0, batch.Count());
}

// Every truncation of a valid batch is Corruption and applies nothing.
TEST(WriteBatchTest, TruncatedRepIsCorruption) {
  WriteBatch batch;
  batch.Put("key1", "value1");
  batch.Delete("key2");
  batch.Put("k3", std::string(300, 'v'));  // two-byte varint length
  const std::string full = WriteBatchInternal::Contents(&batch).ToString();
  for (size_t len = WriteBatchInternal::kHeader; len < full.size(); len++) {
    WriteBatch damaged;
    ASSERT_TRUE(
        WriteBatchInternal::SetContents(&damaged, Slice(full.data(), len))
            .ok());
    Recorder r;
    Status s = damaged.Iterate(&r);
    ASSERT_TRUE(s.IsCorruption()) << len << " " << s.ToString();
    EXPECT_EQ("", r.log) << len;
  }
}

TEST(WriteBatchTest, BadTagIsCorruption) {
  WriteBatch batch;
  batch.Put("a", "b");
  std::string rep = WriteBatchInternal::Contents(&batch).ToString();
  rep[WriteBatchInternal::kHeader] = 0x7;  // not a value type
  WriteBatch damaged;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&damaged, rep).ok());
  Recorder r;
  Status s = damaged.Iterate(&r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ("", r.log);
  EXPECT_NE(std::string::npos, PrintContents(&damaged).find("ParseError"));
}

TEST(WriteBatchTest, CountMismatchIsCorruption) {
  WriteBatch batch;
  batch.Put("foo", "bar");
  batch.Delete("box");
  for (int count : {0, 1, 3, 1000}) {
    WriteBatch damaged = batch;
    WriteBatchInternal::SetCount(&damaged, count);
    Recorder r;
    Status s = damaged.Iterate(&r);
    EXPECT_TRUE(s.IsCorruption()) << count << " " << s.ToString();
    EXPECT_EQ("", r.log);
    // InsertInto adds nothing to the memtable either.
    EXPECT_EQ(0u, PrintContents(&damaged).find("ParseError"));
  }
}

// Random garbage after the header never crashes.
TEST(WriteBatchTest, GarbageNeverCrashes) {
  uint32_t x = 12345;
  for (int i = 0; i < 2000; i++) {
    std::string rep(WriteBatchInternal::kHeader, '\0');
    const int len = static_cast<int>(x % 40);
    for (int j = 0; j < len; j++) {
      x = x * 1103515245u + 12345u;
      rep.push_back(static_cast<char>(x >> 16));
    }
    EncodeFixed32(&rep[8], x % 4);
    WriteBatch batch;
    ASSERT_TRUE(WriteBatchInternal::SetContents(&batch, rep).ok());
    Recorder r;
    batch.Iterate(&r).IgnoreError();
  }
}

}  // namespace
}  // namespace ldb
