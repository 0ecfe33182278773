// TairComparator: the hooks shared by BitcmpComparator and NumericComparator
// over stored keys laid out by key_codec.h.
//
//  - ShouldDrop: the GC registry reclaims the key's bucket (or bucket+area) at
//    `seq`. A key too short to carry an area is only reclaimed by a bucket
//    entry; a key too short to carry a bucket never is.
//  - ShouldDropMaybe: expire != 0 && expire <= now_seconds.
//  - ShouldStopBefore: the two keys are in different buckets.
//  - ShouldDropRange: smallest and largest are in one bucket that a bucket
//    entry reclaims at max_seq, or in one bucket+area that is reclaimed.
//
// Both orders compare the bucket|area bytes right after the expire prefix
// first, so these rules hold for either.
//
// Thread-safe (const, and the registry is thread-safe).
#ifndef TESSERA_COMPARATORS_TAIR_COMPARATOR_H_
#define TESSERA_COMPARATORS_TAIR_COMPARATOR_H_

#include <string>

#include "ldb/comparator.h"
#include "ldb/slice.h"

namespace tessera::comparators {

class GcRegistry;

class TairComparator : public ldb::Comparator {
 public:
  // `registry` may be null (nothing is ever reclaimed); otherwise it must
  // outlive the comparator.
  explicit TairComparator(const GcRegistry* registry) : registry_(registry) {}

  const GcRegistry* registry() const { return registry_; }

  bool ShouldDrop(const ldb::Slice& user_key, ldb::SequenceNumber seq,
                  uint64_t now_seconds) const override;
  bool ShouldDropMaybe(const ldb::Slice& user_key, ldb::SequenceNumber seq,
                       uint64_t now_seconds) const override;
  bool ShouldStopBefore(const ldb::Slice& start_user_key,
                        const ldb::Slice& user_key) const override;
  bool ShouldDropRange(const ldb::Slice& smallest_user_key,
                       const ldb::Slice& largest_user_key,
                       ldb::SequenceNumber max_seq) const override;

  // Shortening that keeps the expire prefix of *start / *key: a bytewise
  // candidate is built from the parts after the prefix, padded to a
  // decodable key when the input was decodable, and used only if Compare
  // confirms the contract (otherwise the input is left unchanged).
  void FindShortestSeparator(std::string* start,
                             const ldb::Slice& limit) const override;
  void FindShortSuccessor(std::string* key) const override;

 private:
  const GcRegistry* const registry_;
};

}  // namespace tessera::comparators

#endif  // TESSERA_COMPARATORS_TAIR_COMPARATOR_H_
