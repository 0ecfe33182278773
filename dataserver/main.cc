// dataserver: a Tessera data server.
//
//   dataserver --listen=HOST:PORT --config_servers=HOST:PORT[,...] --data_dir=DIR
//
// Exit status: 0 after a graceful stop (SIGTERM / SIGINT), 1 when the server cannot
// start (storage, bind), 2 for bad flags.
#include <malloc.h>
#include <sys/resource.h>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/limits.h"
#include "dataserver/data_server.h"
#include "migration/cleanup_scheduler.h"

DEFINE_string(listen, "", "Address to listen on, HOST:PORT (required). Unless "
              "--advertise_address is given it is also this server's identity in the bucket "
              "table, so it must match the address listed in cluster.conf.");
DEFINE_string(config_servers, "", "Comma-separated config server addresses HOST:PORT[,...] "
              "(required). Heartbeats try them in turn until one answers.");
DEFINE_string(data_dir, "", "Directory of the ldb database (created when missing; required).");
DEFINE_string(advertise_address, "", "This server's identity in the bucket table, HOST:PORT. "
              "Default: --listen (set it when listening on 0.0.0.0).");
DEFINE_int32(io_threads, 2, "Network threads (1..64). Reads run inline on them.");
// Measured on 2 vCPUs (2026-11-21, interleaved): pinned, gets went from 90-92 k ops/s
// at p99 2.1-2.6 ms to 101-103 k at p99 1.6-1.7 ms. The cost: an incoming migration
// batch (up to 1 MiB) is parsed on its connection's io thread, and when pinned, only
// that thread can serve its other connections meanwhile. In 3 pairs of 1 GiB joins
// the client p99 during the migration was 7.1 / 6.2 / 4.6 ms pinned against
// 5.4 / 5.4 / 5.8 ms shared (no clear winner), at 113-127 MB/s against 93-104.
DEFINE_bool(pin_connections, true, "Keep each connection on one network thread (fewer "
            "thread wake-ups per request); false lets any idle network thread serve any "
            "connection.");
// Off by default: measured twice on 2026-11-22 with 100 us against the kernel's slice
// (interleaved bench_migration_ab and bench_cluster rounds), it showed no gain in any
// client p99, and the first time a worse p99 during a migration (README "Performance").
DEFINE_uint32(request_slice_us, 0, "Time slice of the threads that serve requests, in "
              "microseconds (0, or 100..100000; Linux 6.12+). A thread woken by a request "
              "with a shorter slice than the running thread preempts it at once, instead "
              "of waiting out that thread's slice (1.4 ms by default on 2 CPUs). 0 keeps "
              "the kernel's default.");
DEFINE_int32(write_threads, 64, "Worker threads for writes when they do not run inline "
             "(1..1024); with --sync_writes each waits in ldb's group commit, so about one "
             "per write in flight lets them share one WAL fsync (64 measured ~1.4x faster "
             "than 16 at 50 synced puts in flight).");
DEFINE_int32(write_queue_limit, 16384, "Writes queued for the write threads before new ones "
             "are refused with UNAVAILABLE \"overloaded\" (1..1000000).");
DEFINE_bool(inline_writes, true, "Run non-synced writes on the io threads instead of the "
            "write pool (measured ~1.3x faster without fsync: no hand-off between threads on "
            "2 cores). Ignored with --sync_writes.");
DEFINE_int32(hold_for_table_ms, 100, "A request stamped with a newer table than ours, for a "
             "bucket our table does not give us, waits up to this long for that table (fetched "
             "at once) instead of being refused WRONG_OWNER: around a bucket's flip the client "
             "then skips a table refresh and a back-off (0..10000; 0: refuse at once).");
DEFINE_int32(hold_fenced_ms, 200, "A write to a bucket fenced for the last step of its "
             "migration waits up to this long for the fence to lift instead of being refused "
             "UNAVAILABLE (0..10000; 0: refuse at once).");
