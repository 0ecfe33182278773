// VersionEdit encoding: round trips and damaged input.
#include "db/version_edit.h"

#include <string>

#include "gtest/gtest.h"
#include "util/coding.h"

namespace ldb {
namespace {

// Encodes, decodes and re-encodes; both encodings must be identical.
void TestEncodeDecode(const VersionEdit& edit) {
  std::string encoded;
  std::string encoded2;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  Status s = parsed.DecodeFrom(encoded);
  ASSERT_TRUE(s.ok()) << s.ToString();
  parsed.EncodeTo(&encoded2);
  ASSERT_EQ(encoded, encoded2);
}

VersionEdit MakeFullEdit(int n) {
  VersionEdit edit;
  constexpr uint64_t kBig = 1ull << 50;
  for (int i = 0; i < n; ++i) {
    TestEncodeDecode(edit);
    edit.AddFile(3, kBig + 300 + i, kBig + 400 + i,
                 InternalKey("foo", kBig + 500 + i, kTypeValue),
                 InternalKey("zoo", kBig + 600 + i, kTypeDeletion),
                 kBig + 700 + i);
    edit.RemoveFile(4, kBig + 700 + i);
    edit.SetCompactPointer(i % config::kNumLevels,
                           InternalKey("x", kBig + 900 + i, kTypeValue));
  }
  edit.SetComparatorName("foo");
  edit.SetLogNumber(kBig + 100);
  edit.SetPrevLogNumber(kBig + 99);
  edit.SetNextFile(kBig + 200);
  edit.SetLastSequence(kBig + 1000);
  return edit;
}

TEST(VersionEditTest, EncodeDecode) {
  VersionEdit edit = MakeFullEdit(4);
  TestEncodeDecode(edit);
}

TEST(VersionEditTest, EmptyEditRoundTrips) {
  VersionEdit edit;
  std::string encoded;
  edit.EncodeTo(&encoded);
  EXPECT_TRUE(encoded.empty());
  VersionEdit parsed;
  ASSERT_TRUE(parsed.DecodeFrom(encoded).ok());
  EXPECT_FALSE(parsed.has_comparator());
  EXPECT_FALSE(parsed.has_log_number());
  EXPECT_TRUE(parsed.new_files().empty());
}

TEST(VersionEditTest, FieldsSurviveRoundTrip) {
  VersionEdit edit;
  edit.SetComparatorName("tessera.bitcmp");
  edit.SetLogNumber(17);
  edit.SetPrevLogNumber(16);
  edit.SetNextFile(42);
  edit.SetLastSequence(123456789);
  edit.SetCompactPointer(2, InternalKey("mid", 77, kTypeValue));
  edit.RemoveFile(1, 9);
  edit.AddFile(0, 31, 4096, InternalKey("a", 5, kTypeValue),
               InternalKey("m", 9, kTypeDeletion), 11);
  edit.AddFile(2, 33, 8192, InternalKey("n", 1, kTypeValue),
               InternalKey("z", 2, kTypeValue), 0);

  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  ASSERT_TRUE(parsed.DecodeFrom(encoded).ok());

  EXPECT_EQ("tessera.bitcmp", parsed.comparator());
  EXPECT_EQ(17u, parsed.log_number());
  EXPECT_EQ(16u, parsed.prev_log_number());
  EXPECT_EQ(42u, parsed.next_file_number());
  EXPECT_EQ(123456789u, parsed.last_sequence());
  ASSERT_EQ(1u, parsed.compact_pointers().size());
  EXPECT_EQ(2, parsed.compact_pointers()[0].first);
  EXPECT_EQ("mid", parsed.compact_pointers()[0].second.user_key().ToString());
  ASSERT_EQ(1u, parsed.deleted_files().size());
  EXPECT_EQ(std::make_pair(1, uint64_t{9}), *parsed.deleted_files().begin());

  ASSERT_EQ(2u, parsed.new_files().size());
  const auto& [level0, f0] = parsed.new_files()[0];
  EXPECT_EQ(0, level0);
  EXPECT_EQ(31u, f0.number);
  EXPECT_EQ(4096u, f0.file_size);
  EXPECT_EQ("a", f0.smallest.user_key().ToString());
  EXPECT_EQ("m", f0.largest.user_key().ToString());
  EXPECT_EQ(11u, f0.max_sequence);
  const auto& [level1, f1] = parsed.new_files()[1];
  EXPECT_EQ(2, level1);
  EXPECT_EQ(33u, f1.number);
  EXPECT_EQ(0u, f1.max_sequence);  // 0 is a real value, not "unknown"
}

TEST(VersionEditTest, UnknownMaxSequenceStaysUnknown) {
  VersionEdit edit;
  edit.AddFile(1, 5, 100, InternalKey("a", 1, kTypeValue),
               InternalKey("b", 2, kTypeValue), kMaxSequenceNumber);
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  ASSERT_TRUE(parsed.DecodeFrom(encoded).ok());
  ASSERT_EQ(1u, parsed.new_files().size());
  EXPECT_EQ(kMaxSequenceNumber, parsed.new_files()[0].second.max_sequence);
}

TEST(VersionEditTest, EveryTruncationIsCorruption) {
  VersionEdit edit = MakeFullEdit(3);
  std::string encoded;
  edit.EncodeTo(&encoded);
  // Every proper prefix either decodes (it ends exactly between fields) or
  // reports Corruption; it never crashes. Prefixes cut inside a field must
  // be Corruption.
  int corrupt = 0;
  for (size_t len = 0; len < encoded.size(); ++len) {
    VersionEdit parsed;
    Status s = parsed.DecodeFrom(Slice(encoded.data(), len));
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      ++corrupt;
    }
  }
  EXPECT_GT(corrupt, static_cast<int>(encoded.size()) / 2);
  // A cut in the middle of the last field (the last sequence varint).
  VersionEdit parsed;
  Status s = parsed.DecodeFrom(Slice(encoded.data(), encoded.size() - 1));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(VersionEditTest, UnknownTagIsCorruption) {
  std::string encoded;
  PutVarint32(&encoded, 2);  // log number
  PutVarint64(&encoded, 7);
  PutVarint32(&encoded, 99);  // no such tag
  PutVarint64(&encoded, 1);
  VersionEdit parsed;
  Status s = parsed.DecodeFrom(encoded);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("unknown tag"));
}

TEST(VersionEditTest, GarbageIsCorruption) {
  // A tag varint that never ends.
  VersionEdit parsed;
  EXPECT_TRUE(parsed.DecodeFrom(std::string(8, '\xff')).IsCorruption());
  // Bad level in a deleted-file entry.
  std::string bad_level;
  PutVarint32(&bad_level, 6);
  PutVarint32(&bad_level, config::kNumLevels);
  PutVarint64(&bad_level, 3);
  EXPECT_TRUE(parsed.DecodeFrom(bad_level).IsCorruption());
  // A new-file entry whose key is too short to be an internal key.
  std::string short_key;
  PutVarint32(&short_key, 7);
  PutVarint32(&short_key, 0);
  PutVarint64(&short_key, 5);
  PutVarint64(&short_key, 100);
  PutLengthPrefixedSlice(&short_key, "abc");
  PutLengthPrefixedSlice(&short_key, "abc");
  EXPECT_TRUE(parsed.DecodeFrom(short_key).IsCorruption());
  // A max-sequence entry for a file the edit does not add.
  std::string orphan;
  PutVarint32(&orphan, 10);
  PutVarint64(&orphan, 5);
  PutVarint64(&orphan, 100);
  EXPECT_TRUE(parsed.DecodeFrom(orphan).IsCorruption());
}

TEST(VersionEditTest, DebugStringMentionsFiles) {
  VersionEdit edit = MakeFullEdit(1);
  const std::string debug = edit.DebugString();
  EXPECT_NE(std::string::npos, debug.find("AddFile"));
  EXPECT_NE(std::string::npos, debug.find("RemoveFile"));
  EXPECT_NE(std::string::npos, debug.find("Comparator: foo"));
}

}  // namespace
}  // namespace ldb
