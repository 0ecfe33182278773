#include "dataset.h"

#include <cstdio>
#include <random>

namespace tessera::mbench {
namespace {

constexpr size_t kBufferBytes = 4u << 20;

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

Dataset::Dataset(uint64_t keys, size_t value_size, uint64_t seed)
    : keys_(keys), value_size_(value_size) {
  buffer_.resize(kBufferBytes + value_size_);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= buffer_.size(); i += 8) {
    const uint64_t r = rng();
    for (size_t b = 0; b < 8; ++b) buffer_[i + b] = static_cast<char>(r >> (8 * b));
  }
}

std::string Dataset::Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "mb%012llu", static_cast<unsigned long long>(i));
  return buf;
}

std::string_view Dataset::Value(uint64_t i, uint64_t salt) const {
  const size_t offset = Mix(i * 0x9e3779b97f4a7c15ULL + salt) % kBufferBytes;
  return std::string_view(buffer_.data() + offset, value_size_);
}

}  // namespace tessera::mbench
