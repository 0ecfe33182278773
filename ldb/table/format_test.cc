#include "table/format.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <cstdint>
#include <string>

#include "table/table_testutil.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace ldb {
namespace {

using table_test::StringSource;

TEST(FormatTest, BlockHandleRoundTrip) {
  const uint64_t values[] = {
      0, 1, 127, 128, 1u << 20, (1ull << 32) + 7, UINT64_MAX - 1, UINT64_MAX};
  for (uint64_t offset : values) {
    for (uint64_t size : values) {
      std::string encoded;
      BlockHandle(offset, size).EncodeTo(&encoded);
      EXPECT_LE(encoded.size(), BlockHandle::kMaxEncodedLength);
      encoded.append("tail");
      Slice input(encoded);
      BlockHandle decoded;
      ASSERT_TRUE(decoded.DecodeFrom(&input).ok());
      EXPECT_EQ(offset, decoded.offset());
      EXPECT_EQ(size, decoded.size());
      EXPECT_EQ("tail", input.ToString());
    }
  }
}

TEST(FormatTest, TruncatedBlockHandle) {
  std::string encoded;
  BlockHandle(1ull << 40, 1ull << 33).EncodeTo(&encoded);
  for (size_t len = 0; len < encoded.size(); ++len) {
    Slice input(encoded.data(), len);
    BlockHandle decoded;
    EXPECT_TRUE(decoded.DecodeFrom(&input).IsCorruption()) << len;
  }
}

TEST(FormatTest, FooterRoundTrip) {
  Footer footer;
  footer.set_metaindex_handle(BlockHandle(12345, 678));
  footer.set_index_handle(BlockHandle(UINT64_MAX, UINT64_MAX));
  std::string encoded;
  footer.EncodeTo(&encoded);
  ASSERT_EQ(Footer::kEncodedLength, encoded.size());
  EXPECT_EQ(48u, encoded.size());
  EXPECT_EQ(kTableMagicNumber, DecodeFixed64(encoded.data() + 40));
  EXPECT_EQ("elbatbdl", encoded.substr(40));  // "ldbtable", little-endian

  Footer decoded;
  Slice input(encoded);
  ASSERT_TRUE(decoded.DecodeFrom(&input).ok());
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(12345u, decoded.metaindex_handle().offset());
  EXPECT_EQ(678u, decoded.metaindex_handle().size());
  EXPECT_EQ(UINT64_MAX, decoded.index_handle().offset());
  EXPECT_EQ(UINT64_MAX, decoded.index_handle().size());
}

TEST(FormatTest, FooterBadMagic) {
  Footer footer;
  std::string encoded;
  footer.EncodeTo(&encoded);
  encoded[45] ^= 1;
  Footer decoded;
  Slice input(encoded);
  Status s = decoded.DecodeFrom(&input);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("bad magic number"));
}

TEST(FormatTest, FooterTooShort) {
  Footer footer;
  std::string encoded;
  footer.EncodeTo(&encoded);
  Slice input(encoded.data(), encoded.size() - 1);
  Footer decoded;
  EXPECT_TRUE(decoded.DecodeFrom(&input).IsCorruption());
}

TEST(FormatTest, FooterDamagedHandle) {
  std::string encoded(40, '\xff');  // varints that never end
  PutFixed64(&encoded, kTableMagicNumber);
  Footer decoded;
  Slice input(encoded);
  EXPECT_TRUE(decoded.DecodeFrom(&input).IsCorruption());
}

// Appends contents plus its trailer to *file; returns its handle.
BlockHandle AppendBlock(std::string* file, const Slice& contents,
                        unsigned char type) {
  BlockHandle handle(file->size(), contents.size());
  file->append(contents.data(), contents.size());
  char trailer[kBlockTrailerSize];
  trailer[0] = static_cast<char>(type);
  uint32_t crc = crc32c::Value(contents.data(), contents.size());
  crc = crc32c::Extend(crc, trailer, 1);
  EncodeFixed32(trailer + 1, crc32c::Mask(crc));
  file->append(trailer, sizeof(trailer));
  return handle;
}

