// NumericComparator: Tair's "numerical" order over stored keys (key_codec.h).
// After the 4 expire bytes (ignored, as in BitcmpComparator):
//
//   1. the bucket|area bytes (5, or fewer in a truncated key), bytewise;
//   2. the user key, split at its first `delimiter` into
//        prefix  = up to and including the delimiter (the whole key if there
//                  is none),
//        digits  = the decimal digits right after the delimiter (maybe none),
//        rest    = everything after those digits,
//      compared as the tuple (prefix bytewise, digits as a number, rest
//      bytewise).
//
// Digit runs compare by value (leading zeros stripped: shorter run first,
// then bytewise), then by raw length, so "7" < "07" < "8" and any length
// works without overflow. Hence "item:9" < "item:10" < "item:100". Keys
// without a delimiter or without digits after it order bytewise among
// themselves. The empty user key is the smallest of its bucket|area, so the
// ranges of key_codec.h hold for this order too.
//
// Keys shorter than 4 bytes sort first, bytewise among themselves.
// Hooks: see TairComparator.
//
// Thread-safe.
#ifndef TESSERA_COMPARATORS_NUMERIC_COMPARATOR_H_
#define TESSERA_COMPARATORS_NUMERIC_COMPARATOR_H_

#include <string>

#include "comparators/tair_comparator.h"

namespace tessera::comparators {

class NumericComparator final : public TairComparator {
 public:
  // `registry` may be null; otherwise it must outlive the comparator.
  explicit NumericComparator(char delimiter = ':',
                             const GcRegistry* registry = nullptr);

  int Compare(const ldb::Slice& a, const ldb::Slice& b) const override;
  // "tessera.NumericComparator(0x3a)" for ':' — the delimiter is part of the
  // order, so it is part of the name.
  const char* Name() const override { return name_.c_str(); }

  char delimiter() const { return delimiter_; }

  // The user-key part of the order (step 2 above).
  int CompareUserKeys(const ldb::Slice& a, const ldb::Slice& b) const;

 private:
  const char delimiter_;
  const std::string name_;
};

}  // namespace tessera::comparators

#endif  // TESSERA_COMPARATORS_NUMERIC_COMPARATOR_H_
