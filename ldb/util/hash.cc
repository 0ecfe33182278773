// Hash: MurmurHash3-shaped 32-bit hash (x86_32 variant: 4-byte blocks mixed
// with multiply/rotate, then a final avalanche). Blocks are read as
// little-endian so the value is the same on every platform; it is persisted
// in bloom filters, so it must never change (hash_test pins it).
#include "util/hash.h"

#include "util/coding.h"

namespace ldb {

namespace {

constexpr uint32_t kC1 = 0xcc9e2d51u;
constexpr uint32_t kC2 = 0x1b873593u;

constexpr uint32_t Rotl(uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}

constexpr uint32_t ScrambleBlock(uint32_t k) {
  k *= kC1;
  k = Rotl(k, 15);
  k *= kC2;
  return k;
}

constexpr uint32_t Avalanche(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace

uint32_t Hash(const char* data, size_t n, uint32_t seed) {
  uint32_t h = seed;
  const char* p = data;
  const char* const block_end = data + (n & ~static_cast<size_t>(3));
  for (; p < block_end; p += 4) {
    h ^= ScrambleBlock(DecodeFixed32(p));
    h = Rotl(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  // Up to three trailing bytes, little-endian.
  uint32_t tail = 0;
  switch (n & 3u) {
    case 3:
      tail |= static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 16;
      [[fallthrough]];
    case 2:
      tail |= static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 8;
      [[fallthrough]];
    case 1:
      tail |= static_cast<uint32_t>(static_cast<uint8_t>(p[0]));
      h ^= ScrambleBlock(tail);
      break;
    default:
      break;
  }
  h ^= static_cast<uint32_t>(n);
  return Avalanche(h);
}

}  // namespace ldb
