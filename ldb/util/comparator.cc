// Comparator defaults and the bytewise comparator. See ldb/comparator.h.
#include "ldb/comparator.h"

#include <algorithm>
#include <cstdint>

namespace ldb {

Comparator::~Comparator() = default;

bool Comparator::ShouldDrop(const Slice& /*user_key*/, SequenceNumber /*seq*/,
                            uint64_t /*now_seconds*/) const {
  return false;
}

bool Comparator::ShouldDropMaybe(const Slice& /*user_key*/,
                                 SequenceNumber /*seq*/,
                                 uint64_t /*now_seconds*/) const {
  return false;
}

bool Comparator::ShouldStopBefore(const Slice& /*start_user_key*/,
                                  const Slice& /*user_key*/) const {
  return false;
}

bool Comparator::ShouldDropRange(const Slice& /*smallest_user_key*/,
                                 const Slice& /*largest_user_key*/,
                                 SequenceNumber /*max_seq*/) const {
  return false;
}

namespace {

// Unsigned lexicographic order. Stateless, so thread-safe.
class BytewiseComparatorImpl final : public Comparator {
 public:
  int Compare(const Slice& a, const Slice& b) const override {
    return a.compare(b);
  }

  const char* Name() const override { return "ldb.BytewiseComparator"; }

  // Returns the shortest s found with *start <= s < limit:
  //  - at the first differing position d, if start[d] + 1 < limit[d], then
  //    start[0, d] with start[d] incremented;
  //  - otherwise, start[0, d] followed by the first later byte of start that
  //    can be incremented (start[d] < limit[d] already orders it below limit).
  void FindShortestSeparator(std::string* start,
                             const Slice& limit) const override {
    const size_t min_len = std::min(start->size(), limit.size());
    size_t d = 0;
    while (d < min_len && (*start)[d] == limit[d]) ++d;
    if (d >= min_len) {
      return;  // One is a prefix of the other: nothing shorter works.
    }
    const uint8_t s_byte = static_cast<uint8_t>((*start)[d]);
    const uint8_t l_byte = static_cast<uint8_t>(limit[d]);
    if (s_byte >= l_byte) {
      return;  // start >= limit: caller broke the contract; leave it alone.
    }
    if (s_byte + 1 < l_byte) {
      if (d + 1 < start->size()) {
        (*start)[d] = static_cast<char>(s_byte + 1);
        start->resize(d + 1);
      }
      return;
    }
    for (size_t i = d + 1; i + 1 < start->size(); ++i) {
      const uint8_t b = static_cast<uint8_t>((*start)[i]);
      if (b != 0xff) {
        (*start)[i] = static_cast<char>(b + 1);
        start->resize(i + 1);
        return;
      }
    }
  }

  // Shortest s >= *key: increment the first byte that is not 0xff and cut
  // the rest. A key of only 0xff bytes is left unchanged.
  void FindShortSuccessor(std::string* key) const override {
    for (size_t i = 0; i < key->size(); ++i) {
      const uint8_t b = static_cast<uint8_t>((*key)[i]);
      if (b != 0xff) {
        (*key)[i] = static_cast<char>(b + 1);
        key->resize(i + 1);
        return;
      }
    }
  }
};

}  // namespace

const Comparator* BytewiseComparator() {
  // Never destroyed, so it stays usable during static destruction.
  static const Comparator* const kInstance = new BytewiseComparatorImpl();
  return kInstance;
}

}  // namespace ldb