DEFINE_bool(sync_writes, false, "fsync the WAL before acknowledging each write (group "
            "commit shares one fsync among concurrent writers).");
DEFINE_int64(max_value_bytes, static_cast<int64_t>(tessera::kDefaultMaxValueBytes),
             "Largest user value accepted, in bytes (1..15 MiB).");
DEFINE_int32(heartbeat_interval_ms, 1000, "Milliseconds between heartbeats to the config "
             "server (10..60000); keep it equal to cluster.conf's heartbeat_interval_ms.");
DEFINE_int64(write_buffer_bytes, 16 << 20, "ldb memtable size in bytes (4 MiB..64 MiB).");
DEFINE_int64(flush_cut_bytes, 256 << 10, "Cut memtable flushes at bucket boundaries once a file "
             "holds this many bytes (0..64 MiB; 0 = never): a bucket migrating in then flushes "
             "to a file of its own, which can go below level 0 at once.");
DEFINE_int64(block_cache_bytes, 64 << 20, "ldb block cache size in bytes (0..64 GiB).");
DEFINE_int32(max_open_tables, 20000, "ldb table files kept open (100..50000). Tables are cut "
             "at bucket boundaries, so keep it above the node's table count (ldbtool stats); "
             "the server raises its open-file limit (RLIMIT_NOFILE) to match.");
DEFINE_int32(background_nice, 10, "CPU niceness (0..19) of background work: ldb compactions, "
             "migration scans and sends, the orphan sweep. Above 0 client requests win the "
             "CPU, which keeps their tail latency low; 0 runs everything alike.");
DEFINE_int32(max_connections, 1024, "Client connections accepted at once (1..100000).");
DEFINE_int32(idle_timeout_ms, 600000, "Close a connection silent this long with nothing in "
             "flight (1000..86400000).");
DEFINE_int32(migrate_parallel, 2, "Outgoing buckets migrated at once (1..64).");
// Incoming batches are applied at normal CPU priority (a niced thread leading an ldb
// write group would hold client writes up), so each apply thread can take a whole CPU
// from the request threads. On 2 vCPUs, bench_migration in 4 interleaved pairs
// (2026-11-21): client p99 during the migration 4.0-11.5 ms with 1 thread against
// 5.8-16.5 ms with 2, throughput 71-136 MB/s against 86-123 (the same in 2 pairs).
DEFINE_int32(migrate_apply_threads, 1, "Threads applying incoming migration batches "
             "(1..16); each takes up to a CPU at normal priority while a migration runs.");
DEFINE_int64(migrate_ingest_min_bytes, 64 << 10, "Incoming migration scan batches of at "
             "least this many bytes are written straight into table files (no WAL, memtable "
             "or flush); smaller ones, and catch-up batches, through the write path. -1 = "
             "never.");
// Ingested batches do not go through the write queue, so a niced apply thread holds no
// client write up there (catch-up batches still do). Measured 2026-11-22 with ingest, 3
// runs at nice 10 against 6 at 0: p99 during 2.1-10.6 ms against 2.3-4.7, no clear gain.
DEFINE_int32(migrate_apply_nice, 0, "CPU niceness (0..19) of the threads applying incoming "
             "migration batches.");
// Measured 2026-11-22 (interleaved scripts/bench_migration_ab runs; only migration
// windows under 8 % CPU steal count), client p99 during the migration and MB/s:
//   scans at nice 10 (before):  9 runs, 2.6-5.6 ms, median 3.7; 126-168 MB/s
//   scans in SCHED_IDLE:        9 runs, 2.3-5.5 ms, median 2.9; 140-168 MB/s
// (the apply threads at nice 0 in both). Later runs blurred the p99 gain; what held
// is that the request threads wait less for a CPU (README "Performance"). The fence now
// runs at normal priority either way.
DEFINE_bool(migrate_sched_idle, true, "Run the threads that scan and send migrating "
            "buckets in Linux's SCHED_IDLE class (instead of --background_nice): a thread "
            "serving requests that wakes up takes the CPU from them at once. Migration then "
            "runs only on CPU time nothing else wants; --nomigrate_sched_idle shares the "
            "CPU by niceness instead.");
