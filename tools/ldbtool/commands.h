// ldbtool's commands. main.cc parses the flags into these structs; each Run*
// prints its output to stdout, errors to stderr, and returns the exit code.
#ifndef TESSERA_TOOLS_LDBTOOL_COMMANDS_H_
#define TESSERA_TOOLS_LDBTOOL_COMMANDS_H_

#include <cstdint>
#include <string>

namespace tessera::ldbtool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// dump: one line per key.
struct DumpArgs {
  std::string db;
  int64_t bucket = -1;  // -1 = every bucket
  int64_t area = -1;    // -1 = every area
  uint64_t limit = 0;   // lines; 0 = no limit
  bool hex = false;     // user keys and value previews in hex
  bool all = false;     // also expired and reclaimed keys (marked)
};
int RunDump(const DumpArgs& args);

// stats: files per level, bucket spread per file, keys and bytes per bucket/area.
struct StatsArgs {
  std::string db;
  uint64_t top = 20;  // buckets listed, by bytes; 0 = all
  bool json = false;
};
int RunStats(const StatsArgs& args);

// check-buckets: every key in a bucket this node holds, in the bucket its key
// hashes to. What the node holds comes from `buckets`, or else from the bucket table
// the data server remembered in the directory (dataserver/table_file.h).
struct CheckArgs {
  std::string db;
  uint64_t bucket_count = 0;  // 0 = the remembered table's
  std::string buckets;        // the buckets this node should hold; "" = from the table
  uint64_t max_report = 100;  // misplaced keys printed one by one
};
int RunCheckBuckets(const CheckArgs& args);

// compact-self-level: purge buckets in place.
struct CompactArgs {
  std::string db;
  std::string buckets;
  bool yes = false;  // without it: only report what would be purged
};
int RunCompactSelfLevel(const CompactArgs& args);

}  // namespace tessera::ldbtool

#endif  // TESSERA_TOOLS_LDBTOOL_COMMANDS_H_
