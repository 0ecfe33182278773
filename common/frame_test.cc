#include "common/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace tessera {
namespace {

std::string Header(uint32_t len) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(len >> 24);
  h[1] = static_cast<char>(len >> 16);
  h[2] = static_cast<char>(len >> 8);
  h[3] = static_cast<char>(len);
  return h;
}

// Feeds `bytes` through the reader in reads of at most `chunk` bytes, as a socket would.
void Feed(FrameReader* r, const std::string& bytes, size_t chunk) {
  size_t done = 0;
  std::string_view unused;
  while (done < bytes.size()) {
    char* p = r->WritableData();
    const size_t n = std::min({chunk, r->WritableSize(), bytes.size() - done});
    std::memcpy(p, bytes.data() + done, n);
    r->Commit(n);
    done += n;
    if (done < bytes.size()) {
      ASSERT_EQ(r->Next(&unused), FrameReader::Result::kNeedMore);
    }
  }
}

// Regression: a 4-byte header claiming a 16 MiB frame made the reader allocate (and
// zero) the whole 16 MiB at once, so 1024 connections that sent 4 bytes each could
// pin 16 GiB of a server's memory.
TEST(FrameReaderTest, ClaimedLengthDoesNotAllocateUpFront) {
  FrameReader r(kDefaultMaxFrameBytes);
  const std::string h = Header(kDefaultMaxFrameBytes);
  std::memcpy(r.WritableData(), h.data(), h.size());
  r.Commit(h.size());
  std::string_view payload;
  ASSERT_EQ(r.Next(&payload), FrameReader::Result::kNeedMore);
  r.WritableData();
  EXPECT_LT(r.WritableSize(), size_t{1} << 20);
}

TEST(FrameReaderTest, LargeFrameArrivesInPieces) {
  const size_t len = 5u << 20;
  FrameReader r(kDefaultMaxFrameBytes);
  std::string body(len, '\0');
  for (size_t i = 0; i < len; ++i) body[i] = static_cast<char>(i * 131 + 7);
  Feed(&r, Header(len) + body, 70000);
  std::string_view payload;
  ASSERT_EQ(r.Next(&payload), FrameReader::Result::kFrame);
  EXPECT_EQ(payload.size(), len);
  EXPECT_TRUE(payload == body);
  Feed(&r, Header(3) + "abc", 70000);
  ASSERT_EQ(r.Next(&payload), FrameReader::Result::kFrame);
  EXPECT_EQ(payload, "abc");
  EXPECT_EQ(r.Next(&payload), FrameReader::Result::kNeedMore);
}

std::string Body(size_t len, uint32_t seed) {
  std::string body(len, '\0');
  for (size_t i = 0; i < len; ++i) body[i] = static_cast<char>(i * 131 + seed);
  return body;
}

// Reads one frame that must be complete and equal to `body`.
void ExpectFrame(FrameReader* r, const std::string& body) {
  std::string_view payload;
  ASSERT_EQ(r->Next(&payload), FrameReader::Result::kFrame);
  EXPECT_EQ(payload.size(), body.size());
  EXPECT_TRUE(payload == body);
}

// A stream of ~1 MiB frames (a migration stream) keeps its grown buffer, through a
// few small frames too; 64 small frames in a row give it back.
TEST(FrameReaderTest, GrownBufferKeptWhileLargeFramesCome) {
  FrameReader r(kDefaultMaxFrameBytes);
  for (uint32_t i = 0; i < 3; ++i) {
    const std::string body = Body((1u << 20) + 1000 * i, i);
    Feed(&r, Header(static_cast<uint32_t>(body.size())) + body, 100000);
    ExpectFrame(&r, body);
    Feed(&r, Header(3) + "abc", 100000);
    ExpectFrame(&r, "abc");
    r.WritableData();
    EXPECT_GT(r.capacity(), size_t{1} << 20) << "frame " << i;
  }
  for (int i = 0; i < 62; ++i) {  // with the loop's last one, 63 in a row
    Feed(&r, Header(3) + "abc", 100000);
    ExpectFrame(&r, "abc");
  }
  r.WritableData();
  EXPECT_GT(r.capacity(), size_t{1} << 20);
  Feed(&r, Header(3) + "abc", 100000);
  ExpectFrame(&r, "abc");
  r.WritableData();
  EXPECT_LE(r.capacity(), size_t{1} << 20);
}

