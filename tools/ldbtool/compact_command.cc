// ldbtool compact-self-level: purges buckets in place, the way a data server cleans
// up after migrating buckets away (comparators/README.md):
//  1. a GC registry entry per bucket (kind bucket, at the DB's current sequence and
//     next file number): reads stop seeing the buckets at once;
//  2. CompactRangeSelfLevel, below the file number read after the entries were
//     added, over each run of consecutive buckets;
//  3. the entries are removed (only if their sequence is still the one added).
// A failure between 1 and 3 leaves the entries in place: the data stays hidden and a
// rerun (or the data server's own cleanup) finishes the job.
//
// Prints table-file bytes on disk and the buckets' live keys/bytes before and after,
// the bytes freed and the time taken. Without --yes it only reports.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "ldb/db.h"
#include "tools/ldbtool/commands.h"
#include "tools/ldbtool/text_util.h"
#include "tools/ldbtool/tool_db.h"

namespace tessera::ldbtool {

namespace cmp = tessera::comparators;

namespace {

struct Live {
  uint64_t keys = 0;
  uint64_t bytes = 0;
};

// The stored-key range of buckets [first, last].
cmp::StoredKeyRange RunRange(uint32_t first, uint32_t last) {
  cmp::StoredKeyRange r;
  r.start = cmp::BucketKeyRange(first).start;
  r.limit = cmp::BucketKeyRange(last).limit;
  return r;
}

Status CountLive(const ToolDb& tdb, const BucketSet& set, Live* live) {
  *live = Live();
  for (const auto& [first, last] : set.ranges()) {
    const cmp::StoredKeyRange r = RunRange(first, last);
    Status s = tdb.Scan(&r, false, [&](const ldb::Slice& key, const ldb::Slice& value) {
      live->keys += 1;
      live->bytes += key.size() + value.size();
      return true;
    });
    if (!s.ok()) return s;
  }
  return Status::OK();
}

unsigned long long Ull(uint64_t v) { return static_cast<unsigned long long>(v); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "ldbtool compact-self-level: %s\n", message.c_str());
  return kExitError;
}

}  // namespace

int RunCompactSelfLevel(const CompactArgs& args) {
  BucketSet set;
  Status s = BucketSet::Parse(args.buckets, uint64_t{cmp::kMaxBucket} + 1, &set);
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool compact-self-level: --buckets: %s\n", s.message().c_str());
    return kExitUsage;
  }
  std::unique_ptr<ToolDb> tdb;
  s = ToolDb::Open(args.db, &tdb);
  if (!s.ok()) return Fail(s.message());

  uint64_t disk_before = 0;
  Live live_before;
  s = tdb->DiskBytes(&disk_before);
  if (s.ok()) s = CountLive(*tdb, set, &live_before);
  if (!s.ok()) return Fail(s.message());
  std::printf("buckets: %s (%llu buckets)\n", set.ToString().c_str(), Ull(set.Count()));
  std::printf("before: %llu bytes in table files; these buckets: %llu live keys, %llu bytes\n",
              Ull(disk_before), Ull(live_before.keys), Ull(live_before.bytes));
  if (!args.yes) {
    std::printf("dry run: would purge %llu keys (%llu bytes) in %llu buckets; nothing "
                "changed (add --yes to purge)\n",
                Ull(live_before.keys), Ull(live_before.bytes), Ull(set.Count()));
    return kExitOk;
  }

  const auto start = std::chrono::steady_clock::now();
  uint64_t sequence = 0, largest_file = 0;
  s = tdb->NumProperty("ldb.sequence", &sequence);
  if (s.ok()) s = tdb->NumProperty("ldb.largest-filenumber", &largest_file);
  if (!s.ok()) return Fail(s.message());
  const uint64_t now = tdb->NowSeconds();
  for (const auto& [first, last] : set.ranges()) {
    for (uint64_t b = first; b <= last; ++b) {
      cmp::GcEntry e;
      e.kind = cmp::GcKind::kBucket;
      e.bucket = static_cast<uint32_t>(b);
      e.sequence = sequence;
      e.file_number = largest_file + 1;
      e.created = now;
      const ldb::Status ls = tdb->registry()->Add(e);
      if (!ls.ok()) return Fail("adding the GC entry of bucket " + std::to_string(b) + ": " +
                                ls.ToString());
    }
  }
  // Read after the entries exist: every file created from now on is clean.
  s = tdb->NumProperty("ldb.largest-filenumber", &largest_file);
  if (!s.ok()) return Fail(s.message());
  const uint64_t limit_file = largest_file + 1;
  ldb::SelfLevelCompactionStats total;
  for (const auto& [first, last] : set.ranges()) {
    const cmp::StoredKeyRange r = RunRange(first, last);
    const ldb::Slice begin(r.start);
    ldb::Slice end;
    if (r.limit) end = *r.limit;
    ldb::SelfLevelCompactionStats st;
    const ldb::Status ls =
        tdb->db()->CompactRangeSelfLevel(limit_file, &begin, r.limit ? &end : nullptr, &st);
    if (!ls.ok()) {
      return Fail("CompactRangeSelfLevel over buckets " + std::to_string(first) + "-" +
                  std::to_string(last) + " failed: " + ls.ToString() +
                  " (the buckets stay hidden; run again to finish)");
    }
    total.files_compacted += st.files_compacted;
    total.files_dropped_whole += st.files_dropped_whole;
    total.bytes_read += st.bytes_read;
    total.bytes_written += st.bytes_written;
    total.bytes_dropped += st.bytes_dropped;
  }
  for (const auto& [first, last] : set.ranges()) {
    for (uint64_t b = first; b <= last; ++b) {
      const ldb::Status ls = tdb->registry()->Remove(cmp::GcKind::kBucket,
                                                     static_cast<uint32_t>(b), 0, sequence);
      if (!ls.ok() && !ls.IsNotFound()) {
        return Fail("removing the GC entry of bucket " + std::to_string(b) + ": " +
                    ls.ToString());
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  uint64_t disk_after = 0;
  Live live_after;
  s = tdb->DiskBytes(&disk_after);
  if (s.ok()) s = CountLive(*tdb, set, &live_after);
  if (!s.ok()) return Fail(s.message());
  std::printf("after: %llu bytes in table files; these buckets: %llu live keys, %llu bytes\n",
              Ull(disk_after), Ull(live_after.keys), Ull(live_after.bytes));
  std::printf("freed: %lld bytes on disk in %.3f s (files compacted %llu, dropped whole %llu, "
              "bytes read %llu, written %llu)\n",
              static_cast<long long>(disk_before) - static_cast<long long>(disk_after), seconds,
              Ull(total.files_compacted), Ull(total.files_dropped_whole), Ull(total.bytes_read),
              Ull(total.bytes_written));
  return kExitOk;
}

}  // namespace tessera::ldbtool
