// ldbtool: offline inspection and maintenance of a data server's ldb directory
// (the data server's --data_dir), while the data server is stopped.
//
//   ldbtool help [COMMAND]
//   ldbtool dump --db DIR [--bucket B] [--area A] [--limit N] [--hex] [--all]
//   ldbtool stats --db DIR [--top N] [--json]
//   ldbtool check-buckets --db DIR [--bucket_count N] [--buckets LIST] [--max_report N]
//   ldbtool compact-self-level --db DIR --buckets LIST [--yes]
//
// Exit status: 0 ok, 1 error (or misplaced keys for check-buckets), 2 usage.
#include <gflags/gflags.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "comparators/key_codec.h"
#include "tools/ldbtool/commands.h"

DEFINE_string(db, "", "The data server's ldb directory (its --data_dir).");
DEFINE_int64(bucket, -1, "dump: only this bucket (-1 = every bucket).");
DEFINE_int64(area, -1, "dump: only this area (-1 = every area).");
DEFINE_uint64(limit, 0, "dump: print at most this many keys (0 = no limit).");
DEFINE_bool(hex, false, "dump: print user keys and value previews in hex.");
DEFINE_bool(all, false, "dump: also show expired and GC-reclaimed keys (marked).");
DEFINE_uint64(top, 20, "stats: buckets listed, largest first by bytes (0 = all).");
DEFINE_bool(json, false, "stats: print JSON instead of text.");
DEFINE_uint64(bucket_count, 0, "check-buckets: the cluster's bucket count (0 = the one "
              "of the bucket table the data server remembered in DIR).");
DEFINE_string(buckets, "",
              "check-buckets: the buckets this node should hold (empty = those the table "
              "the data server remembered in DIR gives it); compact-self-level: the "
              "buckets to purge. A list like 0-99,200,301-305.");
DEFINE_uint64(max_report, 100, "check-buckets: misplaced keys printed one by one.");
DEFINE_bool(yes, false, "compact-self-level: really purge (otherwise only report).");

namespace {

namespace lt = tessera::ldbtool;

struct Command {
  const char* name;
  const char* synopsis;
  const char* help;
  std::vector<std::string_view> flags;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"dump", "dump --db DIR [--bucket B] [--area A] [--limit N] [--hex] [--all]",
       "One line per live key: bucket, area, user key, version, expire time, value size\n"
       "and a value preview. Expired and GC-reclaimed keys only with --all (marked).",
       {"db", "bucket", "area", "limit", "hex", "all"}},
      {"stats", "stats --db DIR [--top N] [--json]",
       "Table files and bytes per level, bucket spread per file, live keys and bytes\n"
       "per bucket (top N by bytes) and per area, and ldb's own statistics.",
       {"db", "top", "json"}},
      {"check-buckets",
       "check-buckets --db DIR [--bucket_count N] [--buckets LIST] [--max_report N]",
       "Reports every key stored in a bucket this node does not hold, and every key\n"
       "whose stored bucket differs from its hash bucket. Exit 1 when any key is\n"
       "misplaced. The buckets held are LIST, or else those the bucket table the data\n"
       "server last applied (DIR/BUCKET_TABLE) gives the identity it ran under: every\n"
       "bucket it masters or replicates, and during a migration the buckets planned to\n"
       "it; the first output line names the table version and the node. N defaults to\n"
       "that table's bucket count. Exit 2 without --buckets when DIR has no table\n"
       "file, 1 when it is corrupt.",
       {"db", "bucket_count", "buckets", "max_report"}},
      {"compact-self-level", "compact-self-level --db DIR --buckets LIST [--yes]",
       "Purges the buckets in place (GC registry entries, CompactRangeSelfLevel) and\n"
       "prints bytes before and after. Without --yes only reports what it would purge.",
       {"db", "buckets", "yes"}},
  };
  return commands;
}

const Command* FindCommand(std::string_view name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: ldbtool COMMAND --db DIR [flags]\n\n"
                    "Works on a data server's ldb directory (its --data_dir) while the data\n"
                    "server is stopped. Commands:\n");
  for (const Command& c : Commands()) std::fprintf(out, "  ldbtool %s\n", c.synopsis);
  std::fprintf(out, "  ldbtool help [COMMAND]\n\n"
                    "Exit status: 0 ok, 1 error, 2 usage.\n");
}

