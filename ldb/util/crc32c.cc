// CRC-32C (Castagnoli polynomial, reflected form 0x82f63b78).
//
// Two implementations with identical results:
//  - ExtendHardware: the SSE4.2 crc32 instruction, 8 bytes at a time;
//  - ExtendPortable: slicing-by-8 over tables computed at compile time.
// Extend picks one once, on first use, from what the CPU supports.
#include "util/crc32c.h"

#include <array>
#include <cstring>

#include "util/crc32c_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#define LDB_CRC32C_X86 1
#include <nmmintrin.h>
#else
#define LDB_CRC32C_X86 0
#endif

namespace ldb::crc32c {

namespace {

constexpr uint32_t kPoly = 0x82f63b78u;
constexpr int kSlices = 8;

using Tables = std::array<std::array<uint32_t, 256>, kSlices>;

// tables[0][b] is the CRC of the single byte b (no pre/post inversion);
// tables[k][b] is the CRC of b followed by k zero bytes.
constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1u) ? kPoly : 0u);
    }
    t[0][b] = crc;
  }
  for (int k = 1; k < kSlices; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t prev = t[k - 1][b];
      t[k][b] = (prev >> 8) ^ t[0][prev & 0xffu];
    }
  }
  return t;
}

constexpr Tables kTables = MakeTables();

inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

#if LDB_CRC32C_X86
#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles but a throughput of one per
// cycle, so one dependent chain runs at a third of its speed. Long inputs are
// cut into rounds of three kStripe-byte stripes whose CRCs run interleaved
// and are then joined: the CRC register is linear, so the state after
// A || B is Shift(state after A) ^ (state after B begun from 0), where Shift
// advances a state over kStripe zero bytes. Shift is a table lookup per
// state byte (tables built once with the instruction itself).
constexpr size_t kStripe = 128;

struct ShiftTables {
  uint32_t t[4][256];
};

__attribute__((target("sse4.2"))) uint32_t ShiftSlow(uint32_t state) {
  uint64_t crc = state;
  for (size_t i = 0; i < kStripe / 8; ++i) crc = _mm_crc32_u64(crc, 0);
  return static_cast<uint32_t>(crc);
}

const ShiftTables& GetShiftTables() {
  static const ShiftTables* const tables = [] {
    auto* t = new ShiftTables;
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) t->t[k][b] = ShiftSlow(b << (8 * k));
    }
    return t;
  }();
  return *tables;
}

inline uint32_t Shift(const ShiftTables& s, uint32_t state) {
  return s.t[0][state & 0xff] ^ s.t[1][(state >> 8) & 0xff] ^
         s.t[2][(state >> 16) & 0xff] ^ s.t[3][state >> 24];
}
#endif  // __x86_64__

__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t init_crc,
                                                       const char* data,
                                                       size_t n) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  const uint8_t* const end = p + n;
  uint32_t crc32 = ~init_crc;
  // Bytes up to an 8-byte boundary, then whole words, then the tail.
  while (p < end && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    crc32 = _mm_crc32_u8(crc32, *p++);
  }
#if defined(__x86_64__)
  uint64_t crc64 = crc32;
  if (static_cast<size_t>(end - p) >= 3 * kStripe) {
    const ShiftTables& shift = GetShiftTables();
    do {
      uint64_t a = crc64, b = 0, c = 0;
      for (size_t i = 0; i < kStripe; i += 8) {
        uint64_t wa, wb, wc;
        std::memcpy(&wa, p + i, 8);
        std::memcpy(&wb, p + kStripe + i, 8);
        std::memcpy(&wc, p + 2 * kStripe + i, 8);
        a = _mm_crc32_u64(a, wa);
        b = _mm_crc32_u64(b, wb);
        c = _mm_crc32_u64(c, wc);
      }
      const uint32_t ab =
          Shift(shift, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
      crc64 = Shift(shift, ab) ^ static_cast<uint32_t>(c);
      p += 3 * kStripe;
    } while (static_cast<size_t>(end - p) >= 3 * kStripe);
  }
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    crc64 = _mm_crc32_u64(crc64, word);
    p += 8;
  }
  crc32 = static_cast<uint32_t>(crc64);
#else
  while (end - p >= 4) {
    uint32_t word;
    std::memcpy(&word, p, sizeof(word));
    crc32 = _mm_crc32_u32(crc32, word);
    p += 4;
  }
#endif
  while (p < end) {
    crc32 = _mm_crc32_u8(crc32, *p++);
  }
  return ~crc32;
}

bool DetectSse42() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif  // LDB_CRC32C_X86

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);

ExtendFn ChooseExtend() {
  return internal::HardwareAvailable() ? &internal::ExtendHardware
                                       : &internal::ExtendPortable;
}

ExtendFn SelectedExtend() {
  static const ExtendFn fn = ChooseExtend();
  return fn;
}

}  // namespace

namespace internal {

uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  const uint8_t* const end = p + n;
  uint32_t crc = ~init_crc;
  auto step_byte = [&crc](uint8_t b) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ b) & 0xffu];
  };
  while (end - p >= kSlices) {
    const uint32_t lo = Load32(p) ^ crc;
    const uint32_t hi = Load32(p + 4);
    crc = kTables[7][lo & 0xffu] ^ kTables[6][(lo >> 8) & 0xffu] ^
          kTables[5][(lo >> 16) & 0xffu] ^ kTables[4][lo >> 24] ^
          kTables[3][hi & 0xffu] ^ kTables[2][(hi >> 8) & 0xffu] ^
          kTables[1][(hi >> 16) & 0xffu] ^ kTables[0][hi >> 24];
    p += kSlices;
  }
  while (p < end) {
    step_byte(*p++);
  }
  return ~crc;
}

uint32_t ExtendHardware(uint32_t init_crc, const char* data, size_t n) {
#if LDB_CRC32C_X86
  return ExtendSse42(init_crc, data, n);
#else
  return ExtendPortable(init_crc, data, n);
#endif
}

bool HardwareAvailable() {
#if LDB_CRC32C_X86
  static const bool available = DetectSse42();
  return available;
#else
  return false;
#endif
}

}  // namespace internal

uint32_t Extend(uint32_t init_crc, const char* data, size_t n) {
  return SelectedExtend()(init_crc, data, n);
}

bool IsHardwareAccelerated() { return internal::HardwareAvailable(); }

}  // namespace ldb::crc32c
