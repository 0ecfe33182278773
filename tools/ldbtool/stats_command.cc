// ldbtool stats: files and bytes per level, bucket spread per table file, live keys
// and bytes per bucket and per area, and ldb's "ldb.stats".
//
// "bytes" of a key = stored key + stored value size (what ldb holds before
// compression). The bucket spread of a file is the number of buckets in its key
// range [first key's bucket, last key's bucket]: a cleanup compaction of any of
// them rewrites the file.
#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "comparators/key_codec.h"
#include "db/dbformat.h"
#include "db/filename.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "table/table.h"
#include "tools/ldbtool/commands.h"
#include "tools/ldbtool/text_util.h"
#include "tools/ldbtool/tool_db.h"

namespace tessera::ldbtool {

namespace cmp = tessera::comparators;

namespace {

struct Usage {
  uint64_t keys = 0;
  uint64_t bytes = 0;
};

struct FileInfo {
  TableFile file;
  bool decodable = false;  // first and last keys carry a bucket
  uint32_t first_bucket = 0;
  uint32_t last_bucket = 0;
  uint64_t span() const { return decodable ? uint64_t{last_bucket} - first_bucket + 1 : 0; }
};

// Reads the first and last key of one table file.
Status ReadFileRange(const ToolDb& tdb, const ldb::InternalKeyComparator& icmp,
                     FileInfo* info) {
  const std::string fname = ldb::TableFileName(tdb.dir(), info->file.number);
  std::unique_ptr<ldb::RandomAccessFile> file;
  ldb::Status ls = tdb.env()->NewRandomAccessFile(fname, &file);
  std::unique_ptr<ldb::Table> table;
  if (ls.ok()) {
    ldb::Options o;
    o.comparator = &icmp;
    o.env = tdb.env();
    ls = ldb::Table::Open(o, file.get(), info->file.bytes, &table);
  }
  if (!ls.ok()) return Status::Internal("table " + fname + ": " + ls.ToString());
  ldb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<ldb::Iterator> it = table->NewIterator(ro);
  uint32_t first = 0, last = 0;
  it->SeekToFirst();
  bool ok = it->Valid() && it->key().size() >= 8 &&
            cmp::GetKeyBucket(ldb::ExtractUserKey(it->key()), &first);
  if (ok) {
    it->SeekToLast();
    ok = it->Valid() && it->key().size() >= 8 &&
         cmp::GetKeyBucket(ldb::ExtractUserKey(it->key()), &last);
  }
  if (!it->status().ok()) {
    return Status::Internal("table " + fname + ": " + it->status().ToString());
  }
  info->decodable = ok && first <= last;
  info->first_bucket = first;
  info->last_bucket = last;
  return Status::OK();
}

std::string U(uint64_t v) { return std::to_string(v); }

// {"k1":v1,"k2":v2} of unsigned numbers.
std::string NumObject(std::initializer_list<std::pair<const char*, uint64_t>> fields) {
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    out.append(k);
    out.append("\":");
    out.append(std::to_string(v));
  }
  out.push_back('}');
  return out;
}

}  // namespace

