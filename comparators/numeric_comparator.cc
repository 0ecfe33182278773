// Numeric order of the user key's number after the delimiter.
#include "comparators/numeric_comparator.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "comparators/key_codec.h"

namespace tessera::comparators {

namespace {

struct UserKeyParts {
  ldb::Slice prefix;
  ldb::Slice digits;
  ldb::Slice rest;
};

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

UserKeyParts Split(const ldb::Slice& key, char delimiter) {
  UserKeyParts parts;
  const char* begin = key.data();
  const char* end = begin + key.size();
  const void* found =
      key.empty() ? nullptr : memchr(begin, delimiter, key.size());
  if (found == nullptr) {
    parts.prefix = key;
    return parts;
  }
  const char* digits = static_cast<const char*>(found) + 1;
  const char* p = digits;
  while (p < end && IsDigit(*p)) ++p;
  parts.prefix = ldb::Slice(begin, digits - begin);
  parts.digits = ldb::Slice(digits, p - digits);
  parts.rest = ldb::Slice(p, end - p);
  return parts;
}

ldb::Slice StripLeadingZeros(const ldb::Slice& digits) {
  size_t i = 0;
  while (i < digits.size() && digits[i] == '0') ++i;
  return ldb::Slice(digits.data() + i, digits.size() - i);
}

int CompareDigits(const ldb::Slice& a, const ldb::Slice& b) {
  const ldb::Slice va = StripLeadingZeros(a);
  const ldb::Slice vb = StripLeadingZeros(b);
  if (va.size() != vb.size()) return va.size() < vb.size() ? -1 : +1;
  const int r = va.compare(vb);  // same length: bytewise is numeric
  if (r != 0) return r;
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : +1;
  return 0;
}

std::string MakeName(char delimiter) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "tessera.NumericComparator(0x%02x)",
                static_cast<unsigned>(static_cast<unsigned char>(delimiter)));
  return buf;
}

}  // namespace

NumericComparator::NumericComparator(char delimiter, const GcRegistry* registry)
    : TairComparator(registry),
      delimiter_(delimiter),
      name_(MakeName(delimiter)) {}

int NumericComparator::CompareUserKeys(const ldb::Slice& a,
                                       const ldb::Slice& b) const {
  const UserKeyParts pa = Split(a, delimiter_);
  const UserKeyParts pb = Split(b, delimiter_);
  int r = pa.prefix.compare(pb.prefix);
  if (r != 0) return r;
  r = CompareDigits(pa.digits, pb.digits);
  if (r != 0) return r;
  return pa.rest.compare(pb.rest);
}

int NumericComparator::Compare(const ldb::Slice& a, const ldb::Slice& b) const {
  const bool a_short = a.size() < kExpireSize;
  const bool b_short = b.size() < kExpireSize;
  if (a_short || b_short) {
    if (a_short && b_short) return a.compare(b);
    return a_short ? -1 : +1;
  }
  const ldb::Slice sa = StripExpire(a);
  const ldb::Slice sb = StripExpire(b);
  const ldb::Slice ha(sa.data(), std::min(sa.size(), kBucketAreaSize));
  const ldb::Slice hb(sb.data(), std::min(sb.size(), kBucketAreaSize));
  const int r = ha.compare(hb);
  if (r != 0) return r;
  // Equal headers have equal lengths; a short one means no user key at all.
  if (ha.size() < kBucketAreaSize) return 0;
  return CompareUserKeys(
      ldb::Slice(sa.data() + kBucketAreaSize, sa.size() - kBucketAreaSize),
      ldb::Slice(sb.data() + kBucketAreaSize, sb.size() - kBucketAreaSize));
}

}  // namespace tessera::comparators
