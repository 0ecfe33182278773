#include "util/crc32c.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "util/crc32c_internal.h"
#include "util/random.h"

namespace ldb::crc32c {
namespace {

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);

// Runs the known-vector checks against one implementation.
void CheckStandardResults(ExtendFn extend) {
  // From RFC 3720 section B.4.
  char buf[32];

  std::memset(buf, 0, sizeof(buf));
  EXPECT_EQ(0x8a9136aau, extend(0, buf, sizeof(buf)));

  std::memset(buf, 0xff, sizeof(buf));
  EXPECT_EQ(0x62a8ab43u, extend(0, buf, sizeof(buf)));

  for (int i = 0; i < 32; i++) buf[i] = static_cast<char>(i);
  EXPECT_EQ(0x46dd794eu, extend(0, buf, sizeof(buf)));

  for (int i = 0; i < 32; i++) buf[i] = static_cast<char>(31 - i);
  EXPECT_EQ(0x113fdb5cu, extend(0, buf, sizeof(buf)));

  EXPECT_EQ(0xe3069283u, extend(0, "123456789", 9));
  EXPECT_EQ(0u, extend(0, "", 0));

  // An iSCSI read command PDU.
  const uint8_t data[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  EXPECT_EQ(0xd9963a56u,
            extend(0, reinterpret_cast<const char*>(data), sizeof(data)));
}

TEST(CRC32CTest, StandardResults) { CheckStandardResults(&Extend); }

TEST(CRC32CTest, StandardResultsPortable) {
  CheckStandardResults(&internal::ExtendPortable);
}

TEST(CRC32CTest, StandardResultsHardware) {
  if (!internal::HardwareAvailable()) {
    // The SSE4.2 path cannot run on this CPU; ExtendPortable (tested above) is what
    // ldb uses there, so nothing goes untested that the machine could execute.
    GTEST_SKIP() << "CPU without SSE4.2";
  }
  CheckStandardResults(&internal::ExtendHardware);
}

TEST(CRC32CTest, ReportsAcceleration) {
  EXPECT_EQ(internal::HardwareAvailable(), IsHardwareAccelerated());
#if defined(__x86_64__)
  EXPECT_EQ(static_cast<bool>(__builtin_cpu_supports("sse4.2")),
            IsHardwareAccelerated());
#endif
}

TEST(CRC32CTest, Values) { EXPECT_NE(Value("a", 1), Value("foo", 3)); }

TEST(CRC32CTest, Extend) {
  EXPECT_EQ(Value("hello world", 11), Extend(Value("hello ", 6), "world", 5));
  // Every split point of a longer buffer.
  Random rnd(17);
  std::string s;
  for (int i = 0; i < 100; ++i) s.push_back(static_cast<char>(rnd.Next()));
  const uint32_t whole = Value(s.data(), s.size());
  for (size_t split = 0; split <= s.size(); ++split) {
    EXPECT_EQ(whole, Extend(Value(s.data(), split), s.data() + split,
                            s.size() - split));
    EXPECT_EQ(whole, internal::ExtendPortable(
                         internal::ExtendPortable(0, s.data(), split),
                         s.data() + split, s.size() - split));
  }
}

TEST(CRC32CTest, Mask) {
  const uint32_t crc = Value("foo", 3);
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
  Random rnd(5);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t v = rnd.Next();
    ASSERT_EQ(v, Unmask(Mask(v)));
  }
}

TEST(CRC32CTest, HardwareMatchesPortable) {
  if (!internal::HardwareAvailable()) {
    // The SSE4.2 path cannot run on this CPU; ExtendPortable (tested above) is what
    // ldb uses there, so nothing goes untested that the machine could execute.
    GTEST_SKIP() << "CPU without SSE4.2";
  }
  Random rnd(20240611);
  std::vector<char> buf(4096 + 64);
  for (char& c : buf) c = static_cast<char>(rnd.Next());
  for (int i = 0; i < 2000; ++i) {
    const size_t offset = rnd.Uniform(64);
    const size_t len = rnd.Skewed(12);  // 0 .. 4095, skewed to small.
    const uint32_t init = rnd.OneIn(2) ? 0 : rnd.Next();
    ASSERT_EQ(internal::ExtendPortable(init, buf.data() + offset, len),
              internal::ExtendHardware(init, buf.data() + offset, len))
        << "offset " << offset << " len " << len << " init " << init;
  }
  // Every length around the interleaved-stripe rounds (3 x 128 bytes).
  for (size_t len = 370; len <= 1200; ++len) {
    for (size_t offset : {0, 3, 8}) {
      ASSERT_EQ(internal::ExtendPortable(7, buf.data() + offset, len),
                internal::ExtendHardware(7, buf.data() + offset, len))
          << "offset " << offset << " len " << len;
    }
  }
}

}  // namespace
}  // namespace ldb::crc32c