// 2026-11-22, 7 interleaved pairs of scripts/bench_migration (0 % CPU steal): client p99
// during the migration 0.92-1.78 ms, median 1.53, with the channel's io thread in the
// normal class; 1.09-1.36 ms, median 1.27, in SCHED_IDLE (lower in 6 of the 7 pairs);
// 142-208 MB/s either way, and the sources' report time per bucket unchanged (means of
// 2.3-3.2 ms in both). `perf sched` had shown that thread among those the request
// threads waited behind for a CPU. (The reports then shared this thread.)
DEFINE_bool(migrate_io_idle, true, "Run the io thread that writes migrating buckets' "
            "batches to the destinations' sockets in the SCHED_IDLE class as well (the "
            "reports to the config servers keep a normal-class thread of their own).");
// Off: an apply thread installing an ingested table holds ldb's background slot (no
// flush can start meanwhile), and one applying a catch-up batch leads a write group. An
// idle thread starved by normal-class work (a compaction, say) would hold both up, and
// client writes behind them. --migrate_ingest_idle moves only the encoding and the table
// build, which hold nothing, to idle threads. In quiet migration windows of interleaved
// runs (scans idle in all) the request threads' CPU wait per run during the migration
// was median 135 us with the apply threads at nice 0, 92 us with idle builders, 90 us
// with idle apply threads, and the first runs' p99 during fell from 2.9 to 2.3 ms. More
// runs (on a busier machine) erased that p99 gain; quiet ones later showed it for idle
// builders (below), which are on by default.
DEFINE_bool(migrate_apply_idle, false, "Run the threads applying incoming migration "
            "batches in Linux's SCHED_IDLE class (instead of --migrate_apply_nice).");
// On since 2026-11-22: on a quiet machine (0 % CPU steal), 20 interleaved runs of
// bench_migration_ab gave a client p99 during the migration of 1.24-1.97 ms (median
// ~1.4) with idle builders against 1.53-3.37 ms (median ~2.1) without, and the request
// threads' CPU wait per run fell from ~90 to ~55 us (README "Performance"). The price:
// on a node whose CPUs are saturated by normal-class work for longer than
// --migrate_rpc_timeout_ms, a batch can wait that long for its builder, and the source
// then redoes the bucket (no write is lost: the apply thread keeps a bucket's batches in
// order). The scans (--migrate_sched_idle) share that price already.
DEFINE_bool(migrate_ingest_idle, true, "Encode the incoming migration batches that are "
            "ingested (--migrate_ingest_min_bytes) and build their tables on threads in "
            "Linux's SCHED_IDLE class; the apply threads keep installing them, and applying "
            "catch-up batches, in their own class.");
DEFINE_int64(migrate_bytes_per_sec, 0, "Bandwidth cap of outgoing migration, all buckets "
             "together, in bytes per second (0 = unlimited).");
DEFINE_int64(migrate_batch_bytes, 1 << 20, "Bytes per migration batch, packed (keys, values and ~19 "
             "bytes of meta per key) "
             "(4 KiB..8 MiB).");
DEFINE_int32(migrate_batch_entries, 1024, "Keys per migration batch (1..65536).");
DEFINE_int32(migrate_rpc_timeout_ms, 5000, "Timeout of one migration batch or bucket-done "
             "report (100..600000).");
DEFINE_int32(cleanup_pause_ms, 1000, "Pause between two cleanup compactions of buckets "
             "this server gave away (0..3600000).");
DEFINE_string(cleanup_window, "", "Local hours HH-HH (e.g. 01-05) in which cleanup "
              "compactions may start; empty = any time.");
