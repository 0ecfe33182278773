// Tests of the WAL / MANIFEST record format: log::Writer and log::Reader over
// in-memory files.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "db/log_format.h"
#include "db/log_reader.h"
#include "db/log_writer.h"
#include "gtest/gtest.h"
#include "ldb/env.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/random.h"

namespace ldb::log {
namespace {

// "partial" repeated up to n bytes.
std::string BigString(const std::string& partial, size_t n) {
  std::string result;
  while (result.size() < n) result.append(partial);
  result.resize(n);
  return result;
}

std::string NumberString(int n) { return std::to_string(n) + "."; }

// An appendable string. Thread-compatible.
class StringDest : public WritableFile {
 public:
  Status Append(const Slice& slice) override {
    contents.append(slice.data(), slice.size());
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  Status Flush() override {
    flushes++;
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }

  std::string contents;
  int flushes = 0;
};

// Reads a string; a short read means EOF. Thread-compatible.
class StringSource : public SequentialFile {
 public:
  explicit StringSource(std::string c) : contents(std::move(c)) {}

  Status Read(size_t n, Slice* result, char* scratch) override {
    if (fail_reads) {
      *result = Slice();
      return Status::IOError("injected read error");
    }
    n = std::min(n, contents.size() - pos);
    if (n > 0) std::memcpy(scratch, contents.data() + pos, n);
    *result = Slice(scratch, n);
    pos += n;
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    pos = n > contents.size() - pos ? contents.size() : pos + n;
    return Status::OK();
  }

  std::string contents;
  size_t pos = 0;
  bool fail_reads = false;
};

// Collects reports. Thread-compatible.
class ReportCollector : public Reader::Reporter {
 public:
  void Corruption(size_t bytes, const Status& status) override {
    dropped_bytes += bytes;
    count++;
    message.append(status.ToString());
    message.append(";");
  }
  size_t dropped_bytes = 0;
  int count = 0;
  std::string message;
};

class LogTest : public testing::Test {
 protected:
  LogTest() : writer_(std::make_unique<Writer>(&dest_)) {}

  void Write(const std::string& msg) {
    ASSERT_TRUE(writer_->AddRecord(msg).ok());
  }
  size_t WrittenBytes() const { return dest_.contents.size(); }

  // A new writer continuing the current contents.
  void ReopenWriter() {
    writer_ = std::make_unique<Writer>(&dest_, dest_.contents.size());
  }

  // Appends one hand-made fragment with a correct checksum.
  void EmitRaw(RecordType type, const std::string& payload) {
    char header[kHeaderSize];
    const char t = static_cast<char>(type);
    uint32_t crc =
        crc32c::Extend(crc32c::Value(&t, 1), payload.data(), payload.size());
    EncodeFixed32(header, crc32c::Mask(crc));
    header[4] = static_cast<char>(payload.size() & 0xff);
    header[5] = static_cast<char>(payload.size() >> 8);
    header[6] = t;
    dest_.contents.append(header, kHeaderSize);
    dest_.contents.append(payload);
  }

  // Starts reading (a copy of) what has been written so far.
  void StartReadingAt(uint64_t initial_offset, bool checksum = true) {
    source_ = std::make_unique<StringSource>(dest_.contents);
    report_ = ReportCollector();
    reader_ = std::make_unique<Reader>(source_.get(), &report_, checksum,
                                       initial_offset);
  }

  std::string Read() {
    if (reader_ == nullptr) StartReadingAt(0);
    std::string scratch;
    Slice record;
    if (reader_->ReadRecord(&record, &scratch)) {
      return record.ToString();
    }
    return "EOF";
  }

  void IncrementByte(size_t offset, int delta) {
    dest_.contents[offset] = static_cast<char>(dest_.contents[offset] + delta);
  }
  void SetByte(size_t offset, char new_byte) {
    dest_.contents[offset] = new_byte;
  }
  void ShrinkSize(size_t bytes) {
    dest_.contents.resize(dest_.contents.size() - bytes);
  }
  // Recomputes the checksum of the fragment whose header is at offset.
  void FixChecksum(size_t header_offset, size_t len) {
    uint32_t crc = crc32c::Value(&dest_.contents[header_offset + 6], 1 + len);
    EncodeFixed32(&dest_.contents[header_offset], crc32c::Mask(crc));
  }

  size_t DroppedBytes() const { return report_.dropped_bytes; }
  int ReportCount() const { return report_.count; }
  const std::string& ReportMessage() const { return report_.message; }

