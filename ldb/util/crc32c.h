// CRC-32C (Castagnoli), with the SSE4.2 crc32 instruction when the CPU has it
// (checked once at run time) and a table-driven fallback otherwise.
#ifndef LDB_UTIL_CRC32C_H_
#define LDB_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ldb::crc32c {

// CRC-32C of concat(A, data[0, n)) where init_crc is the CRC-32C of A.
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }

// True when Extend uses the hardware instruction.
bool IsHardwareAccelerated();

// Stored CRCs are masked: a CRC of a string that itself contains CRCs is
// otherwise weak.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

inline uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

inline uint32_t Unmask(uint32_t masked_crc) {
  uint32_t rot = masked_crc - kMaskDelta;
  return ((rot >> 17) | (rot << 15));
}

}  // namespace ldb::crc32c

#endif  // LDB_UTIL_CRC32C_H_
