// Integer and length-prefixed string encodings. See coding.h.
#include "util/coding.h"

namespace ldb {

namespace {

constexpr uint8_t kMore = 0x80;
constexpr int kMaxVarint32Bytes = 5;
constexpr int kMaxVarint64Bytes = 10;

}  // namespace

void PutFixed32(std::string* dst, uint32_t value) {
  char buf[sizeof(value)];
  EncodeFixed32(buf, value);
  dst->append(buf, sizeof(buf));
}

void PutFixed64(std::string* dst, uint64_t value) {
  char buf[sizeof(value)];
  EncodeFixed64(buf, value);
  dst->append(buf, sizeof(buf));
}

char* EncodeVarint64(char* dst, uint64_t value) {
  uint8_t* p = reinterpret_cast<uint8_t*>(dst);
  while (value >= kMore) {
    *p++ = static_cast<uint8_t>(value | kMore);
    value >>= 7;
  }
  *p++ = static_cast<uint8_t>(value);
  return reinterpret_cast<char*>(p);
}

char* EncodeVarint32(char* dst, uint32_t value) {
  return EncodeVarint64(dst, value);
}

void PutVarint32(std::string* dst, uint32_t value) {
  char buf[kMaxVarint32Bytes];
  const char* end = EncodeVarint32(buf, value);
  dst->append(buf, end - buf);
}

void PutVarint64(std::string* dst, uint64_t value) {
  char buf[kMaxVarint64Bytes];
  const char* end = EncodeVarint64(buf, value);
  dst->append(buf, end - buf);
}

void PutLengthPrefixedSlice(std::string* dst, const Slice& value) {
  PutVarint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(value.data(), value.size());
}

int VarintLength(uint64_t v) {
  int len = 1;
  while (v >= kMore) {
    v >>= 7;
    ++len;
  }
  return len;
}

const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    const uint64_t byte = static_cast<uint8_t>(*p++);
    if (shift == 63 && byte > 1) {
      return nullptr;  // Would overflow 64 bits.
    }
    result |= (byte & 0x7f) << shift;
    if ((byte & kMore) == 0) {
      *v = result;
      return p;
    }
  }
  return nullptr;  // Truncated, or longer than 10 bytes.
}

const char* GetVarint32PtrFallback(const char* p, const char* limit,
                                   uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && p < limit; shift += 7) {
    const uint32_t byte = static_cast<uint8_t>(*p++);
    if (shift == 28 && byte > 0x0f) {
      return nullptr;  // Would overflow 32 bits (or claims more bytes).
    }
    result |= (byte & 0x7f) << shift;
    if ((byte & kMore) == 0) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

bool GetVarint32(Slice* input, uint32_t* value) {
  const char* p = input->data();
  const char* limit = p + input->size();
  const char* q = GetVarint32Ptr(p, limit, value);
  if (q == nullptr) return false;
  input->remove_prefix(static_cast<size_t>(q - p));
  return true;
}

bool GetVarint64(Slice* input, uint64_t* value) {
  const char* p = input->data();
  const char* limit = p + input->size();
  const char* q = GetVarint64Ptr(p, limit, value);
  if (q == nullptr) return false;
  input->remove_prefix(static_cast<size_t>(q - p));
  return true;
}

bool GetLengthPrefixedSlice(Slice* input, Slice* result) {
  Slice in = *input;
  uint32_t len;
  if (!GetVarint32(&in, &len) || in.size() < len) return false;
  *result = Slice(in.data(), len);
  in.remove_prefix(len);
  *input = in;
  return true;
}

bool GetFixed32(Slice* input, uint32_t* value) {
  if (input->size() < sizeof(uint32_t)) return false;
  *value = DecodeFixed32(input->data());
  input->remove_prefix(sizeof(uint32_t));
  return true;
}

bool GetFixed64(Slice* input, uint64_t* value) {
  if (input->size() < sizeof(uint64_t)) return false;
  *value = DecodeFixed64(input->data());
  input->remove_prefix(sizeof(uint64_t));
  return true;
}

}  // namespace ldb
