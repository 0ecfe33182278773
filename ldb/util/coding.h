// Endian-neutral encoding of integers and length-prefixed strings.
//   fixed32/fixed64: little-endian.
//   varint32/varint64: 7 bits per byte, low groups first, high bit = "more".
// Decoders never read past `limit` and report damage by returning
// nullptr/false.
#ifndef LDB_UTIL_CODING_H_
#define LDB_UTIL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "ldb/slice.h"

namespace ldb {

void PutFixed32(std::string* dst, uint32_t value);
void PutFixed64(std::string* dst, uint64_t value);
void PutVarint32(std::string* dst, uint32_t value);
void PutVarint64(std::string* dst, uint64_t value);
// varint32 length followed by the bytes.
void PutLengthPrefixedSlice(std::string* dst, const Slice& value);

// Parse from the front of *input and advance it; false on damage.
bool GetVarint32(Slice* input, uint32_t* value);
bool GetVarint64(Slice* input, uint64_t* value);
bool GetLengthPrefixedSlice(Slice* input, Slice* result);
bool GetFixed32(Slice* input, uint32_t* value);
bool GetFixed64(Slice* input, uint64_t* value);

// Parse a varint in [p, limit); returns the byte after it, or nullptr.
// The one-byte case (lengths under 128, the common one) is inline.
const char* GetVarint32PtrFallback(const char* p, const char* limit,
                                   uint32_t* v);
inline const char* GetVarint32Ptr(const char* p, const char* limit,
                                  uint32_t* v) {
  if (p < limit) {
    const uint32_t byte = static_cast<uint8_t>(*p);
    if ((byte & 0x80) == 0) {
      *v = byte;
      return p + 1;
    }
  }
  return GetVarint32PtrFallback(p, limit, v);
}
const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v);

// Bytes the varint encoding of v takes.
int VarintLength(uint64_t v);

// Write a varint to dst (room for 5 / 10 bytes); returns the byte after it.
char* EncodeVarint32(char* dst, uint32_t value);
char* EncodeVarint64(char* dst, uint64_t value);

inline void EncodeFixed32(char* dst, uint32_t value) {
  uint8_t* const b = reinterpret_cast<uint8_t*>(dst);
  b[0] = static_cast<uint8_t>(value);
  b[1] = static_cast<uint8_t>(value >> 8);
  b[2] = static_cast<uint8_t>(value >> 16);
  b[3] = static_cast<uint8_t>(value >> 24);
}

inline void EncodeFixed64(char* dst, uint64_t value) {
  EncodeFixed32(dst, static_cast<uint32_t>(value));
  EncodeFixed32(dst + 4, static_cast<uint32_t>(value >> 32));
}

inline uint32_t DecodeFixed32(const char* ptr) {
  const uint8_t* const b = reinterpret_cast<const uint8_t*>(ptr);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) |
         (static_cast<uint32_t>(b[3]) << 24);
}

inline uint64_t DecodeFixed64(const char* ptr) {
  return static_cast<uint64_t>(DecodeFixed32(ptr)) |
         (static_cast<uint64_t>(DecodeFixed32(ptr + 4)) << 32);
}

}  // namespace ldb

#endif  // LDB_UTIL_CODING_H_
