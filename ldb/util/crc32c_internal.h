// Internal entry points of crc32c.cc, exposed so tests can check that the
// hardware and portable paths agree. Not for use outside util/.
#ifndef LDB_UTIL_CRC32C_INTERNAL_H_
#define LDB_UTIL_CRC32C_INTERNAL_H_

#include <cstddef>
#include <cstdint>

namespace ldb::crc32c::internal {

// Table-driven CRC-32C; same contract as crc32c::Extend. Always available.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);

// CRC-32C with the SSE4.2 crc32 instruction; same contract as Extend.
// REQUIRES: HardwareAvailable() (otherwise the process dies of SIGILL).
uint32_t ExtendHardware(uint32_t init_crc, const char* data, size_t n);

// True when this build and this CPU can run ExtendHardware.
bool HardwareAvailable();

}  // namespace ldb::crc32c::internal

#endif  // LDB_UTIL_CRC32C_INTERNAL_H_
