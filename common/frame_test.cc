#include "common/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

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
