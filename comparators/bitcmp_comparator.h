// BitcmpComparator: Tair's "bitcmp" order over stored keys (key_codec.h):
// bytewise over everything after the 4 expire bytes, so one logical key with
// another TTL compares equal to itself. Keys shorter than 4 bytes (never
// written by Tessera) sort before all others, bytewise among themselves.
// Hooks: see TairComparator.
//
// Thread-safe.
#ifndef TESSERA_COMPARATORS_BITCMP_COMPARATOR_H_
#define TESSERA_COMPARATORS_BITCMP_COMPARATOR_H_

#include "comparators/tair_comparator.h"

namespace tessera::comparators {

class BitcmpComparator final : public TairComparator {
 public:
  // `registry` may be null; otherwise it must outlive the comparator.
  explicit BitcmpComparator(const GcRegistry* registry = nullptr)
      : TairComparator(registry) {}

  int Compare(const ldb::Slice& a, const ldb::Slice& b) const override;
  const char* Name() const override { return "tessera.BitcmpComparator"; }
};

}  // namespace tessera::comparators

#endif  // TESSERA_COMPARATORS_BITCMP_COMPARATOR_H_