DEFINE_int64(malloc_trim_threshold_bytes, 256 << 20, "Freed heap memory the process keeps for "
             "reuse rather than give back to the kernel (glibc M_TRIM_THRESHOLD; blocks up to "
             "32 MiB then come from the heap, not from mmap). Memory given back comes back as "
             "fresh pages the kernel zeroes again, a megabyte or two per migration batch. 0 = "
             "glibc's adaptive thresholds (0, or 1 MiB..1 GiB).");
DEFINE_bool(orphan_sweep, true, "When a table without a migration arrives, reclaim (GC entry "
            "+ cleanup) buckets other servers hold whose keys are still stored here, e.g. "
            "after a crash between a bucket's flip and its reclaim (migration/README.md).");

namespace {

template <typename T>
bool InRange(const char* flag, T value, T lo, T hi) {
  if (value >= lo && value <= hi) return true;
  std::fprintf(stderr, "dataserver: --%s=%lld is out of range [%lld, %lld]\n", flag,
               static_cast<long long>(value), static_cast<long long>(lo),
               static_cast<long long>(hi));
  return false;
}
bool ValidateAddress(const char* flag, const std::string& value) {
  if (value.empty()) return true;  // required-ness is checked after parsing
  tessera::HostPort hp;
  tessera::Status s = tessera::ParseHostPort(value, &hp);
  if (!s.ok()) std::fprintf(stderr, "dataserver: --%s: %s\n", flag, s.message().c_str());
  return s.ok();
}
bool ValidateAddressList(const char* flag, const std::string& value) {
  if (value.empty()) return true;
  std::vector<tessera::HostPort> list;
  tessera::Status s = tessera::ParseHostPortList(value, &list);
  if (!s.ok()) std::fprintf(stderr, "dataserver: --%s: %s\n", flag, s.message().c_str());
  return s.ok();
}
bool ValidateIo(const char* f, int32_t v) { return InRange(f, v, 1, 64); }
bool ValidateSlice(const char* f, uint32_t v) {
  return v == 0 || InRange<int64_t>(f, v, 100, 100000);
}
bool ValidateWriteThreads(const char* f, int32_t v) { return InRange(f, v, 1, 1024); }
bool ValidateQueue(const char* f, int32_t v) { return InRange(f, v, 1, 1000000); }
bool ValidateValue(const char* f, int64_t v) { return InRange<int64_t>(f, v, 1, 15 << 20); }
bool ValidateHeartbeat(const char* f, int32_t v) { return InRange(f, v, 10, 60000); }
bool ValidateHold(const char* f, int32_t v) { return InRange(f, v, 0, 10000); }
bool ValidateWriteBuffer(const char* f, int64_t v) {
  return InRange<int64_t>(f, v, 4 << 20, 64 << 20);
}
bool ValidateFlushCut(const char* f, int64_t v) { return InRange<int64_t>(f, v, 0, 64 << 20); }
bool ValidateCache(const char* f, int64_t v) { return InRange<int64_t>(f, v, 0, 64ll << 30); }
bool ValidateOpenTables(const char* f, int32_t v) { return InRange(f, v, 100, 50000); }
bool ValidateNice(const char* f, int32_t v) { return InRange(f, v, 0, 19); }
bool ValidateConnections(const char* f, int32_t v) { return InRange(f, v, 1, 100000); }
bool ValidateIdle(const char* f, int32_t v) { return InRange(f, v, 1000, 86400000); }
bool ValidateParallel(const char* f, int32_t v) { return InRange(f, v, 1, 64); }
bool ValidateApplyThreads(const char* f, int32_t v) { return InRange(f, v, 1, 16); }
bool ValidateRate(const char* f, int64_t v) { return InRange<int64_t>(f, v, 0, 1ll << 40); }
bool ValidateBatchBytes(const char* f, int64_t v) {
  return InRange<int64_t>(f, v, 4 << 10, 8 << 20);
}
bool ValidateBatchEntries(const char* f, int32_t v) { return InRange(f, v, 1, 65536); }
bool ValidateIngestMinBytes(const char* f, int64_t v) {
  return InRange<int64_t>(f, v, -1, int64_t{1} << 40);
}
bool ValidateMigrateTimeout(const char* f, int32_t v) { return InRange(f, v, 100, 600000); }
bool ValidateCleanupPause(const char* f, int32_t v) { return InRange(f, v, 0, 3600000); }
bool ValidateTrim(const char* f, int64_t v) {
  return v == 0 || InRange<int64_t>(f, v, 1 << 20, 1 << 30);
}
bool ValidateWindow(const char* flag, const std::string& value) {
  int start = 0, end = 0;
  tessera::Status s = tessera::migration::ParseCleanupWindow(value, &start, &end);
  if (!s.ok()) std::fprintf(stderr, "dataserver: --%s: %s\n", flag, s.message().c_str());
  return s.ok();
}

}  // namespace