// Back-to-back ~1 MiB frames in 200 KiB reads: reads stop at each frame's end, so
// once the buffer has grown, almost nothing is moved inside it (before: most of every
// frame, moved to the front behind the one before it).
TEST(FrameReaderTest, LargeFramesAreNotMovedInsideTheBuffer) {
  FrameReader r(kDefaultMaxFrameBytes);
  std::string stream;
  std::vector<std::string> bodies;
  for (uint32_t i = 0; i < 20; ++i) {
    bodies.push_back(Body((1u << 20) - 5000 * i, i));
    stream += Header(static_cast<uint32_t>(bodies.back().size())) + bodies.back();
    if (i % 3 == 0) {
      bodies.push_back("ack");  // a small frame now and then
      stream += Header(3) + "ack";
    }
  }
  size_t done = 0;
  size_t next = 0;
  uint64_t moved_after_first = 0;
  std::string_view payload;
  while (done < stream.size()) {
    char* p = r.WritableData();
    const size_t n = std::min<size_t>({200000, r.WritableSize(), stream.size() - done});
    std::memcpy(p, stream.data() + done, n);
    r.Commit(n);
    done += n;
    while (r.Next(&payload) == FrameReader::Result::kFrame) {
      ASSERT_TRUE(payload == bodies[next]) << "frame " << next;
      if (++next == 2) moved_after_first = r.bytes_moved();
    }
  }
  ASSERT_EQ(next, bodies.size());
  EXPECT_LT(r.bytes_moved() - moved_after_first, uint64_t{64} << 10);
}

// A buffer grown past 4 MiB is given back once it empties, even after a large frame.
TEST(FrameReaderTest, HugeBufferGivenBackOnceEmpty) {
  FrameReader r(kDefaultMaxFrameBytes);
  const std::string body = Body(6u << 20, 3);
  Feed(&r, Header(static_cast<uint32_t>(body.size())) + body, 1u << 20);
  ExpectFrame(&r, body);
  EXPECT_GT(r.capacity(), size_t{4} << 20);
  r.WritableData();
  EXPECT_LE(r.capacity(), size_t{1} << 20);
}

// Frames of every size, cut at random read boundaries, come out whole and in order,
// including several frames in one read and a header split across reads.
TEST(FrameReaderTest, RandomFramesInRandomReads) {
  std::mt19937 rng(301);
  FrameReader r(8u << 20);
  std::vector<std::string> bodies;
  std::string stream;
  for (int i = 0; i < 300; ++i) {
    const int kind = static_cast<int>(rng() % 10);
    const size_t len = kind < 6   ? 1 + rng() % 200
                       : kind < 9 ? 1 + rng() % (1u << 20)
                                  : (1u << 20) + rng() % (6u << 20);
    bodies.push_back(Body(len, static_cast<uint32_t>(i)));
    stream += Header(static_cast<uint32_t>(len)) + bodies.back();
  }
  size_t done = 0;
  size_t next = 0;
  std::string_view payload;
  while (done < stream.size()) {
    char* p = r.WritableData(1 + rng() % 20000);
    const size_t n = std::min<size_t>({1 + rng() % 300000, r.WritableSize(), stream.size() - done});
    std::memcpy(p, stream.data() + done, n);
    r.Commit(n);
    done += n;
    while (r.Next(&payload) == FrameReader::Result::kFrame) {
      ASSERT_LT(next, bodies.size());
      ASSERT_TRUE(payload == bodies[next]) << "frame " << next;
      ++next;
    }
  }
  EXPECT_EQ(next, bodies.size());
  EXPECT_FALSE(r.InPartialFrame());
}

TEST(FrameReaderTest, ZeroAndOversizeLengthsAreBad) {
  for (uint32_t len : {0u, 1025u}) {
    FrameReader r(1024);
    const std::string h = Header(len);
    std::memcpy(r.WritableData(), h.data(), h.size());
    r.Commit(h.size());
    std::string_view payload;
    EXPECT_EQ(r.Next(&payload), FrameReader::Result::kBadLength) << len;
    EXPECT_EQ(r.bad_length(), len);
  }
}

}  // namespace
}  // namespace tessera
