// ldbtool check-buckets: every live key must be stored in a bucket this node holds,
// and its stored bucket field must equal BucketOf(user key, bucket count). What the
// node holds is --buckets, or else what the bucket table the data server remembered
// in the directory (dataserver/table_file.h) gives its identity: every bucket it
// masters or replicates, plus, while that table plans a migration, the buckets
// planned to it. The bucket count is --bucket_count, or else that table's. Prints the
// misplaced keys (up to --max_report), the keys per bucket, and a summary; exit 1
// when any key is misplaced.
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "common/bucket_hash.h"
#include "comparators/key_codec.h"
#include "dataserver/table_file.h"
#include "tools/ldbtool/commands.h"
#include "tools/ldbtool/text_util.h"
#include "tools/ldbtool/tool_db.h"

namespace tessera::ldbtool {

namespace cmp = tessera::comparators;

namespace {

void Fail(const std::string& message) {
  std::fprintf(stderr, "ldbtool check-buckets: %s\n", message.c_str());
}

// Works out the bucket count and the buckets this node holds (printing where they
// come from). Returns kExitOk to go on, else the exit code (message printed).
int ResolveHeld(const CheckArgs& args, ldb::Env* env, uint32_t* bucket_count,
                BucketSet* held) {
  ds::TableFile::Contents remembered;
  const Status ts = ds::TableFile::Read(env, args.db, &remembered);
  const std::string advice = "pass --buckets LIST and --bucket_count N to check without it";
  if (args.buckets.empty() && !ts.ok()) {
    if (ts.Is(Code::kNotFound)) {
      Fail(args.db + " has no " + ds::TableFile::kFileName +
           " (a data server writes it when it applies a bucket table); " + advice);
      return kExitUsage;
    }
    Fail(ts.message() + "; " + advice);
    return kExitError;
  }
  uint64_t count = args.bucket_count;
  if (ts.ok()) {
    const uint32_t table_count = remembered.table->bucket_count();
    if (count == 0) {
      count = table_count;
    } else if (count != table_count && args.buckets.empty()) {
      Fail("--bucket_count " + std::to_string(count) + " differs from the remembered table's " +
           std::to_string(table_count) + " (" + ds::TableFile::Path(args.db) + ")");
      return kExitUsage;
    }
  }
  if (count == 0) {
    Fail("--bucket_count N is required (no usable remembered table: " + ts.message() + ")");
    return kExitUsage;
  }
  *bucket_count = static_cast<uint32_t>(count);
  if (!args.buckets.empty()) {
    Status s = BucketSet::Parse(args.buckets, count, held);
    if (!s.ok()) {
      Fail("--buckets: " + s.message());
      return kExitUsage;
    }
    std::printf("held: %llu buckets (%s), from --buckets; bucket_count %llu\n",
                static_cast<unsigned long long>(held->Count()), held->ToString().c_str(),
                static_cast<unsigned long long>(count));
    return kExitOk;
  }
  const BucketTable& table = *remembered.table;
  const std::string& self = remembered.self_address;
  *held = BucketSet::Of(ds::HeldBuckets(table, self, /*with_incoming=*/true));
  const std::string source = "table version " + std::to_string(table.version()) +
                             " remembered in " + ds::TableFile::Path(args.db);
  if (table.ServerIndex(self) < 0) {
    std::printf("held: none: node %s is not in %s; bucket_count %u\n", self.c_str(),
                source.c_str(), *bucket_count);
    return kExitOk;
  }
  std::printf("held: %llu buckets (%s) by node %s in %s; bucket_count %u%s\n",
              static_cast<unsigned long long>(held->Count()),
              held->Count() == 0 ? "none" : held->ToString().c_str(), self.c_str(),
              source.c_str(), *bucket_count,
              table.migrating() ? "; a migration is planned in it: buckets planned to this "
                                  "node count as held"
                                : "");
  return kExitOk;
}

}  // namespace

int RunCheckBuckets(const CheckArgs& args) {
  std::unique_ptr<ToolDb> tdb;
  Status s = ToolDb::Open(args.db, &tdb);
  if (!s.ok()) {
    Fail(s.message());
    return kExitError;
  }
  uint32_t n = 0;
  BucketSet held;
  const int resolved = ResolveHeld(args, tdb->env(), &n, &held);
  if (resolved != kExitOk) return resolved;
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
    Fail(s.message());
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
