// See key_codec.h for the layouts.
#include "comparators/key_codec.h"

#include <cassert>

namespace tessera::comparators {

namespace {

inline uint32_t LoadBig(const char* p, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    v = (v << 8) | static_cast<uint8_t>(p[i]);
  }
  return v;
}

inline void StoreBig(char* p, size_t n, uint32_t v) {
  for (size_t i = n; i > 0; --i) {
    p[i - 1] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

inline uint32_t LoadLittle32(const char* p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) |
         (static_cast<uint32_t>(b[3]) << 24);
}

inline void StoreLittle32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// Stored key with expire 0 and an empty user key.
std::string HeaderKey(uint32_t bucket, uint16_t area) {
  return EncodeStoredKey(kNeverExpire, bucket, area, ldb::Slice());
}

}  // namespace

void AppendStoredKey(std::string* dst, uint32_t expire, uint32_t bucket,
                     uint16_t area, const ldb::Slice& user_key) {
  assert(bucket <= kMaxBucket);
  char header[kKeyHeaderSize];
  StoreBig(header, kExpireSize, expire);
  StoreBig(header + kExpireSize, kBucketSize, bucket & kMaxBucket);
  StoreBig(header + kExpireSize + kBucketSize, kAreaSize, area);
  dst->append(header, sizeof(header));
  dst->append(user_key.data(), user_key.size());
}

std::string EncodeStoredKey(uint32_t expire, uint32_t bucket, uint16_t area,
                            const ldb::Slice& user_key) {
  std::string out;
  out.reserve(kKeyHeaderSize + user_key.size());
  AppendStoredKey(&out, expire, bucket, area, user_key);
  return out;
}

bool DecodeStoredKey(const ldb::Slice& stored, KeyParts* parts) {
  if (stored.size() < kKeyHeaderSize) return false;
  const char* p = stored.data();
  parts->expire = LoadBig(p, kExpireSize);
  parts->bucket = LoadBig(p + kExpireSize, kBucketSize);
  parts->area =
      static_cast<uint16_t>(LoadBig(p + kExpireSize + kBucketSize, kAreaSize));
  parts->user_key =
      ldb::Slice(p + kKeyHeaderSize, stored.size() - kKeyHeaderSize);
  return true;
}

bool GetKeyExpire(const ldb::Slice& stored, uint32_t* expire) {
  if (stored.size() < kExpireSize) return false;
  *expire = LoadBig(stored.data(), kExpireSize);
  return true;
}

bool GetKeyBucket(const ldb::Slice& stored, uint32_t* bucket) {
  if (stored.size() < kExpireSize + kBucketSize) return false;
  *bucket = LoadBig(stored.data() + kExpireSize, kBucketSize);
  return true;
}

bool GetKeyArea(const ldb::Slice& stored, uint16_t* area) {
  if (stored.size() < kKeyHeaderSize) return false;
  *area = static_cast<uint16_t>(
      LoadBig(stored.data() + kExpireSize + kBucketSize, kAreaSize));
  return true;
}

void SetKeyExpire(std::string* stored, uint32_t expire) {
  assert(stored->size() >= kExpireSize);
  StoreBig(stored->data(), kExpireSize, expire);
}

ldb::Slice StripExpire(const ldb::Slice& stored) {
  if (stored.size() < kExpireSize) return stored;
  return ldb::Slice(stored.data() + kExpireSize, stored.size() - kExpireSize);
}

bool StoredKeyRange::Contains(const ldb::Comparator& cmp,
                              const ldb::Slice& key) const {
  if (cmp.Compare(key, start) < 0) return false;
  return !limit.has_value() || cmp.Compare(key, *limit) < 0;
}

StoredKeyRange BucketKeyRange(uint32_t bucket) {
  assert(bucket <= kMaxBucket);
  StoredKeyRange range;
  range.start = HeaderKey(bucket, 0);
  if (bucket < kMaxBucket) range.limit = HeaderKey(bucket + 1, 0);
  return range;
}

StoredKeyRange AreaKeyRange(uint32_t bucket, uint16_t area) {
  assert(bucket <= kMaxBucket);
  StoredKeyRange range;
  range.start = HeaderKey(bucket, area);
  if (area < kMaxArea) {
    range.limit = HeaderKey(bucket, static_cast<uint16_t>(area + 1));
  } else if (bucket < kMaxBucket) {
    range.limit = HeaderKey(bucket + 1, 0);
  }
  return range;
}

void AppendStoredValue(std::string* dst, const ValueMeta& meta,
                       const ldb::Slice& user_value) {
  char header[kValueMetaSize];
  header[0] = static_cast<char>(kValueMetaVersion);
  header[1] = static_cast<char>(meta.flags);
  StoreLittle32(header + 2, meta.version);
  StoreLittle32(header + 6, meta.created);
  StoreLittle32(header + 10, meta.modified);
  StoreLittle32(header + 14, meta.expire);
  dst->append(header, sizeof(header));
  dst->append(user_value.data(), user_value.size());
}

std::string EncodeStoredValue(const ValueMeta& meta,
                              const ldb::Slice& user_value) {
  std::string out;
  out.reserve(kValueMetaSize + user_value.size());
  AppendStoredValue(&out, meta, user_value);
  return out;
}

bool DecodeStoredValue(const ldb::Slice& stored, ValueMeta* meta,
                       ldb::Slice* user_value) {
  if (stored.size() < kValueMetaSize) return false;
  const char* p = stored.data();
  const uint8_t meta_version = static_cast<uint8_t>(p[0]);
  if (meta_version != kValueMetaVersion) return false;
  meta->meta_version = meta_version;
  meta->flags = static_cast<uint8_t>(p[1]);
  meta->version = LoadLittle32(p + 2);
  meta->created = LoadLittle32(p + 6);
  meta->modified = LoadLittle32(p + 10);
  meta->expire = LoadLittle32(p + 14);
  *user_value = ldb::Slice(p + kValueMetaSize, stored.size() - kValueMetaSize);
  return true;
}

}  // namespace tessera::comparators