DEFINE_validator(listen, &ValidateAddress);
DEFINE_validator(advertise_address, &ValidateAddress);
DEFINE_validator(config_servers, &ValidateAddressList);
DEFINE_validator(io_threads, &ValidateIo);
DEFINE_validator(request_slice_us, &ValidateSlice);
DEFINE_validator(write_threads, &ValidateWriteThreads);
DEFINE_validator(write_queue_limit, &ValidateQueue);
DEFINE_validator(max_value_bytes, &ValidateValue);
DEFINE_validator(heartbeat_interval_ms, &ValidateHeartbeat);
DEFINE_validator(hold_for_table_ms, &ValidateHold);
DEFINE_validator(hold_fenced_ms, &ValidateHold);
DEFINE_validator(write_buffer_bytes, &ValidateWriteBuffer);
DEFINE_validator(flush_cut_bytes, &ValidateFlushCut);
DEFINE_validator(block_cache_bytes, &ValidateCache);
DEFINE_validator(max_open_tables, &ValidateOpenTables);
DEFINE_validator(background_nice, &ValidateNice);
DEFINE_validator(max_connections, &ValidateConnections);
DEFINE_validator(idle_timeout_ms, &ValidateIdle);
DEFINE_validator(migrate_parallel, &ValidateParallel);
DEFINE_validator(migrate_apply_threads, &ValidateApplyThreads);
DEFINE_validator(migrate_bytes_per_sec, &ValidateRate);
DEFINE_validator(migrate_batch_bytes, &ValidateBatchBytes);
DEFINE_validator(migrate_batch_entries, &ValidateBatchEntries);
DEFINE_validator(migrate_apply_nice, &ValidateNice);
DEFINE_validator(migrate_ingest_min_bytes, &ValidateIngestMinBytes);
DEFINE_validator(migrate_rpc_timeout_ms, &ValidateMigrateTimeout);
DEFINE_validator(cleanup_pause_ms, &ValidateCleanupPause);
DEFINE_validator(cleanup_window, &ValidateWindow);
DEFINE_validator(malloc_trim_threshold_bytes, &ValidateTrim);

