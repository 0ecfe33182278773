#include "comparators/key_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "comparators/bitcmp_comparator.h"
#include "comparators/numeric_comparator.h"
#include "gtest/gtest.h"
#include "util/random.h"

namespace tessera::comparators {
namespace {

TEST(KeyCodecTest, RoundTrip) {
  const uint32_t expires[] = {0, 1, 0x01020304, 0xffffffff};
  const uint32_t buckets[] = {0, 1, 0x123456, kMaxBucket};
  const uint16_t areas[] = {0, 1, 0x0102, 0xffff};
  const std::string user_keys[] = {"", "k", std::string("a\0b", 3),
                                   std::string(1000, '\xff')};
  for (uint32_t e : expires) {
    for (uint32_t b : buckets) {
      for (uint16_t a : areas) {
        for (const std::string& u : user_keys) {
          const std::string key = EncodeStoredKey(e, b, a, u);
          ASSERT_EQ(kKeyHeaderSize + u.size(), key.size());
          KeyParts parts;
          ASSERT_TRUE(DecodeStoredKey(key, &parts));
          EXPECT_EQ(e, parts.expire);
          EXPECT_EQ(b, parts.bucket);
          EXPECT_EQ(a, parts.area);
          EXPECT_EQ(ldb::Slice(u), parts.user_key);
          uint32_t e2 = 7, b2 = 7;
          uint16_t a2 = 7;
          ASSERT_TRUE(GetKeyExpire(key, &e2));
          ASSERT_TRUE(GetKeyBucket(key, &b2));
          ASSERT_TRUE(GetKeyArea(key, &a2));
          EXPECT_EQ(e, e2);
          EXPECT_EQ(b, b2);
          EXPECT_EQ(a, a2);
        }
      }
    }
  }
}

TEST(KeyCodecTest, LayoutIsBigEndian) {
  const std::string key = EncodeStoredKey(0x01020304, 0x050607, 0x0809, "u");
  EXPECT_EQ(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09u"), key);
}

TEST(KeyCodecTest, ShortKeysAreRejected) {
  const std::string full = EncodeStoredKey(5, 6, 7, "");
  for (size_t n = 0; n < kKeyHeaderSize; ++n) {
    const ldb::Slice key(full.data(), n);
    KeyParts parts;
    EXPECT_FALSE(DecodeStoredKey(key, &parts)) << n;
    uint32_t v = 0;
    uint16_t a = 0;
    EXPECT_EQ(n >= 4, GetKeyExpire(key, &v)) << n;
    EXPECT_EQ(n >= 7, GetKeyBucket(key, &v)) << n;
    EXPECT_FALSE(GetKeyArea(key, &a)) << n;
  }
}

TEST(KeyCodecTest, SetExpireAndStrip) {
  std::string key = EncodeStoredKey(0, 3, 4, "user");
  SetKeyExpire(&key, 0xa0b0c0d0);
  KeyParts parts;
  ASSERT_TRUE(DecodeStoredKey(key, &parts));
  EXPECT_EQ(0xa0b0c0d0u, parts.expire);
  EXPECT_EQ(ldb::Slice("user"), parts.user_key);
  EXPECT_EQ(ldb::Slice(key.data() + 4, key.size() - 4), StripExpire(key));
  EXPECT_EQ(ldb::Slice("abc"), StripExpire("abc"));
}

TEST(KeyCodecTest, ValueRoundTrip) {
  ValueMeta meta;
  meta.flags = 0x5a;
  meta.version = 0x11223344;
  meta.created = 1700000000;
  meta.modified = 1700000100;
  meta.expire = 0xffffffff;
  for (const std::string& user :
       {std::string(), std::string("value"), std::string(5000, '\0')}) {
    const std::string stored = EncodeStoredValue(meta, user);
    ASSERT_EQ(kValueMetaSize + user.size(), stored.size());
    ValueMeta got;
    ldb::Slice got_user;
    ASSERT_TRUE(DecodeStoredValue(stored, &got, &got_user));
    EXPECT_EQ(meta, got);
    EXPECT_EQ(ldb::Slice(user), got_user);
  }
}

TEST(KeyCodecTest, ValueLayoutIsLittleEndian) {
  ValueMeta meta;
  meta.flags = 2;
  meta.version = 0x04030201;
  meta.created = 5;
  meta.modified = 6;
  meta.expire = 7;
  EXPECT_EQ(std::string(
                "\x01\x02\x01\x02\x03\x04\x05\0\0\0\x06\0\0\0\x07\0\0\0v", 19),
            EncodeStoredValue(meta, "v"));
}

TEST(KeyCodecTest, ValueValidation) {
  const std::string stored = EncodeStoredValue(ValueMeta(), "xyz");
  ValueMeta meta;
  ldb::Slice user;
  for (size_t n = 0; n < kValueMetaSize; ++n) {
    EXPECT_FALSE(DecodeStoredValue(ldb::Slice(stored.data(), n), &meta, &user))
        << n;
  }
  EXPECT_TRUE(DecodeStoredValue(ldb::Slice(stored.data(), kValueMetaSize),
                                &meta, &user));
  EXPECT_TRUE(user.empty());
  for (int version : {0, 2, 255}) {
    std::string bad = stored;
    bad[0] = static_cast<char>(version);
    EXPECT_FALSE(DecodeStoredValue(bad, &meta, &user)) << version;
  }
  // The header is always written with the current meta version.
  ValueMeta odd;
  odd.meta_version = 9;
  EXPECT_TRUE(DecodeStoredValue(EncodeStoredValue(odd, ""), &meta, &user));
  EXPECT_EQ(kValueMetaVersion, meta.meta_version);
}

TEST(KeyCodecTest, RangeEdges) {
  const StoredKeyRange last_bucket = BucketKeyRange(kMaxBucket);
  EXPECT_FALSE(last_bucket.limit.has_value());
  const StoredKeyRange last_area = AreaKeyRange(kMaxBucket, 0xffff);
  EXPECT_FALSE(last_area.limit.has_value());
  const StoredKeyRange wrap = AreaKeyRange(7, 0xffff);
  ASSERT_TRUE(wrap.limit.has_value());
  EXPECT_EQ(EncodeStoredKey(0, 8, 0, ""), *wrap.limit);
  EXPECT_EQ(EncodeStoredKey(0, 7, 0, ""), BucketKeyRange(7).start);
  EXPECT_EQ(EncodeStoredKey(0, 8, 0, ""), *BucketKeyRange(7).limit);
  EXPECT_EQ(EncodeStoredKey(0, 7, 3, ""), AreaKeyRange(7, 3).start);
  EXPECT_EQ(EncodeStoredKey(0, 7, 4, ""), *AreaKeyRange(7, 3).limit);
}

// Random keys near a few chosen buckets/areas: each range helper contains
// exactly the keys of its bucket (area), whatever their expire, under both
// comparators.
TEST(KeyCodecTest, RangesContainExactlyTheirKeys) {
  ldb::Random rnd(301);
  BitcmpComparator bitcmp;
  NumericComparator numeric;
  const ldb::Comparator* cmps[] = {&bitcmp, &numeric};
  const uint32_t interesting_buckets[] = {
      0, 1, 2, 255, 256, 0xffff, 0x10000, kMaxBucket - 1, kMaxBucket};
  const uint16_t interesting_areas[] = {0, 1, 0xff, 0x100, 0xfffe, 0xffff};
  auto pick_bucket = [&] {
    return rnd.OneIn(4) ? rnd.Next() & kMaxBucket
                        : interesting_buckets[rnd.Uniform(9)];
  };
  auto pick_area = [&] {
    return static_cast<uint16_t>(
        rnd.OneIn(4) ? rnd.Next() : interesting_areas[rnd.Uniform(6)]);
  };
  auto random_user_key = [&] {
    std::string u;
    const int len = static_cast<int>(rnd.Uniform(12));
    for (int i = 0; i < len; ++i) {
      const uint32_t kind = rnd.Uniform(4);
      u.push_back(kind == 0   ? ':'
                  : kind == 1 ? static_cast<char>('0' + rnd.Uniform(10))
                  : kind == 2 ? static_cast<char>(rnd.Next())
                              : static_cast<char>(rnd.OneIn(2) ? 0 : 0xff));
    }
    return u;
  };
  for (int round = 0; round < 200; ++round) {
    const uint32_t rb = pick_bucket();
    const uint16_t ra = pick_area();
    const StoredKeyRange bucket_range = BucketKeyRange(rb);
    const StoredKeyRange area_range = AreaKeyRange(rb, ra);
    for (int i = 0; i < 50; ++i) {
      // Half the keys land in the chosen bucket.
      const uint32_t b = rnd.OneIn(2) ? rb : pick_bucket();
      const uint16_t a = rnd.OneIn(2) ? ra : pick_area();
      const std::string key =
          EncodeStoredKey(rnd.Next(), b, a, random_user_key());
      for (const ldb::Comparator* cmp : cmps) {
        EXPECT_EQ(b == rb, bucket_range.Contains(*cmp, key)) << cmp->Name();
        EXPECT_EQ(b == rb && a == ra, area_range.Contains(*cmp, key))
            << cmp->Name();
      }
    }
  }
}

}  // namespace
}  // namespace tessera::comparators
