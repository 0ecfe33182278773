// FilterPolicy: builds a small summary of a set of keys (stored in each table)
// that answers "may this key be in the set?" without false negatives.
//
// Implementations must be thread-safe. The name is stored in tables; a table
// whose filter was built by a policy of another name ignores its filter.
#ifndef LDB_INCLUDE_FILTER_POLICY_H_
#define LDB_INCLUDE_FILTER_POLICY_H_

#include <memory>
#include <string>

#include "ldb/slice.h"

namespace ldb {

class FilterPolicy {
 public:
  virtual ~FilterPolicy();

  virtual const char* Name() const = 0;

  // Appends a filter summarizing keys[0, n) to *dst. Keys may repeat.
  virtual void CreateFilter(const Slice* keys, int n,
                            std::string* dst) const = 0;

  // Must return true if `key` was among the keys passed to CreateFilter for
  // `filter`; should return false with high probability otherwise. Must not
  // crash on a damaged filter (return true then).
  virtual bool KeyMayMatch(const Slice& key, const Slice& filter) const = 0;
};

// A bloom filter with about `bits_per_key` bits per key (10 gives ~1 % false
// positives).
std::unique_ptr<const FilterPolicy> NewBloomFilterPolicy(int bits_per_key);

}  // namespace ldb

#endif  // LDB_INCLUDE_FILTER_POLICY_H_