namespace {

[[noreturn]] void BadFlags(const std::string& message) {
  std::fprintf(stderr, "dataserver: %s (see --help)\n", message.c_str());
  std::exit(2);
}

// --help: the usage line and this binary's flags (gflags' own --help lists every
// library's flags and exits 1; --helpfull still does that).
[[noreturn]] void ShowHelp() {
  std::printf("dataserver: %s\n\nFlags:\n", gflags::ProgramUsage());
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  for (const gflags::CommandLineFlagInfo& f : flags) {
    if (f.filename.find("dataserver/main.cc") == std::string::npos) continue;
    std::printf("  --%s (%s, default \"%s\")\n      %s\n", f.name.c_str(), f.type.c_str(),
                f.default_value.c_str(), f.description.c_str());
  }
  std::printf("\nLogging: glog flags (--v, --logtostderr, --log_dir, ...); see --helpfull.\n");
  std::exit(0);
}

// gflags exits with status 1 on an unknown flag or a rejected value; we want 2 and a
// clear message, so every "--name[=value]" is checked before gflags parses.
void PrecheckFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-help" || arg == "--helpshort") ShowHelp();
    if (arg.size() < 2 || arg[0] != '-') BadFlags("unexpected argument '" + arg + "'");
    arg = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = arg, value;
    const bool has_value = arg.find('=') != std::string::npos;
    if (has_value) {
      name = arg.substr(0, arg.find('='));
      value = arg.substr(arg.find('=') + 1);
    }
    gflags::CommandLineFlagInfo info;
    if (!gflags::GetCommandLineFlagInfo(name.c_str(), &info)) {
      if (name.rfind("no", 0) == 0 && !has_value &&
          gflags::GetCommandLineFlagInfo(name.substr(2).c_str(), &info) && info.type == "bool") {
        continue;
      }
      BadFlags("unknown flag --" + name);
    }
    if (info.type == "bool" && !has_value) continue;
    if (!has_value) {
      if (i + 1 >= argc) BadFlags("flag --" + name + " needs a value");
      value = argv[++i];
    }
    if (info.filename.find("gflags") != std::string::npos) continue;  // --help & co
    if (gflags::SetCommandLineOption(name.c_str(), value.c_str()).empty()) {
      BadFlags("invalid value '" + value + "' for --" + name);
    }
  }
}

// Raises the soft open-file limit toward `wanted` (at most the hard limit): a table
// the process cannot map (past ldb's map budget) holds a descriptor while it is in
// the table cache, and every client connection holds one. Debian's default soft
// limit is 1024.
void RaiseOpenFileLimit(rlim_t wanted) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  const rlim_t old_soft = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = old_soft;
  if (limit.rlim_cur < wanted) {
    LOG(WARNING) << "open-file limit " << limit.rlim_cur << " (hard " << limit.rlim_max
                 << ") is below the " << wanted
                 << " that --max_open_tables + --max_connections may need";
  }
}

// Keeps freed heap memory in the process (--malloc_trim_threshold_bytes). glibc gives
// memory back when the free space at the top of a heap passes the trim threshold,
// and serves blocks above the mmap threshold with mmap/munmap. Its defaults adapt
// (both grow after a large block is freed), but a heap still shrinks whenever a
// batch-sized block is freed at its top: in a migration the destination parses each
// 1 MiB batch into a fresh block and frees it on the apply thread. Measured in
// scripts/bench_migration, minor faults of the 4 data servers while 1/4 of 1 GiB
// moved: 62-66 k with glibc's defaults, 14-17 k with these settings; faulting in
// a page the kernel must zero (and this VM's host must back anew) cost more CPU
// than the copies it feeds. Setting either threshold turns glibc's adaptation off,
// so both are set.
void KeepFreedHeap(int64_t trim_threshold) {
  if (trim_threshold == 0) return;
#if defined(__GLIBC__)
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest (HEAP_MAX_SIZE / 2)
  if (mallopt(M_MMAP_THRESHOLD, kMmapThreshold) != 1 ||
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) != 1) {
    LOG(WARNING) << "mallopt refused the thresholds of --malloc_trim_threshold_bytes";
  }
