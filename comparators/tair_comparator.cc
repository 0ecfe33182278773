// Hooks and key shortening shared by the Tair comparators.
#include "comparators/tair_comparator.h"

#include <algorithm>
#include <cstdint>

#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"

namespace tessera::comparators {

namespace {

// Bytewise separator: some t with s <= t < limit (bytewise), shorter than s
// when possible. Returns false when no shorter t was found.
bool BytewiseSeparator(const ldb::Slice& s, const ldb::Slice& limit,
                       std::string* t) {
  const size_t common = std::min(s.size(), limit.size());
  size_t d = 0;
  while (d < common && s[d] == limit[d]) ++d;
  if (d == common) return false;  // one is a prefix of the other
  const auto sb = static_cast<uint8_t>(s[d]);
  const auto lb = static_cast<uint8_t>(limit[d]);
  if (sb >= lb) return false;  // s >= limit: contract broken, keep s
  if (sb + 1 < lb) {
    if (d + 1 >= s.size()) return false;  // would not be shorter
    t->assign(s.data(), d + 1);
    (*t)[d] = static_cast<char>(sb + 1);
    return true;
  }
  // s[d] + 1 == limit[d]: any increment after d keeps t below limit.
  for (size_t i = d + 1; i + 1 < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b != 0xff) {
      t->assign(s.data(), i + 1);
      (*t)[i] = static_cast<char>(b + 1);
      return true;
    }
  }
  return false;
}

// Bytewise successor: increment the first byte that is not 0xff and cut the
// rest. False when every byte is 0xff (or s is empty).
bool BytewiseSuccessor(const ldb::Slice& s, std::string* t) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b != 0xff) {
      t->assign(s.data(), i + 1);
      (*t)[i] = static_cast<char>(b + 1);
      return true;
    }
  }
  return false;
}

// Prefixes `suffix` with the expire bytes of `original`, padding it with zero
// bytes to a decodable key when `original` was decodable.
std::string Reassemble(const ldb::Slice& original, const std::string& suffix) {
  std::string out(original.data(), kExpireSize);
  out.append(suffix);
  if (original.size() >= kKeyHeaderSize && out.size() < kKeyHeaderSize) {
    out.resize(kKeyHeaderSize, '\0');
  }
  return out;
}

}  // namespace

bool TairComparator::ShouldDrop(const ldb::Slice& user_key,
                                ldb::SequenceNumber seq,
                                uint64_t /*now_seconds*/) const {
  if (registry_ == nullptr) return false;
  KeyParts parts;
  if (DecodeStoredKey(user_key, &parts)) {
    return registry_->Reclaims(parts.bucket, parts.area, seq);
  }
  uint32_t bucket = 0;
  return GetKeyBucket(user_key, &bucket) &&
         registry_->ReclaimsBucket(bucket, seq);
}

bool TairComparator::ShouldDropMaybe(const ldb::Slice& user_key,
                                     ldb::SequenceNumber /*seq*/,
                                     uint64_t now_seconds) const {
  uint32_t expire = 0;
  return GetKeyExpire(user_key, &expire) && expire != kNeverExpire &&
         expire <= now_seconds;
}

bool TairComparator::ShouldStopBefore(const ldb::Slice& start_user_key,
                                      const ldb::Slice& user_key) const {
  uint32_t a = 0;
  uint32_t b = 0;
  return GetKeyBucket(start_user_key, &a) && GetKeyBucket(user_key, &b) &&
         a != b;
}

bool TairComparator::ShouldDropRange(const ldb::Slice& smallest_user_key,
                                     const ldb::Slice& largest_user_key,
                                     ldb::SequenceNumber max_seq) const {
  if (registry_ == nullptr) return false;
  KeyParts lo;
  KeyParts hi;
  if (!DecodeStoredKey(smallest_user_key, &lo) ||
      !DecodeStoredKey(largest_user_key, &hi) || lo.bucket != hi.bucket) {
    return false;
  }
  // Every key between two keys of one bucket is in that bucket (bucket bytes
  // come first in both orders); the same holds for bucket+area.
  if (registry_->ReclaimsBucket(lo.bucket, max_seq)) return true;
  return lo.area == hi.area && registry_->Reclaims(lo.bucket, lo.area, max_seq);
}

void TairComparator::FindShortestSeparator(std::string* start,
                                           const ldb::Slice& limit) const {
  if (start->size() < kExpireSize || limit.size() < kExpireSize) return;
  const ldb::Slice original(*start);
  std::string suffix;
  if (!BytewiseSeparator(StripExpire(original), StripExpire(limit), &suffix)) {
    return;
  }
  std::string candidate = Reassemble(original, suffix);
  if (candidate.size() < start->size() && Compare(original, candidate) <= 0 &&
      Compare(candidate, limit) < 0) {
    start->swap(candidate);
  }
}

void TairComparator::FindShortSuccessor(std::string* key) const {
  if (key->size() < kExpireSize) return;
  const ldb::Slice original(*key);
  std::string suffix;
  if (!BytewiseSuccessor(StripExpire(original), &suffix)) return;
  std::string candidate = Reassemble(original, suffix);
  if (candidate.size() < key->size() && Compare(original, candidate) <= 0) {
    key->swap(candidate);
  }
}

}  // namespace tessera::comparators
