// ldbtool check-buckets: every live key must be stored in a bucket this node holds
// (--buckets), and its stored bucket field must equal BucketOf(user key,
// --bucket_count). Prints the misplaced keys (up to --max_report), the keys per
// bucket, and a summary; exit 1 when any key is misplaced.
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "common/bucket_hash.h"
#include "comparators/key_codec.h"
#include "tools/ldbtool/commands.h"
#include "tools/ldbtool/text_util.h"
#include "tools/ldbtool/tool_db.h"

namespace tessera::ldbtool {

namespace cmp = tessera::comparators;

int RunCheckBuckets(const CheckArgs& args) {
  BucketSet held;
  Status s = BucketSet::Parse(args.buckets, args.bucket_count, &held);
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool check-buckets: --buckets: %s\n", s.message().c_str());
    return kExitUsage;
  }
  std::unique_ptr<ToolDb> tdb;
  s = ToolDb::Open(args.db, &tdb);
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool check-buckets: %s\n", s.message().c_str());
    return kExitError;
  }
  const uint32_t n = static_cast<uint32_t>(args.bucket_count);
  std::map<uint32_t, uint64_t> keys_per_bucket;
  uint64_t keys = 0, not_held = 0, wrong_bucket = 0, undecodable = 0, reported = 0;
  auto report = [&](const std::string& line) {
    if (reported++ < args.max_report) std::printf("misplaced: %s\n", line.c_str());
  };
  s = tdb->Scan(nullptr, false, [&](const ldb::Slice& key, const ldb::Slice&) {
    ++keys;
    cmp::KeyParts p;
    if (!cmp::DecodeStoredKey(key, &p)) {
      ++undecodable;
      report("undecodable key hex:" + HexBytes(std::string_view(key.data(), key.size())));
      return true;
    }
    ++keys_per_bucket[p.bucket];
    const std::string_view user_key(p.user_key.data(), p.user_key.size());
    const std::string what = "bucket=" + std::to_string(p.bucket) +
                             " area=" + std::to_string(p.area) + " key=\"" +
                             EscapeBytes(user_key) + "\"";
    if (!held.Contains(p.bucket)) {
      ++not_held;
      report(what + " (bucket " + std::to_string(p.bucket) + " is not held by this node)");
    }
    const uint32_t hashed = BucketOf(user_key, n);
    if (hashed != p.bucket) {
      ++wrong_bucket;
      report(what + " (key hashes to bucket " + std::to_string(hashed) + ")");
    }
    return true;
  });
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool check-buckets: %s\n", s.message().c_str());
    return kExitError;
  }
  if (reported > args.max_report) {
    std::printf("... %llu more misplaced keys not shown (--max_report)\n",
                static_cast<unsigned long long>(reported - args.max_report));
  }
  std::printf("keys per bucket:\n");
  uint64_t held_with_keys = 0;
  for (const auto& [b, k] : keys_per_bucket) {
    const bool ok = held.Contains(b);
    held_with_keys += ok ? 1 : 0;
    std::printf("  bucket %u: %llu keys%s\n", b, static_cast<unsigned long long>(k),
                ok ? "" : " (NOT HELD)");
  }
  std::printf("checked %llu keys in %zu buckets (%llu of %llu held buckets have keys): "
              "%llu in buckets not held, %llu with a wrong bucket field, %llu undecodable\n",
              static_cast<unsigned long long>(keys), keys_per_bucket.size(),
              static_cast<unsigned long long>(held_with_keys),
              static_cast<unsigned long long>(held.Count()),
              static_cast<unsigned long long>(not_held),
              static_cast<unsigned long long>(wrong_bucket),
              static_cast<unsigned long long>(undecodable));
  const bool bad = not_held + wrong_bucket + undecodable > 0;
  std::printf("%s\n", bad ? "FAILED: misplaced keys found" : "OK: every key is in place");
  return bad ? kExitError : kExitOk;
}

}  // namespace tessera::ldbtool
