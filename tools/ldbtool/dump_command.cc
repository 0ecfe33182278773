// ldbtool dump: one line per key.
//
//   bucket=B area=A key="..." version=V expire=never|SECONDS(ISO) size=N value="..."
//
// key / value are escaped (printable ASCII as is, other bytes \xNN) or, with --hex,
// hex:.... The value preview is the first kPreviewBytes bytes of the user value.
// With --all, keys reads cannot see are listed too, marked [expired] or
// [reclaimed]. A summary line goes to stderr.
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "ldb/db.h"
#include "tools/ldbtool/commands.h"
#include "tools/ldbtool/text_util.h"
#include "tools/ldbtool/tool_db.h"

namespace tessera::ldbtool {

namespace cmp = tessera::comparators;

namespace {

constexpr size_t kPreviewBytes = 32;

std::string FormatExpire(uint32_t expire) {
  if (expire == cmp::kNeverExpire) return "never";
  const std::time_t t = expire;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::to_string(expire) + "(" + buf + ")";
}

std::string Bytes(std::string_view b, bool hex) {
  std::string out = hex ? "hex:" : "\"";
  out += hex ? HexBytes(b) : EscapeBytes(b);
  if (!hex) out += '"';
  return out;
}

}  // namespace

int RunDump(const DumpArgs& args) {
  std::unique_ptr<ToolDb> tdb;
  Status s = ToolDb::Open(args.db, &tdb);
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool dump: %s\n", s.message().c_str());
    return kExitError;
  }
  // What the GC registry reclaims, to tell reclaimed keys from expired ones.
  std::set<uint32_t> gc_buckets;
  std::set<std::pair<uint32_t, uint16_t>> gc_areas;
  for (const cmp::GcEntry& e : tdb->registry()->List()) {
    if (e.kind == cmp::GcKind::kBucket) {
      gc_buckets.insert(e.bucket);
    } else {
      gc_areas.emplace(e.bucket, e.area);
    }
  }

  std::optional<cmp::StoredKeyRange> range;
  if (args.bucket >= 0 && args.area >= 0) {
    range = cmp::AreaKeyRange(static_cast<uint32_t>(args.bucket),
                              static_cast<uint16_t>(args.area));
  } else if (args.bucket >= 0) {
    range = cmp::BucketKeyRange(static_cast<uint32_t>(args.bucket));
  }
  const uint32_t now = tdb->NowSeconds();
  uint64_t shown = 0, expired = 0, reclaimed = 0;
  s = tdb->Scan(range ? &*range : nullptr, args.all,
                [&](const ldb::Slice& key, const ldb::Slice& value) {
    if (args.limit != 0 && shown >= args.limit) return false;
    cmp::KeyParts parts;
    if (!cmp::DecodeStoredKey(key, &parts)) {
      if (args.bucket < 0 && args.area < 0) {
        std::printf("undecodable key hex:%s size=%zu\n",
                    HexBytes(std::string_view(key.data(), key.size())).c_str(),
                    value.size());
        ++shown;
      }
      return true;
    }
    if (args.area >= 0 && parts.area != args.area) return true;
    const char* mark = "";
    if (args.all) {
      if (parts.expire != cmp::kNeverExpire && parts.expire <= now) {
        mark = " [expired]";
        ++expired;
      } else if (gc_buckets.contains(parts.bucket) ||
                 gc_areas.contains({parts.bucket, parts.area})) {
        std::string ignored;
        if (tdb->db()->Get(ldb::ReadOptions(), key, &ignored).IsNotFound()) {
          mark = " [reclaimed]";
          ++reclaimed;
        }
      }
    }
    const std::string user_key(parts.user_key.data(), parts.user_key.size());
    cmp::ValueMeta meta;
    ldb::Slice user_value;
    std::string line = "bucket=" + std::to_string(parts.bucket) +
                       " area=" + std::to_string(parts.area) +
                       " key=" + Bytes(user_key, args.hex);
    if (cmp::DecodeStoredValue(value, &meta, &user_value)) {
      const std::string_view v(user_value.data(), user_value.size());
      line += " version=" + std::to_string(meta.version) +
              " expire=" + FormatExpire(parts.expire) +
              " size=" + std::to_string(v.size()) +
              " value=" + Bytes(v.substr(0, kPreviewBytes), args.hex);
      if (v.size() > kPreviewBytes) line += "...";
    } else {
      line += " expire=" + FormatExpire(parts.expire) + " value=<undecodable, " +
              std::to_string(value.size()) + " bytes>";
    }
    line += mark;
    std::printf("%s\n", line.c_str());
    ++shown;
    return true;
  });
  std::fflush(stdout);
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool dump: %s\n", s.message().c_str());
    return kExitError;
  }
  if (args.all) {
    std::fprintf(stderr, "%llu keys (%llu expired, %llu reclaimed)\n",
                 static_cast<unsigned long long>(shown),
                 static_cast<unsigned long long>(expired),
                 static_cast<unsigned long long>(reclaimed));
  } else {
    std::fprintf(stderr, "%llu keys\n", static_cast<unsigned long long>(shown));
  }
  return kExitOk;
}

}  // namespace tessera::ldbtool