void PrintCommandHelp(const Command& c) {
  std::printf("usage: ldbtool %s\n\n%s\n\nflags:\n", c.synopsis, c.help);
  for (std::string_view f : c.flags) {
    gflags::CommandLineFlagInfo info;
    if (gflags::GetCommandLineFlagInfo(std::string(f).c_str(), &info)) {
      std::printf("  --%s (%s, default %s)\n      %s\n", info.name.c_str(), info.type.c_str(),
                  info.default_value.empty() ? "\"\"" : info.default_value.c_str(),
                  info.description.c_str());
    }
  }
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "ldbtool: %s\n(run 'ldbtool help' for usage)\n", message.c_str());
  return lt::kExitUsage;
}

bool Allowed(const Command& c, std::string_view name) {
  for (std::string_view f : c.flags) {
    if (f == name) return true;
  }
  return false;
}

// Parses argv[first..] as flags of `c` into the FLAGS_ variables. Returns
// kExitOk, kExitUsage (message printed) or -1 when help was printed.
int ParseFlags(const Command& c, int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      return Usage("unexpected argument '" + std::string(arg) + "'");
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t eq = arg.find('=');
    std::string name(arg.substr(0, eq));
    std::string value;
    const bool has_value = eq != std::string_view::npos;
    if (has_value) value = std::string(arg.substr(eq + 1));
    if (name == "help" || name == "h") {
      PrintCommandHelp(c);
      return -1;
    }
    gflags::CommandLineFlagInfo info;
    bool known = Allowed(c, name) && gflags::GetCommandLineFlagInfo(name.c_str(), &info);
    if (!known && !has_value && name.starts_with("no") && Allowed(c, name.substr(2)) &&
        gflags::GetCommandLineFlagInfo(name.substr(2).c_str(), &info) && info.type == "bool") {
      name = name.substr(2);
      value = "false";
      known = true;
    } else if (known && !has_value) {
      if (info.type == "bool") {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return Usage("--" + name + " needs a value");
      }
    }
    if (!known) {
      return Usage("unknown flag --" + name + " for " + c.name);
    }
    if (gflags::SetCommandLineOption(name.c_str(), value.c_str()).empty()) {
      return Usage("bad value '" + value + "' for --" + name);
    }
  }
  return lt::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("ldbtool COMMAND --db DIR [flags]; run 'ldbtool help'");
  if (argc < 2) {
    PrintUsage(stderr);
    return lt::kExitUsage;
  }
  const std::string_view name = argv[1];
  if (name == "help" || name == "--help" || name == "-h" || name == "-help") {
    if (argc >= 3) {
      const Command* c = FindCommand(argv[2]);
      if (c == nullptr) return Usage("unknown command '" + std::string(argv[2]) + "'");
      PrintCommandHelp(*c);
    } else {
      PrintUsage(stdout);
    }
    return lt::kExitOk;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) return Usage("unknown command '" + std::string(name) + "'");
  const int parsed = ParseFlags(*command, argc, argv, 2);
  if (parsed < 0) return lt::kExitOk;
  if (parsed != lt::kExitOk) return parsed;
  if (FLAGS_db.empty()) return Usage(std::string(command->name) + ": --db DIR is required");

  if (name == "dump") {
    if (FLAGS_bucket < -1 || FLAGS_bucket > tessera::comparators::kMaxBucket) {
      return Usage("--bucket must be between 0 and " +
                   std::to_string(tessera::comparators::kMaxBucket));
    }
    if (FLAGS_area < -1 || FLAGS_area > tessera::comparators::kMaxArea) {
      return Usage("--area must be between 0 and 65535");
    }
    lt::DumpArgs a;
    a.db = FLAGS_db;
    a.bucket = FLAGS_bucket;
    a.area = FLAGS_area;
    a.limit = FLAGS_limit;
    a.hex = FLAGS_hex;
    a.all = FLAGS_all;
    return lt::RunDump(a);
  }
  if (name == "stats") {
    lt::StatsArgs a;
    a.db = FLAGS_db;
    a.top = FLAGS_top;
    a.json = FLAGS_json;
    return lt::RunStats(a);
  }
  if (name == "check-buckets") {
    if (FLAGS_bucket_count > uint64_t{tessera::comparators::kMaxBucket} + 1) {
      return Usage("check-buckets: --bucket_count must be 1.." +
                   std::to_string(uint64_t{tessera::comparators::kMaxBucket} + 1));
    }
    lt::CheckArgs a;
    a.db = FLAGS_db;
    a.bucket_count = FLAGS_bucket_count;
    a.buckets = FLAGS_buckets;
    a.max_report = FLAGS_max_report;
    return lt::RunCheckBuckets(a);
  }
  // compact-self-level
  if (FLAGS_buckets.empty()) return Usage("compact-self-level: --buckets LIST is required");
  lt::CompactArgs a;
  a.db = FLAGS_db;
  a.buckets = FLAGS_buckets;
  a.yes = FLAGS_yes;
  return lt::RunCompactSelfLevel(a);
}
