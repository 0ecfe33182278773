// Bytewise order after the expire prefix.
#include "comparators/bitcmp_comparator.h"

#include "comparators/key_codec.h"

namespace tessera::comparators {

int BitcmpComparator::Compare(const ldb::Slice& a, const ldb::Slice& b) const {
  const bool a_short = a.size() < kExpireSize;
  const bool b_short = b.size() < kExpireSize;
  if (a_short || b_short) {
    if (a_short && b_short) return a.compare(b);
    return a_short ? -1 : +1;
  }
  return StripExpire(a).compare(StripExpire(b));
}

}  // namespace tessera::comparators
