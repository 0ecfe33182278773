// EntryBatch and DecodeEntryBatch: entries come back exactly as added (binary keys
// and values, every meta field at its extremes, removed entries, empty values); a
// buffer cut anywhere, or with unknown flag bits, is refused and never read past its
// end; buffers are reused across batches; per-key messages view the same.
#include "migration/entry_batch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tessera::migration {
namespace {

struct Owned {
  uint32_t area, version, expire_at, created, modified;
  std::string key, value;
  bool removed;

  MigratedEntryView View() const {
    return MigratedEntryView{area, key, value, version, expire_at, created, modified, removed};
  }
};

void ExpectSame(const Owned& want, const MigratedEntryView& got) {
  EXPECT_EQ(want.area, got.area);
  EXPECT_EQ(want.key, got.key);
  EXPECT_EQ(want.value, got.value);
  EXPECT_EQ(want.version, got.version);
  EXPECT_EQ(want.expire_at, got.expire_at);
  EXPECT_EQ(want.created, got.created);
  EXPECT_EQ(want.modified, got.modified);
  EXPECT_EQ(want.removed, got.removed);
}

std::vector<Owned> SampleEntries() {
  std::vector<Owned> v;
  v.push_back({0, 1, 0, 1700000000, 1700000001, std::string("k"), std::string("v"), false});
  v.push_back({65535, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0, std::string("\0\xff\x80", 3),
               std::string(1000, '\xab'), false});
  v.push_back({7, 3, 0, 0, 0, std::string(1024, 'k'), std::string(), true});
  v.push_back({127, 128, 5, 6, 7, std::string(200, '\0'), std::string(), false});
  v.push_back({128, 16383, 1, 2, 3, "key", std::string(1 << 20, 'v'), false});
  return v;
}

TEST(EntryBatchTest, EntriesReadBackExactly) {
  const std::vector<Owned> want = SampleEntries();
  EntryBatch batch;
  for (const Owned& o : want) batch.Add(o.View());
  EXPECT_EQ(want.size(), batch.count());
  EXPECT_FALSE(batch.empty());
  std::vector<MigratedEntryView> got;
  ASSERT_TRUE(DecodeEntryBatch(batch.packed(), &got).ok());
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) ExpectSame(want[i], got[i]);
}

TEST(EntryBatchTest, EmptyBufferIsABatchOfNone) {
  std::vector<MigratedEntryView> got(3);
  ASSERT_TRUE(DecodeEntryBatch(std::string_view(), &got).ok());
  EXPECT_TRUE(got.empty());
  EntryBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(0u, batch.bytes());
}

TEST(EntryBatchTest, EveryCutIsRefused) {
  EntryBatch batch;
  for (const Owned& o : SampleEntries()) {
    if (o.value.size() < 4096) batch.Add(o.View());
  }
  const std::string full = batch.packed();
  std::vector<MigratedEntryView> got;
  size_t accepted = 0;
  for (size_t len = 0; len < full.size(); ++len) {
    // A copy of exactly `len` bytes, so a read past the end is caught by ASan and
    // never finds the rest of the entry behind the cut.
    const std::string cut = full.substr(0, len);
    const Status s = DecodeEntryBatch(cut, &got);
    if (s.ok()) {
      ++accepted;  // cut at an entry boundary: a shorter, valid batch
      for (const MigratedEntryView& e : got) {
        EXPECT_GE(e.key.data(), cut.data());
        EXPECT_LE(e.value.data() + e.value.size(), cut.data() + cut.size());
      }
    } else {
      EXPECT_EQ(Code::kInvalidArgument, s.code()) << s.ToString();
      EXPECT_NE(std::string::npos, s.message().find("cut short")) << s.ToString();
    }
  }
  EXPECT_EQ(4u, accepted);  // lengths 0 and the ends of entries 1..3
}

TEST(EntryBatchTest, UnknownFlagBitsAreRefused) {
  EntryBatch batch;
  batch.Add(SampleEntries()[0].View());
  std::string bad = batch.packed();
  bad[0] = static_cast<char>(0x02);
  std::vector<MigratedEntryView> got;
  const Status s = DecodeEntryBatch(bad, &got);
  EXPECT_EQ(Code::kInvalidArgument, s.code());
  EXPECT_NE(std::string::npos, s.message().find("entry 0")) << s.ToString();
}

TEST(EntryBatchTest, RandomBytesNeverReadPastTheEnd) {
  std::mt19937 rng(20261122);
  std::vector<MigratedEntryView> got;
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (DecodeEntryBatch(junk, &got).ok()) {
      for (const MigratedEntryView& e : got) {
        EXPECT_LE(e.value.data() + e.value.size(), junk.data() + junk.size());
      }
    }
  }
}

TEST(EntryBatchTest, TakeAndRecycleReuseOneBuffer) {
  EntryBatch batch;
  const Owned big{1, 1, 0, 0, 0, "key", std::string(100000, 'x'), false};
  batch.Add(big.View());
  const size_t bytes = batch.bytes();
  std::string field;
  batch.TakePacked(&field);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(0u, batch.bytes());
  EXPECT_EQ(bytes, field.size());
  std::vector<MigratedEntryView> got;
  ASSERT_TRUE(DecodeEntryBatch(field, &got).ok());
  ASSERT_EQ(1u, got.size());
  ExpectSame(big, got[0]);

  const char* buffer = field.data();
  batch.Recycle(&field);
  EXPECT_TRUE(field.empty());
  batch.Add(big.View());
  EXPECT_EQ(buffer, batch.packed().data());  // the sent buffer, not a new one
  EXPECT_EQ(1u, batch.count());
  ASSERT_TRUE(DecodeEntryBatch(batch.packed(), &got).ok());
  ExpectSame(big, got[0]);
}

TEST(EntryBatchTest, AReservedBatchFillsInPlace) {
  EntryBatch batch;
  batch.Reserve(300000);
  const char* buffer = batch.packed().data();
  const Owned big{1, 1, 0, 0, 0, "key", std::string(100000, 'x'), false};
  for (int i = 0; i < 2; ++i) batch.Add(big.View());
  EXPECT_EQ(buffer, batch.packed().data());
  EXPECT_EQ(2u, batch.count());
}

TEST(EntryBatchTest, MessagesViewTheSameAsPacked) {
  google::protobuf::RepeatedPtrField<proto::MigratedEntry> messages;
  EntryBatch batch;
  for (const Owned& o : SampleEntries()) {
    proto::MigratedEntry* m = messages.Add();
    m->set_area(o.area);
    m->set_key(o.key);
    m->set_value(o.value);
    m->set_version(o.version);
    m->set_expire_at(o.expire_at);
    m->set_created(o.created);
    m->set_modified(o.modified);
    m->set_removed(o.removed);
    batch.Add(o.View());
  }
  std::vector<MigratedEntryView> from_messages, from_packed;
  ViewEntries(messages, &from_messages);
  ASSERT_TRUE(DecodeEntryBatch(batch.packed(), &from_packed).ok());
  ASSERT_EQ(from_packed.size(), from_messages.size());
  const std::vector<Owned> want = SampleEntries();
  for (size_t i = 0; i < want.size(); ++i) {
    ExpectSame(want[i], from_messages[i]);
    ExpectSame(want[i], from_packed[i]);
  }
}

}  // namespace
}  // namespace tessera::migration