  StringDest dest_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<StringSource> source_;
  ReportCollector report_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(LogTest, Empty) {
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, ReadWrite) {
  Write("foo");
  Write("bar");
  Write("");
  Write("xxxx");
  EXPECT_EQ(4, dest_.flushes);  // one flush per record
  EXPECT_EQ("foo", Read());
  EXPECT_EQ(0u, reader_->LastRecordOffset());
  EXPECT_EQ("bar", Read());
  EXPECT_EQ(static_cast<uint64_t>(kHeaderSize + 3),
            reader_->LastRecordOffset());
  EXPECT_EQ("", Read());
  EXPECT_EQ("xxxx", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ("EOF", Read());  // stays at EOF
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, ManyBlocks) {
  for (int i = 0; i < 100000; i++) Write(NumberString(i));
  EXPECT_GT(WrittenBytes(), static_cast<size_t>(10 * kBlockSize));
  for (int i = 0; i < 100000; i++) ASSERT_EQ(NumberString(i), Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, Fragmentation) {
  Write("small");
  Write(BigString("medium", 50000));
  Write(BigString("large", 100000));
  EXPECT_EQ(3, dest_.flushes);
  EXPECT_EQ("small", Read());
  EXPECT_EQ(BigString("medium", 50000), Read());
  EXPECT_EQ(BigString("large", 100000), Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, FragmentTypesOnDisk) {
  Write(BigString("x", 2 * kBlockSize));  // FIRST, MIDDLE, LAST
  const std::string& c = dest_.contents;
  EXPECT_EQ(kFirstType, c[6]);
  EXPECT_EQ(kMiddleType, c[kBlockSize + 6]);
  EXPECT_EQ(kLastType, c[2 * kBlockSize + 6]);
  // 2 * kBlockSize payload + 3 headers, with no trailers.
  EXPECT_EQ(static_cast<size_t>(2 * kBlockSize + 3 * kHeaderSize), c.size());
}

TEST_F(LogTest, RecordExactlyFillsBlock) {
  Write(BigString("a", kBlockSize - kHeaderSize));
  EXPECT_EQ(static_cast<size_t>(kBlockSize), WrittenBytes());
  EXPECT_EQ(kFullType, dest_.contents[6]);
  Write("b");
  EXPECT_EQ(static_cast<size_t>(kBlockSize + kHeaderSize + 1), WrittenBytes());
  EXPECT_EQ(BigString("a", kBlockSize - kHeaderSize), Read());
  EXPECT_EQ("b", Read());
  EXPECT_EQ(static_cast<uint64_t>(kBlockSize), reader_->LastRecordOffset());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

// A first record leaves `trailer` bytes in block 0; 0..6 are zero-filled and
// the next record starts block 1; 7 bytes still take an empty FIRST fragment.
TEST_F(LogTest, BlockTrailers) {
  for (int trailer = 0; trailer <= kHeaderSize; trailer++) {
    SCOPED_TRACE(trailer);
    dest_.contents.clear();
    writer_ = std::make_unique<Writer>(&dest_);
    reader_.reset();
    const std::string first =
        BigString("f", kBlockSize - kHeaderSize - trailer);
    Write(first);
    EXPECT_EQ(static_cast<size_t>(kBlockSize - trailer), WrittenBytes());
    Write("bar");
    Write("");
    if (trailer < kHeaderSize) {
      EXPECT_EQ(std::string(trailer, '\0'),
                dest_.contents.substr(kBlockSize - trailer, trailer));
      EXPECT_EQ(kFullType, dest_.contents[kBlockSize + 6]);
    } else {
      EXPECT_EQ(kFirstType, dest_.contents[kBlockSize - kHeaderSize + 6]);
      EXPECT_EQ(kLastType, dest_.contents[kBlockSize + 6]);
    }
    EXPECT_EQ(static_cast<size_t>(kBlockSize + 2 * kHeaderSize + 3),
              WrittenBytes());
    EXPECT_EQ(first, Read());
    EXPECT_EQ("bar", Read());
    EXPECT_EQ(
        static_cast<uint64_t>(trailer < kHeaderSize ? kBlockSize
                                                    : kBlockSize - kHeaderSize),
        reader_->LastRecordOffset());
    EXPECT_EQ("", Read());
    EXPECT_EQ("EOF", Read());
    EXPECT_EQ(0, ReportCount());
  }
}

TEST_F(LogTest, RandomRecordSizes) {
  Random write_rnd(301);
  for (int i = 0; i < 500; i++) {
    const size_t len = write_rnd.Skewed(17);
    Write(BigString(NumberString(i), len));
  }
  Random read_rnd(301);
  for (int i = 0; i < 500; i++) {
    const size_t len = read_rnd.Skewed(17);
    ASSERT_EQ(BigString(NumberString(i), len), Read()) << i;
  }
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, ChecksumMismatchReportedAndSkipped) {
  Write("foo");                       // [0, 10)
  Write(BigString("x", kBlockSize));  // FIRST in block 0, LAST in block 1
  Write("bar");
  Write("baz");
  IncrementByte(kHeaderSize, 1);  // damage "foo"'s payload
  EXPECT_EQ("bar", Read());
  EXPECT_EQ("baz", Read());
  EXPECT_EQ("EOF", Read());
  // The rest of block 0 (all of it), then the orphaned LAST fragment.
  const size_t last_payload = kBlockSize - (kBlockSize - 10 - kHeaderSize);
  EXPECT_EQ(static_cast<size_t>(kBlockSize) + last_payload, DroppedBytes());
  EXPECT_EQ(2, ReportCount());
  EXPECT_NE(std::string::npos, ReportMessage().find("checksum mismatch"));
  EXPECT_NE(std::string::npos,
            ReportMessage().find("missing start of fragmented record"));
}

TEST_F(LogTest, ChecksumMismatchInHeaderCrcField) {
  Write("foo");
  Write(BigString("y", kBlockSize - 2 * kHeaderSize - 3));  // fills block 0
  Write("bar");
  IncrementByte(0, 1);  // damage the stored crc itself
  EXPECT_EQ("bar", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(static_cast<size_t>(kBlockSize), DroppedBytes());
  EXPECT_EQ(1, ReportCount());
}

TEST_F(LogTest, ChecksumNotVerifiedWhenDisabled) {
  Write("foo");
  IncrementByte(kHeaderSize, 1);
  StartReadingAt(0, /*checksum=*/false);
  EXPECT_EQ("goo", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, UnknownRecordType) {
  Write("foo");
  Write("bar");
  SetByte(6, 100);
  FixChecksum(0, 3);
  EXPECT_EQ("bar", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(static_cast<size_t>(kHeaderSize + 3), DroppedBytes());
  EXPECT_NE(std::string::npos, ReportMessage().find("unknown record type"));
}

TEST_F(LogTest, BadLengthInFullBlock) {
  Write("foo");                                          // [0, 10)
  Write(BigString("x", kBlockSize - 10 - kHeaderSize));  // fills block 0
  Write("bar");                                          // block 1
  ASSERT_EQ(static_cast<size_t>(kBlockSize + kHeaderSize + 3), WrittenBytes());
  SetByte(4, '\xff');
  SetByte(5, '\x7f');  // length 32767 cannot fit in the block
  EXPECT_EQ("bar", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(static_cast<size_t>(kBlockSize), DroppedBytes());
  EXPECT_NE(std::string::npos, ReportMessage().find("bad record length"));
}

TEST_F(LogTest, BadLengthInLastBlockIsTornTail) {
  Write("foo");
  Write("bar");
  SetByte(kHeaderSize + 3 + 4, 4);  // "bar" claims 4 bytes; the file ends
  EXPECT_EQ("foo", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, PartialRecordFollowedByFull) {
  EmitRaw(kFirstType, "ab");
  EmitRaw(kFullType, "cd");
  EmitRaw(kFirstType, "ef");
  EmitRaw(kLastType, "gh");
  EXPECT_EQ("cd", Read());
  EXPECT_EQ(2u, DroppedBytes());
  EXPECT_NE(std::string::npos,
            ReportMessage().find("partial record without end"));
  EXPECT_EQ("efgh", Read());
  EXPECT_EQ(static_cast<uint64_t>(2 * (kHeaderSize + 2)),
            reader_->LastRecordOffset());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(1, ReportCount());
}

TEST_F(LogTest, FirstFollowedByFirst) {
  EmitRaw(kFirstType, "ab");
  EmitRaw(kFirstType, "cd");
  EmitRaw(kMiddleType, "ef");
  EmitRaw(kLastType, "gh");
  EXPECT_EQ("cdefgh", Read());
  EXPECT_EQ(2u, DroppedBytes());
  EXPECT_EQ(1, ReportCount());
  EXPECT_EQ("EOF", Read());
}

TEST_F(LogTest, MissingStartOfFragmentedRecord) {
  EmitRaw(kMiddleType, "ab");
  EmitRaw(kLastType, "cde");
  EmitRaw(kFullType, "f");
  EXPECT_EQ("f", Read());
  EXPECT_EQ(5u, DroppedBytes());
  EXPECT_EQ(2, ReportCount());
  EXPECT_NE(std::string::npos,
            ReportMessage().find("missing start of fragmented record"));
  EXPECT_EQ("EOF", Read());
}

TEST_F(LogTest, ErrorInMiddleOfRecordResyncsAtNextBlock) {
  EmitRaw(kFirstType, "ab");   // [0, 9)
  EmitRaw(kMiddleType, "cd");  // [9, 18)
  EmitRaw(kFullType, BigString("z", kBlockSize - 18 - kHeaderSize));
  ASSERT_EQ(static_cast<size_t>(kBlockSize), WrittenBytes());
  EmitRaw(kLastType, "ef");
  EmitRaw(kFullType, "gh");
  IncrementByte(9 + kHeaderSize, 1);  // damage the MIDDLE payload
  EXPECT_EQ("gh", Read());
  EXPECT_EQ("EOF", Read());
  // Rest of block 0 from the MIDDLE fragment, the partial "ab", the orphaned
  // LAST "ef".
  EXPECT_EQ(static_cast<size_t>(kBlockSize - 9) + 2 + 2, DroppedBytes());
  EXPECT_EQ(3, ReportCount());
  EXPECT_NE(std::string::npos,
            ReportMessage().find("error in middle of record"));
}

// Preallocated space shows up as zeros after the last record.
TEST_F(LogTest, PreallocatedZerosAreSkipped) {
  for (size_t zeros : {size_t{1}, size_t{6}, size_t{7}, size_t{8}, size_t{1000},
                       static_cast<size_t>(3 * kBlockSize + 5)}) {
    SCOPED_TRACE(zeros);
    dest_.contents.clear();
    writer_ = std::make_unique<Writer>(&dest_);
    reader_.reset();
    Write("foo");
    Write("bar");
    dest_.contents.append(zeros, '\0');
    EXPECT_EQ("foo", Read());
    EXPECT_EQ("bar", Read());
    EXPECT_EQ("EOF", Read());
    EXPECT_EQ(0, ReportCount());
  }
}

TEST_F(LogTest, ZeroFilledBlocksThenRecords) {
  Write("foo");
  dest_.contents.resize(kBlockSize, '\0');  // never written, preallocated
  ReopenWriter();
  Write("bar");
  dest_.contents.resize(4 * kBlockSize, '\0');  // whole zero blocks
  ReopenWriter();
  Write(BigString("q", 40000));
  EXPECT_EQ("foo", Read());
  EXPECT_EQ("bar", Read());
  EXPECT_EQ(static_cast<uint64_t>(kBlockSize), reader_->LastRecordOffset());
  EXPECT_EQ(BigString("q", 40000), Read());
  EXPECT_EQ(static_cast<uint64_t>(4 * kBlockSize), reader_->LastRecordOffset());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, ReadErrorIsReportedAndEndsInput) {
  Write("foo");
  StartReadingAt(0);
  source_->fail_reads = true;
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(1, ReportCount());
  EXPECT_NE(std::string::npos, ReportMessage().find("injected read error"));
  EXPECT_EQ("EOF", Read());
}

class LogTornTailTest : public LogTest {
 protected:
  // Truncates the file at every length from the start of the last record to
  // one byte short of the end. Each truncation is a torn tail: all earlier
  // records are read, then EOF, with nothing reported.
  void Check(const std::vector<std::string>& earlier, const std::string& last) {
    for (const auto& r : earlier) Write(r);
    const size_t last_start = WrittenBytes();
    Write(last);
    const std::string full = dest_.contents;
    for (size_t len = last_start; len < full.size(); len++) {
      dest_.contents.assign(full, 0, len);
      StartReadingAt(0);
      for (size_t i = 0; i < earlier.size(); i++) {
        ASSERT_EQ(earlier[i], Read()) << "len " << len << " record " << i;
      }
      ASSERT_EQ("EOF", Read()) << "len " << len;
      ASSERT_EQ(0, ReportCount()) << "len " << len << ": " << ReportMessage();
    }
    // Untruncated, the last record is there.
    dest_.contents = full;
    StartReadingAt(0);
    for (const auto& r : earlier) ASSERT_EQ(r, Read());
    ASSERT_EQ(last, Read());
    ASSERT_EQ("EOF", Read());
    ASSERT_EQ(0, ReportCount());
  }
};

TEST_F(LogTornTailTest, SmallLastRecord) {
  Check({"first", "second"}, "the last record");
}

TEST_F(LogTornTailTest, EmptyLastRecord) { Check({"first"}, ""); }

TEST_F(LogTornTailTest, LastRecordAcrossBlockBoundary) {
  // "first" [0, 12), then a record ending 120 bytes before the block end;
  // the last record's FIRST fragment is in block 0 and its LAST in block 1.
  Check({"first", BigString("mid", kBlockSize - 12 - kHeaderSize - 120)},
        BigString("last", 300));
}

TEST_F(LogTornTailTest, LastRecordAfterTrailer) {
  // Leaves a 3-byte zero trailer in block 0; the last record starts block 1.
  Check({"first", BigString("mid", kBlockSize - 12 - kHeaderSize - 3)},
        "tail record");
}

TEST_F(LogTornTailTest, LastRecordWithMiddleFragment) {
  Check({"a"}, BigString("big", 2 * kBlockSize));
}

TEST_F(LogTest, InitialOffset) {
  const std::vector<size_t> sizes = {10000, 10000, 2 * kBlockSize - 1000,
                                     1,     13716, kBlockSize - kHeaderSize,
                                     0,     5};
  std::vector<std::string> records;
  for (size_t i = 0; i < sizes.size(); i++) {
    records.push_back(BigString(NumberString(static_cast<int>(i)), sizes[i]));
    Write(records.back());
  }
  // Record start offsets, as the reader reports them.
  std::vector<uint64_t> starts;
  StartReadingAt(0);
  for (size_t i = 0; i < records.size(); i++) {
    ASSERT_EQ(records[i], Read());
    starts.push_back(reader_->LastRecordOffset());
  }
  ASSERT_EQ("EOF", Read());

  std::vector<uint64_t> offsets;
  for (uint64_t s : starts) {
    for (int d = -8; d <= 8; d++) {
      if (static_cast<int64_t>(s) + d >= 0) offsets.push_back(s + d);
    }
  }
  for (uint64_t o = 0; o < WrittenBytes() + 100; o += 97) offsets.push_back(o);
  for (int b = 1; b <= 4; b++) {
    for (int d = -8; d <= 8; d++) offsets.push_back(b * kBlockSize + d);
  }

  for (uint64_t offset : offsets) {
    SCOPED_TRACE(offset);
    StartReadingAt(offset);
    size_t first = 0;
    while (first < starts.size() && starts[first] < offset) first++;
    for (size_t i = first; i < records.size(); i++) {
      ASSERT_EQ(records[i], Read()) << "record " << i;
      ASSERT_EQ(starts[i], reader_->LastRecordOffset());
    }
    ASSERT_EQ("EOF", Read());
    ASSERT_EQ(0, ReportCount()) << ReportMessage();
  }
}

TEST_F(LogTest, WriterResumesMidBlock) {
  Write("hello");
  ReopenWriter();
  Write("world");
  Write(BigString("spans", kBlockSize + 100));
  ReopenWriter();
  Write("after");
  EXPECT_EQ("hello", Read());
  EXPECT_EQ("world", Read());
  EXPECT_EQ(BigString("spans", kBlockSize + 100), Read());
  EXPECT_EQ("after", Read());
  EXPECT_EQ("EOF", Read());
  EXPECT_EQ(0, ReportCount());
}

TEST_F(LogTest, WriterResumesWithShortBlockTail) {
  for (int trailer = 0; trailer < kHeaderSize; trailer++) {
    SCOPED_TRACE(trailer);
    dest_.contents.clear();
    writer_ = std::make_unique<Writer>(&dest_);
    reader_.reset();
    // Two blocks in, so dest_length % kBlockSize matters.
    Write(BigString("x", 2 * kBlockSize - 2 * kHeaderSize - trailer));
    ASSERT_EQ(static_cast<size_t>(2 * kBlockSize - trailer), WrittenBytes());
    ReopenWriter();  // must zero-fill the trailer itself
    Write("bar");
    EXPECT_EQ(static_cast<size_t>(2 * kBlockSize + kHeaderSize + 3),
              WrittenBytes());
    EXPECT_EQ(BigString("x", 2 * kBlockSize - 2 * kHeaderSize - trailer),
              Read());
    EXPECT_EQ("bar", Read());
    EXPECT_EQ(static_cast<uint64_t>(2 * kBlockSize),
              reader_->LastRecordOffset());
    EXPECT_EQ("EOF", Read());
    EXPECT_EQ(0, ReportCount());
  }
}

}  // namespace
}  // namespace ldb::log