ReadOptions Verify(bool verify) {
  ReadOptions options;
  options.verify_checksums = verify;
  return options;
}

TEST(FormatTest, ReadBlockPlainAndSnappy) {
  std::string file = "prefix";
  const std::string plain = "hello block";
  const BlockHandle h1 = AppendBlock(&file, plain, kNoCompression);
  const std::string raw(1000, 'x');
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  const BlockHandle h2 = AppendBlock(&file, compressed, kSnappyCompression);
  StringSource source(file);
  for (bool verify : {false, true}) {
    BlockContents contents;
    ASSERT_TRUE(
        ReadBlock(&source, file.size(), Verify(verify), h1, &contents).ok());
    EXPECT_EQ(plain, contents.data.ToString());
    EXPECT_TRUE(contents.heap_allocated);
    EXPECT_TRUE(contents.cachable);
    ASSERT_TRUE(
        ReadBlock(&source, file.size(), Verify(verify), h2, &contents).ok());
    EXPECT_EQ(raw, contents.data.ToString());
  }
}

TEST(FormatTest, ReadBlockChecksumMismatch) {
  std::string file;
  const BlockHandle h = AppendBlock(&file, "some block data", kNoCompression);
  file[3] ^= 0x10;
  StringSource source(file);
  BlockContents contents;
  Status s = ReadBlock(&source, file.size(), Verify(true), h, &contents);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("checksum"));
  // Without verification the damage goes unnoticed at this level (the Table
  // always verifies).
  EXPECT_TRUE(
      ReadBlock(&source, file.size(), Verify(false), h, &contents).ok());
}

TEST(FormatTest, ReadBlockUnknownType) {
  std::string file;
  const BlockHandle h = AppendBlock(&file, "data", 7);
  StringSource source(file);
  BlockContents contents;
  EXPECT_TRUE(ReadBlock(&source, file.size(), Verify(true), h, &contents)
                  .IsCorruption());
}

TEST(FormatTest, ReadBlockBadSnappy) {
  std::string file;
  // A length header claiming far more than snappy can expand to.
  std::string bogus;
  PutVarint32(&bogus, 1u << 30);
  bogus.append("abc");
  const BlockHandle h1 = AppendBlock(&file, bogus, kSnappyCompression);
  // A plausible length with garbage after it.
  std::string garbage;
  PutVarint32(&garbage, 20);
  garbage.append("\xff\xff\xff\xff\xff\xff");
  const BlockHandle h2 = AppendBlock(&file, garbage, kSnappyCompression);
  StringSource source(file);
  for (const BlockHandle& h : {h1, h2}) {
    BlockContents contents;
    Status s = ReadBlock(&source, file.size(), Verify(true), h, &contents);
    EXPECT_TRUE(s.IsCorruption());
    EXPECT_NE(std::string::npos,
              s.ToString().find("corrupted compressed block contents"));
  }
}

TEST(FormatTest, ReadBlockOutOfBounds) {
  std::string file;
  AppendBlock(&file, "0123456789", kNoCompression);
  StringSource source(file);
  const uint64_t size = file.size();
  const BlockHandle bad[] = {
      BlockHandle(0, 11),              // trailer runs past the end
      BlockHandle(1, 10),              // same, shifted
      BlockHandle(size, 0),            // no room for the trailer
      BlockHandle(size + 1, 0),        // starts past the end
      BlockHandle(0, UINT64_MAX),      // overflow
      BlockHandle(UINT64_MAX, 10),     // overflow
      BlockHandle(UINT64_MAX - 2, 5),  // overflow
  };
  for (const BlockHandle& h : bad) {
    BlockContents contents;
    EXPECT_TRUE(
        ReadBlock(&source, size, Verify(true), h, &contents).IsCorruption())
        << h.offset() << " " << h.size();
  }
  // The file is shorter than the caller believes: a short read.
  BlockContents contents;
  EXPECT_TRUE(ReadBlock(&source, size + 100, Verify(false), BlockHandle(50, 20),
                        &contents)
                  .IsCorruption());
}

}  // namespace
}  // namespace ldb
