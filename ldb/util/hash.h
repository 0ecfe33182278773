// A fast non-cryptographic 32-bit hash (for the bloom filter and the cache).
// Its values are persisted inside bloom filters: never change it.
#ifndef LDB_UTIL_HASH_H_
#define LDB_UTIL_HASH_H_

#include <cstddef>
#include <cstdint>

namespace ldb {

uint32_t Hash(const char* data, size_t n, uint32_t seed);

}  // namespace ldb

#endif  // LDB_UTIL_HASH_H_
