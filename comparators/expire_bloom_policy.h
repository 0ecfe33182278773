// A bloom filter policy for stored keys (key_codec.h) that hashes each key
// without its 4 expire bytes, so a lookup for one logical key matches the
// entry written with any TTL. Keys shorter than 4 bytes are hashed whole.
//
// Thread-safe.
#ifndef TESSERA_COMPARATORS_EXPIRE_BLOOM_POLICY_H_
#define TESSERA_COMPARATORS_EXPIRE_BLOOM_POLICY_H_

#include <memory>

#include "ldb/filter_policy.h"

namespace tessera::comparators {

// About `bits_per_key` bits per key, like ldb::NewBloomFilterPolicy. Its
// name differs from the plain bloom filter's, so tables built with one are
// never probed with the other.
std::unique_ptr<const ldb::FilterPolicy> NewExpireBloomFilterPolicy(
    int bits_per_key);

}  // namespace tessera::comparators

#endif  // TESSERA_COMPARATORS_EXPIRE_BLOOM_POLICY_H_