int RunStats(const StatsArgs& args) {
  std::unique_ptr<ToolDb> tdb;
  Status s = ToolDb::Open(args.db, &tdb);
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool stats: %s\n", s.message().c_str());
    return kExitError;
  }
  // Per file: the bucket range. A background compaction (resumed by the open) may
  // delete a listed file meanwhile: list again then; after kAttempts, files that
  // vanished are left out of the spread (and counted).
  constexpr int kAttempts = 20;
  const ldb::InternalKeyComparator icmp(&tdb->comparator());
  std::vector<TableFile> tables;
  std::vector<FileInfo> files;
  uint64_t vanished = 0;
  for (int attempt = 0; attempt < kAttempts && s.ok(); ++attempt) {
    s = tdb->ListTables(&tables);
    files.clear();
    vanished = 0;
    for (const TableFile& t : tables) {
      if (!s.ok()) break;
      FileInfo info;
      info.file = t;
      s = ReadFileRange(*tdb, icmp, &info);
      if (!s.ok() && !tdb->env()->FileExists(ldb::TableFileName(tdb->dir(), t.number))) {
        s = Status::OK();
        ++vanished;
        continue;
      }
      files.push_back(info);
    }
    if (vanished == 0) break;
    tdb->env()->SleepForMicroseconds(50000);
  }
  // Per bucket and per area: one scan of the live keys.
  std::map<uint32_t, Usage> buckets;
  std::map<uint32_t, Usage> areas;
  Usage total, undecodable;
  if (s.ok()) {
    s = tdb->Scan(nullptr, false, [&](const ldb::Slice& key, const ldb::Slice& value) {
      const uint64_t bytes = key.size() + value.size();
      cmp::KeyParts parts;
      Usage* u[3] = {&total, nullptr, nullptr};
      if (cmp::DecodeStoredKey(key, &parts)) {
        u[1] = &buckets[parts.bucket];
        u[2] = &areas[parts.area];
      } else {
        u[1] = &undecodable;
      }
      for (Usage* x : u) {
        if (x != nullptr) {
          x->keys += 1;
          x->bytes += bytes;
        }
      }
      return true;
    });
  }
  if (!s.ok()) {
    std::fprintf(stderr, "ldbtool stats: %s\n", s.message().c_str());
    return kExitError;
  }

  // Levels.
  struct Level {
    int level;
    uint64_t files = 0;
    uint64_t bytes = 0;
  };
  std::vector<Level> levels;
  for (int l = 0; l < 64; ++l) {
    uint64_t n = 0;
    if (!tdb->NumProperty("ldb.num-files-at-level" + std::to_string(l), &n).ok()) break;
    Level lv{l, 0, 0};  // counted from the same listing as the bytes
    for (const TableFile& t : tables) {
      if (t.level == l) {
        lv.files += 1;
        lv.bytes += t.bytes;
      }
    }
    levels.push_back(lv);
  }
  uint64_t disk_bytes = 0;
  for (const TableFile& t : tables) disk_bytes += t.bytes;
  // Spread.
  std::vector<uint64_t> spans;
  for (const FileInfo& f : files) {
    if (f.decodable) spans.push_back(f.span());
  }
  std::sort(spans.begin(), spans.end());
  const uint64_t multi =
      static_cast<uint64_t>(std::count_if(spans.begin(), spans.end(), [](uint64_t x) {
        return x > 1;
      }));
  const uint64_t span_min = spans.empty() ? 0 : spans.front();
  const uint64_t span_max = spans.empty() ? 0 : spans.back();
  const uint64_t span_median = spans.empty() ? 0 : spans[spans.size() / 2];
  // Top buckets by bytes.
  std::vector<std::pair<uint32_t, Usage>> top(buckets.begin(), buckets.end());
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  if (args.top != 0 && top.size() > args.top) top.resize(args.top);
  const std::string ldb_stats = tdb->Property("ldb.stats");

  if (args.json) {
    std::string j = "{\"db\":";
    j += JsonString(tdb->dir());
    j += ",\"disk_bytes\":" + U(disk_bytes);
    j += ",\"table_files\":" + U(tables.size());
    j += ",\"levels\":[";
    for (size_t i = 0; i < levels.size(); ++i) {
      if (i != 0) j.push_back(',');
      j += NumObject({{"level", levels[i].level},
                      {"files", levels[i].files},
                      {"bytes", levels[i].bytes}});
    }
    j += "],\"files\":[";
    for (size_t i = 0; i < files.size(); ++i) {
      const FileInfo& f = files[i];
      if (i != 0) j.push_back(',');
      if (f.decodable) {
        j += NumObject({{"number", f.file.number},
                        {"level", f.file.level},
                        {"bytes", f.file.bytes},
                        {"first_bucket", f.first_bucket},
                        {"last_bucket", f.last_bucket},
                        {"buckets_spanned", f.span()}});
      } else {
        j += NumObject({{"number", f.file.number}, {"level", f.file.level},
                        {"bytes", f.file.bytes}});
      }
    }
    j += "],\"bucket_spread\":";
    j += NumObject({{"min", span_min},
                    {"median", span_median},
                    {"max", span_max},
                    {"multi_bucket_files", multi},
                    {"files_vanished", vanished}});
    j += ",\"totals\":";
    j += NumObject({{"buckets", buckets.size()},
                    {"keys", total.keys},
                    {"bytes", total.bytes},
                    {"undecodable_keys", undecodable.keys}});
    j += ",\"buckets\":[";
    for (size_t i = 0; i < top.size(); ++i) {
      if (i != 0) j.push_back(',');
      j += NumObject({{"bucket", top[i].first},
                      {"keys", top[i].second.keys},
                      {"bytes", top[i].second.bytes}});
    }
    j += "],\"areas\":[";
    bool first = true;
    for (const auto& [area, u] : areas) {
      if (!first) j.push_back(',');
      first = false;
      j += NumObject({{"area", area}, {"keys", u.keys}, {"bytes", u.bytes}});
    }
    j += "],\"ldb_stats\":" + JsonString(ldb_stats) + "}";
    std::printf("%s\n", j.c_str());
    return kExitOk;
  }

  std::printf("db %s\n", tdb->dir().c_str());
  std::printf("table files: %zu, %llu bytes on disk\n", tables.size(),
              static_cast<unsigned long long>(disk_bytes));
  std::printf("%-6s %8s %14s\n", "level", "files", "bytes");
  for (const Level& l : levels) {
    std::printf("%-6d %8llu %14llu\n", l.level, static_cast<unsigned long long>(l.files),
                static_cast<unsigned long long>(l.bytes));
  }
  std::printf("bucket spread per file (buckets in its key range): min %llu, median %llu, "
              "max %llu; %llu of %zu files span more than one bucket\n",
              static_cast<unsigned long long>(span_min),
              static_cast<unsigned long long>(span_median),
              static_cast<unsigned long long>(span_max),
              static_cast<unsigned long long>(multi), files.size());
  if (vanished != 0) {
    std::printf("(%llu files were replaced by a compaction while being read: left out of "
                "the spread)\n",
                static_cast<unsigned long long>(vanished));
  }
  std::printf("live keys: %llu in %zu buckets, %llu bytes (stored key + value)\n",
              static_cast<unsigned long long>(total.keys), buckets.size(),
              static_cast<unsigned long long>(total.bytes));
  if (undecodable.keys != 0) {
    std::printf("undecodable keys: %llu (%llu bytes)\n",
                static_cast<unsigned long long>(undecodable.keys),
                static_cast<unsigned long long>(undecodable.bytes));
  }
  std::printf("%s buckets by bytes:\n", args.top == 0 ? "all" : ("top " + U(args.top)).c_str());
  std::printf("  %10s %12s %14s\n", "bucket", "keys", "bytes");
  for (const auto& [b, u] : top) {
    std::printf("  %10u %12llu %14llu\n", b, static_cast<unsigned long long>(u.keys),
                static_cast<unsigned long long>(u.bytes));
  }
  std::printf("areas:\n  %10s %12s %14s\n", "area", "keys", "bytes");
  for (const auto& [a, u] : areas) {
    std::printf("  %10u %12llu %14llu\n", a, static_cast<unsigned long long>(u.keys),
                static_cast<unsigned long long>(u.bytes));
  }
  std::printf("ldb.stats:\n%s\n", ldb_stats.c_str());
  return kExitOk;
}

}  // namespace tessera::ldbtool
