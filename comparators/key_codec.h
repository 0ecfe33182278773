// The Tair key codec: how a (expire, bucket, area, user key) tuple is laid out
// as an ldb key, and the fixed header in front of every stored value.
//
// Stored key (all big-endian so that bytewise order is numeric order):
//
//   [expire u32][bucket 3 bytes][area u16][user key ...]
//    0        4               7         9
//
// `expire` is in seconds since the Unix epoch, 0 meaning "never". The
// comparators in this directory ignore the 4 expire bytes: one logical key
// with a new TTL is still the same key. A key is "decodable" when it has at
// least kKeyHeaderSize bytes.
//
// Stored value: a ValueMeta header (kValueMetaSize bytes, little-endian)
// followed by the user value.
//
// Everything here is a pure function over bytes: thread-safe.
#ifndef TESSERA_COMPARATORS_KEY_CODEC_H_
#define TESSERA_COMPARATORS_KEY_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ldb/comparator.h"
#include "ldb/slice.h"

namespace tessera::comparators {

inline constexpr size_t kExpireSize = 4;
inline constexpr size_t kBucketSize = 3;
inline constexpr size_t kAreaSize = 2;
// Bytes in front of the user key.
inline constexpr size_t kKeyHeaderSize = kExpireSize + kBucketSize + kAreaSize;
// The bucket|area part that follows the expire bytes.
inline constexpr size_t kBucketAreaSize = kBucketSize + kAreaSize;

inline constexpr uint32_t kMaxBucket = (1u << 24) - 1;
inline constexpr uint32_t kMaxArea = 0xffff;
inline constexpr uint32_t kNeverExpire = 0;

// A decoded stored key. `user_key` points into the decoded bytes.
struct KeyParts {
  uint32_t expire = kNeverExpire;
  uint32_t bucket = 0;
  uint16_t area = 0;
  ldb::Slice user_key;
};

// Appends the stored form of the key to *dst.
// REQUIRES: bucket <= kMaxBucket.
void AppendStoredKey(std::string* dst, uint32_t expire, uint32_t bucket,
                     uint16_t area, const ldb::Slice& user_key);

// The stored form of the key. REQUIRES: bucket <= kMaxBucket.
std::string EncodeStoredKey(uint32_t expire, uint32_t bucket, uint16_t area,
                            const ldb::Slice& user_key);

// Splits a stored key. Returns false (leaving *parts unspecified) when it is
// shorter than kKeyHeaderSize.
[[nodiscard]] bool DecodeStoredKey(const ldb::Slice& stored, KeyParts* parts);

// Field accessors; each returns false when the key is too short to hold the
// field (expire: 4 bytes, bucket: 7, area: 9).
[[nodiscard]] bool GetKeyExpire(const ldb::Slice& stored, uint32_t* expire);
[[nodiscard]] bool GetKeyBucket(const ldb::Slice& stored, uint32_t* bucket);
[[nodiscard]] bool GetKeyArea(const ldb::Slice& stored, uint16_t* area);

// Overwrites the expire bytes. REQUIRES: stored->size() >= kExpireSize.
void SetKeyExpire(std::string* stored, uint32_t expire);

// The key without its expire bytes (what the comparators and the expire bloom
// filter look at). A key shorter than kExpireSize is returned whole.
ldb::Slice StripExpire(const ldb::Slice& stored);

// A half-open range [start, limit) of stored keys under BitcmpComparator and
// NumericComparator (both order by bucket, then area, first). The bounds use
// expire 0, which the comparators ignore. `limit` is empty when the range runs
// to the end of the key space (the last bucket, or its last area).
struct StoredKeyRange {
  std::string start;
  std::optional<std::string> limit;

  // True when start <= key < limit under `cmp`.
  bool Contains(const ldb::Comparator& cmp, const ldb::Slice& key) const;
};

// Every key of `bucket`. REQUIRES: bucket <= kMaxBucket.
StoredKeyRange BucketKeyRange(uint32_t bucket);
// Every key of (bucket, area). REQUIRES: bucket <= kMaxBucket.
StoredKeyRange AreaKeyRange(uint32_t bucket, uint16_t area);

// --- Value header.

inline constexpr uint8_t kValueMetaVersion = 1;
// meta_version, flags, version, created, modified, expire.
inline constexpr size_t kValueMetaSize = 1 + 1 + 4 + 4 + 4 + 4;

// Fixed header in front of every stored value. Times are seconds since the
// Unix epoch; expire 0 means "never".
struct ValueMeta {
  uint8_t meta_version = kValueMetaVersion;
  uint8_t flags = 0;
  uint32_t version = 0;   // bumped on every write (CAS)
  uint32_t created = 0;   // seconds
  uint32_t modified = 0;  // seconds
  uint32_t expire = 0;    // seconds, 0 = never

  friend bool operator==(const ValueMeta&, const ValueMeta&) = default;
};

// Appends the header (always written with kValueMetaVersion, whatever
// meta.meta_version says) and the user value to *dst.
void AppendStoredValue(std::string* dst, const ValueMeta& meta,
                       const ldb::Slice& user_value);
std::string EncodeStoredValue(const ValueMeta& meta,
                              const ldb::Slice& user_value);

// Splits a stored value; *user_value points into `stored`. Returns false when
// it is shorter than the header or its meta_version is unknown.
[[nodiscard]] bool DecodeStoredValue(const ldb::Slice& stored, ValueMeta* meta,
                                     ldb::Slice* user_value);

}  // namespace tessera::comparators

#endif  // TESSERA_COMPARATORS_KEY_CODEC_H_
