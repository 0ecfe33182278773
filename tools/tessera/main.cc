// tessera: command-line client of a Tessera cluster (data and cluster commands).
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cleanup_commands.h"
#include "cli.h"
#include "cluster_commands.h"
#include "data_commands.h"
#include "migrate_commands.h"

DEFINE_string(config_servers, "127.0.0.1:7100",
              "Comma-separated host:port list of the config servers (the default is the "
              "local cluster started by scripts/cluster up).");
DEFINE_uint32(area, 0, "Area (namespace) of data commands, 0..65535.");
DEFINE_uint32(ttl, 0, "put/incr/decr/mput: expire this many seconds after the write (0 = never).");
DEFINE_uint32(expire_at, 0, "put/incr/decr/mput/expire: expire at this unix time (0 = never).");
// gflags owns --version (it prints gflags' version), so main() rewrites --version=V
// into --cas_version=V before parsing; both spellings work.
DEFINE_uint32(cas_version, 0, "put/del/incr/decr (spelled --version=V): CAS, the write fails "
                              "unless the stored version equals V (0 = unconditional).");
DEFINE_int64(initial, 0, "incr/decr: the value a missing counter starts from.");
DEFINE_uint32(timeout_ms, 2000, "Deadline of each call, retries included.");
DEFINE_bool(json, false, "Print JSON (one document on stdout) instead of readable text.");
DEFINE_string(admin_token, "",
              "migrate: the cluster's admin token (default: $TESSERA_ADMIN_TOKEN, else "
              "\"local-admin\", the local cluster's).");
DEFINE_string(to, "", "migrate move-bucket: the destination HOST:PORT.");
DEFINE_bool(watch, false, "migrate status: refresh every second until the migration is over.");
DEFINE_string(node, "", "cleanup: ask only this data server HOST:PORT (default: every one).");
DEFINE_string(bucket, "", "cleanup run: these buckets (B or B,B,...; default: every reclaimed one).");
DEFINE_bool(wait, false, "cleanup run: wait until done; print db bytes before and after.");

namespace {

const char kUsage[] = R"USAGE(tessera: command-line client of a Tessera cluster.

usage: tessera [flags] COMMAND [ARGS...]

data commands (--area=N selects the namespace):
  put KEY VALUE            write (--ttl=SECONDS or --expire_at=UNIX_TIME, --version=V for CAS)
  get KEY                  print the value
  del KEY                  remove (--version=V for CAS)
  incr KEY [DELTA]         add DELTA (default 1) to a counter, print the new value
                           (--initial=N for a missing counter, --ttl on creation)
  decr KEY [DELTA]         subtract DELTA (default 1)
  ttl KEY                  remaining seconds (-1: never expires)
  expire KEY [SECONDS]     set the expiry (or --expire_at=UNIX_TIME; neither: never expires)
  mget KEY...              several keys (one line "KEY: VALUE" each)
  mput KEY VALUE [KEY VALUE]...

cluster commands:
  nodes                    data servers: state, membership, buckets, masters, last
                           heartbeat, table version, operations
  table                    the bucket table: version, bucket/copy counts, bucket ranges
                           per node (e.g. "0-340 127.0.0.1:7101"), bucket counts per node
  stats                    per node and per area: ops, keys, bytes

migration commands (admin token: --admin_token, $TESSERA_ADMIN_TOKEN, or "local-admin"):
  migrate add-node ADDR    add a member: plans and starts a bucket migration to it
  migrate remove-node ADDR drain a member (its buckets move to the others)
  migrate move-bucket B --to ADDR   move one bucket's master to a member
  migrate status [--watch] progress bar: buckets done/total, keys, bytes, rate, ETA
  migrate pause | resume   sources finish the buckets in flight and start no new one

cleanup commands (every data server, or --node=HOST:PORT; no token):
  cleanup status           paused, pending, bytes freed/rewritten, db size, buckets
  cleanup run              compact reclaimed buckets now (--bucket=B[,B...]; --wait:
                           until done, printing db bytes before and after)
  cleanup pause | resume

flags:
  --config_servers=HOST:PORT[,...]   default 127.0.0.1:7100
  --area --ttl --expire_at --version --initial --timeout_ms
  --json                   machine-readable output

exit status:
  0  success
  1  not found (get/ttl/del/expire of a missing key, mget with a missing key);
     prints "(not found)"
  2  usage error
  3  any other error (cluster unreachable, timeout, unavailable, version mismatch,
     quota exceeded, invalid argument, ...)
)USAGE";

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Rewrites "--version=V" / "-version=V" / "--version V" into "--cas_version=V".
std::vector<std::string> RewriteVersionFlag(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--" ) {
      for (; i < argc; ++i) out.push_back(argv[i]);
      break;
    }
    for (const char* p : {"--version=", "-version="}) {
      if (a.rfind(p, 0) == 0) a = "--cas_version=" + a.substr(std::string(p).size());
    }
    if ((a == "--version" || a == "-version") && i + 1 < argc) {
      a = "--cas_version=" + std::string(argv[++i]);
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace

int main(int argc_in, char** argv_in) {
  std::vector<std::string> rewritten = RewriteVersionFlag(argc_in, argv_in);
  std::vector<char*> argv_vec;
  for (std::string& a : rewritten) argv_vec.push_back(a.data());
  argv_vec.push_back(nullptr);
  int argc = static_cast<int>(rewritten.size());
  char** argv = argv_vec.data();
  // Quiet logging unless asked: the output is for people and scripts.
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 2;
  gflags::SetUsageMessage(kUsage);
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  google::InitGoogleLogging(argv[0]);

  namespace cli = tessera::cli;
  if (argc < 2) {
    std::cerr << kUsage;
    return cli::kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "help" || command == "-h") {
    std::cout << kUsage;
    return cli::kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);

  cli::Context ctx;
  ctx.config_servers = SplitList(FLAGS_config_servers);
  ctx.area = FLAGS_area;
  ctx.ttl_seconds = FLAGS_ttl;
  ctx.expire_at = FLAGS_expire_at;
  ctx.version = FLAGS_cas_version;
  ctx.initial_value = FLAGS_initial;
  ctx.timeout_ms = FLAGS_timeout_ms;
  ctx.json = FLAGS_json;
  if (ctx.config_servers.empty()) return cli::UsageError("--config_servers is empty");
  if (ctx.timeout_ms == 0) return cli::UsageError("--timeout_ms must be positive");
  if (ctx.area > 65535) return cli::UsageError("--area must be 0..65535");
  if (ctx.ttl_seconds != 0 && ctx.expire_at != 0) {
    return cli::UsageError("give --ttl or --expire_at, not both");
  }

  if (cli::IsDataCommand(command)) return cli::RunDataCommand(ctx, command, args);
  if (cli::IsClusterCommand(command)) return cli::RunClusterCommand(ctx, command, args);
  if (command == "migrate") {
    cli::MigrateOptions mo;
    mo.admin_token = FLAGS_admin_token;
    mo.to = FLAGS_to;
    mo.watch = FLAGS_watch;
    return cli::RunMigrateCommand(ctx, mo, args);
  }
  if (command == "cleanup") {
    cli::CleanupCliOptions co;
    co.node = FLAGS_node;
    co.buckets = FLAGS_bucket;
    co.wait = FLAGS_wait;
    return cli::RunCleanupCommand(ctx, co, args);
  }
  return cli::UsageError("unknown command \"" + command + "\"");
}
