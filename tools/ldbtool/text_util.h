// Small helpers shared by ldbtool's commands: escaping bytes for output, JSON
// strings, and bucket lists ("0-99,200,301-305").
//
// Pure functions and a value type: thread-compatible.
#ifndef TESSERA_TOOLS_LDBTOOL_TEXT_UTIL_H_
#define TESSERA_TOOLS_LDBTOOL_TEXT_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tessera::ldbtool {

// Printable ASCII as is, except '\\' and '"'; every other byte as \xNN.
std::string EscapeBytes(std::string_view bytes);
// Lower-case hex of every byte.
std::string HexBytes(std::string_view bytes);
// A JSON string literal (quotes included); bytes >= 0x80 and controls as \u00NN.
std::string JsonString(std::string_view text);

// A set of buckets as sorted, disjoint, non-adjacent inclusive ranges.
class BucketSet {
 public:
  // Parses "0-99,200,301-305" (spaces allowed around items). Every bucket must be
  // below `bucket_limit`. InvalidArgument with the offending item otherwise, for an
  // empty list, a reversed range or a number that does not parse.
  static Status Parse(std::string_view text, uint64_t bucket_limit, BucketSet* out);
  // The set of `buckets` (any order, duplicates allowed).
  static BucketSet Of(std::vector<uint32_t> buckets);

  bool Contains(uint32_t bucket) const;
  uint64_t Count() const;
  const std::vector<std::pair<uint32_t, uint32_t>>& ranges() const { return ranges_; }
  // "0-99,200"
  std::string ToString() const;

 private:
  std::vector<std::pair<uint32_t, uint32_t>> ranges_;
};

}  // namespace tessera::ldbtool

#endif  // TESSERA_TOOLS_LDBTOOL_TEXT_UTIL_H_