#else
  LOG(WARNING) << "--malloc_trim_threshold_bytes needs glibc; ignored";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "a Tessera data server\n"
      "  dataserver --listen=HOST:PORT --config_servers=HOST:PORT[,...] --data_dir=DIR "
      "[tuning flags]\n"
      "Exit status: 0 after SIGTERM/SIGINT (graceful stop), 1 when it cannot start, 2 for "
      "bad flags.");
  FLAGS_logtostderr = true;  // logs go to stderr unless --logtostderr=false
  PrecheckFlags(argc, argv);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc > 1) BadFlags(std::string("unexpected argument '") + argv[1] + "'");
  if (FLAGS_listen.empty()) BadFlags("--listen is required");
  if (FLAGS_config_servers.empty()) BadFlags("--config_servers is required");
  if (FLAGS_data_dir.empty()) BadFlags("--data_dir is required");
  google::InitGoogleLogging(argv[0]);
  KeepFreedHeap(FLAGS_malloc_trim_threshold_bytes);
  RaiseOpenFileLimit(static_cast<rlim_t>(FLAGS_max_open_tables) +
                     static_cast<rlim_t>(FLAGS_max_connections) + 256);

  tessera::ds::DataServerOptions options;
  options.listen = FLAGS_listen;
  options.advertise_address = FLAGS_advertise_address;
  tessera::Status s = tessera::ParseHostPortList(FLAGS_config_servers, &options.config_servers);
  if (!s.ok()) BadFlags("--config_servers: " + s.message());
  options.data_dir = FLAGS_data_dir;
  options.io_threads = FLAGS_io_threads;
  options.request_slice_us = FLAGS_request_slice_us;
  options.pin_connections = FLAGS_pin_connections;
  options.write_threads = FLAGS_write_threads;
  options.write_queue_limit = static_cast<size_t>(FLAGS_write_queue_limit);
  options.inline_writes = FLAGS_inline_writes;
  options.sync_writes = FLAGS_sync_writes;
  options.hold_for_table_ms = static_cast<uint32_t>(FLAGS_hold_for_table_ms);
  options.hold_fenced_ms = static_cast<uint32_t>(FLAGS_hold_fenced_ms);
  options.max_value_bytes = static_cast<size_t>(FLAGS_max_value_bytes);
  options.heartbeat_interval_ms = static_cast<uint32_t>(FLAGS_heartbeat_interval_ms);
  options.write_buffer_bytes = static_cast<size_t>(FLAGS_write_buffer_bytes);
  options.flush_cut_bytes = static_cast<size_t>(FLAGS_flush_cut_bytes);
  options.block_cache_bytes = static_cast<size_t>(FLAGS_block_cache_bytes);
  options.max_open_tables = FLAGS_max_open_tables;
  options.background_nice = FLAGS_background_nice;
  options.max_connections = static_cast<uint32_t>(FLAGS_max_connections);
  options.idle_timeout_ms = static_cast<uint32_t>(FLAGS_idle_timeout_ms);
  options.migrate_parallel = FLAGS_migrate_parallel;
  options.migrate_apply_threads = FLAGS_migrate_apply_threads;
  options.migrate_apply_nice = FLAGS_migrate_apply_nice;
  options.migrate_sched_idle = FLAGS_migrate_sched_idle;
  options.migrate_io_idle = FLAGS_migrate_io_idle;
  options.migrate_apply_idle = FLAGS_migrate_apply_idle;
  options.migrate_ingest_idle = FLAGS_migrate_ingest_idle;
  options.migrate_ingest_min_bytes = FLAGS_migrate_ingest_min_bytes < 0
                                         ? SIZE_MAX
                                         : static_cast<size_t>(FLAGS_migrate_ingest_min_bytes);
  options.migrate_bytes_per_sec = static_cast<uint64_t>(FLAGS_migrate_bytes_per_sec);
  options.migrate_batch_bytes = static_cast<size_t>(FLAGS_migrate_batch_bytes);
  options.migrate_batch_entries = static_cast<size_t>(FLAGS_migrate_batch_entries);
  options.migrate_rpc_timeout_ms = static_cast<uint32_t>(FLAGS_migrate_rpc_timeout_ms);
  options.cleanup_pause_ms = static_cast<uint32_t>(FLAGS_cleanup_pause_ms);
  options.cleanup_window = FLAGS_cleanup_window;
  options.orphan_sweep = FLAGS_orphan_sweep;

  // Every thread started from here on inherits the blocked set; the main thread
  // waits for the signals synchronously.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  tessera::ds::DataServer server(options);
  s = server.Start();
  if (!s.ok()) {
    LOG(ERROR) << "dataserver " << FLAGS_listen << " cannot start: " << s.ToString();
    return 1;
  }
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  LOG(INFO) << "dataserver " << server.address() << " got signal " << sig << ", stopping";
  server.Stop();
  return 0;
}
