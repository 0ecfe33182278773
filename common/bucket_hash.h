// Bucket of a key.
//
// The bucket of a user key is XXH64(user_key, seed 0) % bucket_count. XXH64 is the
// 64-bit xxHash as specified in xxHash's doc/xxhash_spec.md (little-endian lane
// reads); our implementation is tested against the specification's published values.
// The area is NOT hashed: a key lands in the same bucket in every area. This
// function is part of the cluster's persistent contract (data is stored per bucket):
// never change it. Pure functions, thread-safe.
#ifndef TESSERA_COMMON_BUCKET_HASH_H_
#define TESSERA_COMMON_BUCKET_HASH_H_

#include <cstdint>
#include <string_view>

namespace tessera {

uint64_t XxHash64(std::string_view data, uint64_t seed = 0);

// REQUIRES: bucket_count > 0.
inline uint32_t BucketOf(std::string_view user_key, uint32_t bucket_count) {
  return static_cast<uint32_t>(XxHash64(user_key) % bucket_count);
}

}  // namespace tessera

#endif  // TESSERA_COMMON_BUCKET_HASH_H_
