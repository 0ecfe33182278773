#include "migrate_commands.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <thread>

#include "common/address.h"
#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "server_rpc.h"

namespace tessera::cli {
namespace {

std::string Token(const MigrateOptions& o) {
  if (!o.admin_token.empty()) return o.admin_token;
  const char* env = std::getenv("TESSERA_ADMIN_TOKEN");
  if (env != nullptr && *env != '\0') return env;
  return "local-admin";
}

uint64_t UnixNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string Duration(double seconds) {
  if (seconds < 0) return "?";
  const uint64_t s = static_cast<uint64_t>(seconds + 0.5);
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "s", s);
  }
  return buf;
}

// Rates and ETA of a status, from the migration's start (or from the previous
// sample, when watching).
struct Progress {
  double elapsed_s = 0;
  double bytes_per_s = 0;
  double keys_per_s = 0;
  double eta_s = -1;  // unknown
};

Progress Compute(const proto::MigrationStatusResponse& st, uint64_t now_ms,
                 const proto::MigrationStatusResponse* prev, uint64_t prev_ms) {
  Progress p;
  if (st.started_unix_ms() > 0 && now_ms > st.started_unix_ms()) {
    p.elapsed_s = static_cast<double>(now_ms - st.started_unix_ms()) / 1000.0;
  }
  if (prev != nullptr && prev->migration_id() == st.migration_id() && now_ms > prev_ms &&
      st.bytes_sent() >= prev->bytes_sent() && st.keys_sent() >= prev->keys_sent()) {
    const double dt = static_cast<double>(now_ms - prev_ms) / 1000.0;
    p.bytes_per_s = static_cast<double>(st.bytes_sent() - prev->bytes_sent()) / dt;
    p.keys_per_s = static_cast<double>(st.keys_sent() - prev->keys_sent()) / dt;
  } else if (p.elapsed_s > 0) {
    p.bytes_per_s = static_cast<double>(st.bytes_sent()) / p.elapsed_s;
    p.keys_per_s = static_cast<double>(st.keys_sent()) / p.elapsed_s;
  }
  if (st.buckets_done() > 0 && p.elapsed_s > 0 && st.buckets_total() >= st.buckets_done()) {
    p.eta_s = p.elapsed_s / st.buckets_done() * (st.buckets_total() - st.buckets_done());
  }
  return p;
}

std::string Bar(uint32_t done, uint32_t total, int width = 30) {
  const int filled = total == 0 ? width : static_cast<int>(uint64_t{done} * width / total);
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string StatusJson(const proto::MigrationStatusResponse& st, const Progress& p,
                       uint64_t table_version) {
  std::vector<std::string> in_flight;
  for (const proto::BucketMigration& bm : st.in_flight()) {
    in_flight.push_back(JsonObject()
                            .Add("bucket", bm.bucket())
                            .Add("destination", bm.destination())
                            .Add("phase", bm.phase())
                            .Add("attempt", bm.attempt())
                            .Add("keys_sent", bm.keys_sent())
                            .Add("bytes_sent", bm.bytes_sent())
                            .str());
  }
  return JsonObject()
      .Add("migrating", st.migrating())
      .Add("paused", st.paused())
      .Add("migration_id", st.migration_id())
      .Add("table_version", table_version)
      .Add("buckets_total", st.buckets_total())
      .Add("buckets_done", st.buckets_done())
      .Add("keys_sent", st.keys_sent())
      .Add("bytes_sent", st.bytes_sent())
      .Add("started_unix_ms", st.started_unix_ms())
      .Add("bytes_per_sec", static_cast<uint64_t>(p.bytes_per_s))
      .Add("keys_per_sec", static_cast<uint64_t>(p.keys_per_s))
      .Add("eta_seconds", p.eta_s < 0 ? int64_t{-1} : static_cast<int64_t>(p.eta_s + 0.5))
      .AddRaw("in_flight", JsonArray(in_flight))
      .str();
}

std::string StatusLine(const proto::MigrationStatusResponse& st, const Progress& p) {
  if (!st.migrating()) {
    return st.migration_id() == 0
               ? "no migration running (none ever ran)"
               : "no migration running (last migration id " + std::to_string(st.migration_id()) +
                     ")";
  }
  const uint32_t total = st.buckets_total();
  const uint32_t done = st.buckets_done();
  char pct[16];
  std::snprintf(pct, sizeof(pct), "%3.0f%%", total == 0 ? 100.0 : 100.0 * done / total);
  std::string line = "migration " + std::to_string(st.migration_id()) +
                     (st.paused() ? " PAUSED " : " ") + Bar(done, total) + " " + pct + " " +
                     std::to_string(done) + "/" + std::to_string(total) + " buckets, " +
                     std::to_string(st.keys_sent()) + " keys, " + HumanBytes(st.bytes_sent()) +
                     ", " + HumanBytes(static_cast<uint64_t>(p.bytes_per_s)) + "/s " +
                     std::to_string(static_cast<uint64_t>(p.keys_per_s)) + " keys/s, ETA " +
                     (st.paused() ? "paused" : Duration(p.eta_s));
  return line;
}

client::Status FetchStatus(const Context& ctx, IoThread* io, proto::Response* resp) {
  proto::Request req;
  req.mutable_migration_status();
  return AskConfigServers(ctx, io, req, resp, OnServerError::kFinal);
}

int Status(const Context& ctx, const MigrateOptions& o) {
  IoThread io(1);
  proto::Response resp;
  client::Status s = FetchStatus(ctx, &io, &resp);
  if (!s.ok()) return ReportError(ctx, s);
  uint64_t now = UnixNowMs();
  Progress p = Compute(resp.migration_status(), now, nullptr, 0);
  if (!o.watch) {
    const proto::MigrationStatusResponse& st = resp.migration_status();
    if (ctx.json) {
      std::cout << StatusJson(st, p, resp.table_version()) << "\n";
      return kExitOk;
    }
    std::cout << StatusLine(st, p) << "\n";
    if (st.migrating()) {
      char started[32] = "?";
      const time_t t = static_cast<time_t>(st.started_unix_ms() / 1000);
      struct tm tm_buf;
      if (st.started_unix_ms() > 0 && localtime_r(&t, &tm_buf) != nullptr) {
        std::strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm_buf);
      }
      std::cout << "started " << started << " (" << Duration(p.elapsed_s) << " ago), table version "
                << resp.table_version() << "\n";
      if (st.in_flight_size() > 0) {
        std::vector<std::vector<std::string>> rows = {
            {"BUCKET", "DESTINATION", "PHASE", "ATTEMPT", "KEYS", "BYTES"}};
        for (const proto::BucketMigration& bm : st.in_flight()) {
          rows.push_back({std::to_string(bm.bucket()), bm.destination(), bm.phase(),
                          std::to_string(bm.attempt()), std::to_string(bm.keys_sent()),
                          HumanBytes(bm.bytes_sent())});
        }
        std::cout << FormatTable(rows);
      }
    }
    return kExitOk;
  }
  // --watch: refresh every interval until no migration runs.
  const bool tty = !ctx.json && isatty(STDOUT_FILENO) == 1;
  proto::MigrationStatusResponse prev = resp.migration_status();
  uint64_t prev_ms = now;
  bool first = true;
  for (;;) {
    const proto::MigrationStatusResponse& st = resp.migration_status();
    if (!first) p = Compute(st, now, &prev, prev_ms);
    if (ctx.json) {
      std::cout << StatusJson(st, p, resp.table_version()) << std::endl;
    } else if (tty) {
      std::cout << "\r\033[K" << StatusLine(st, p) << std::flush;
    } else {
      std::cout << StatusLine(st, p) << std::endl;
    }
    if (!st.migrating()) break;
    prev = st;
    prev_ms = now;
    first = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(o.watch_interval_ms));
    proto::Response next;
    s = FetchStatus(ctx, &io, &next);
    if (!s.ok()) {
      if (tty) std::cout << "\n";
      return ReportError(ctx, s);
    }
    const bool finished = !next.migration_status().migrating();
    resp = std::move(next);
    now = UnixNowMs();
    if (finished && !ctx.json) {
      if (tty) std::cout << "\r\033[K";
      std::cout << "migration " << prev.migration_id() << " finished (" << prev.buckets_total()
                << " buckets) at table version " << resp.table_version() << std::endl;
      return kExitOk;
    }
  }
  if (tty) std::cout << "\n";
  return kExitOk;
}

int AdminOp(const Context& ctx, const MigrateOptions& o, const std::string& what,
            const std::function<void(proto::AdminRequest*)>& fill) {
  IoThread io(1);
  proto::Request req;
  req.mutable_admin()->set_token(Token(o));
  fill(req.mutable_admin());
  proto::Response resp;
  client::Status s = AskConfigServers(ctx, &io, req, &resp, OnServerError::kFinal);
  if (!s.ok()) return ReportError(ctx, s);
  const uint64_t version = resp.admin().table_version();
  proto::Response sresp;
  s = FetchStatus(ctx, &io, &sresp);
  if (!s.ok()) return ReportError(ctx, s);
  const proto::MigrationStatusResponse& st = sresp.migration_status();
  if (ctx.json) {
    std::cout << JsonObject()
                     .Add("status", "OK")
                     .Add("op", what)
                     .Add("table_version", version)
                     .Add("migrating", st.migrating())
                     .Add("paused", st.paused())
                     .Add("migration_id", st.migration_id())
                     .Add("buckets_total", st.buckets_total())
                     .Add("buckets_done", st.buckets_done())
                     .str()
              << "\n";
    return kExitOk;
  }
  std::cout << what << ": ok, table version " << version << "\n";
  if (st.migrating()) {
    std::cout << "migration " << st.migration_id() << (st.paused() ? " (paused)" : "") << ": "
              << st.buckets_done() << "/" << st.buckets_total()
              << " buckets done; follow it with `tessera migrate status --watch`\n";
  } else {
    std::cout << "no migration running (nothing to move)\n";
  }
  return kExitOk;
}

const char kMigrateUsage[] =
    "migrate add-node ADDR | remove-node ADDR | move-bucket B --to ADDR | "
    "status [--watch] | pause | resume";

}  // namespace

int RunMigrateCommand(const Context& ctx, const MigrateOptions& o,
                      const std::vector<std::string>& args) {
  if (args.empty()) return UsageError(std::string("expected ") + kMigrateUsage);
  const std::string& sub = args[0];
  auto want = [&](size_t n) { return args.size() == n + 1; };
  if (sub == "status") {
    if (!want(0)) return UsageError("migrate status takes no argument (--watch, --json)");
    return Status(ctx, o);
  }
  if (sub == "pause" || sub == "resume") {
    if (!want(0)) return UsageError("migrate " + sub + " takes no argument");
    const bool pause = sub == "pause";
    return AdminOp(ctx, o, sub, [&](proto::AdminRequest* a) {
      if (pause) {
        a->set_pause_migration(true);
      } else {
        a->set_resume_migration(true);
      }
    });
  }
  if (sub == "add-node" || sub == "remove-node") {
    if (!want(1)) return UsageError("migrate " + sub + " ADDR");
    HostPort hp;
    if (!ParseHostPort(args[1], &hp).ok()) {
      return UsageError("migrate " + sub + ": bad address \"" + args[1] + "\" (HOST:PORT)");
    }
    const bool add = sub == "add-node";
    return AdminOp(ctx, o, sub + " " + args[1], [&](proto::AdminRequest* a) {
      if (add) {
        a->set_add_node(args[1]);
      } else {
        a->set_remove_node(args[1]);
      }
    });
  }
  if (sub == "move-bucket") {
    std::string to;
    if (!o.to.empty() && args.size() == 2) {
      to = o.to;
    } else if (o.to.empty() && args.size() == 3) {
      to = args[2];  // "move-bucket B ADDR" works too
    } else {
      return UsageError("migrate move-bucket B --to ADDR");
    }
    char* end = nullptr;
    const unsigned long long b = std::strtoull(args[1].c_str(), &end, 10);
    if (args[1].empty() || *end != '\0' || b > 16777215ull) {
      return UsageError("migrate move-bucket: bad bucket \"" + args[1] + "\"");
    }
    HostPort hp;
    if (!ParseHostPort(to, &hp).ok()) {
      return UsageError("migrate move-bucket: bad address \"" + to + "\" (HOST:PORT)");
    }
    return AdminOp(ctx, o, "move-bucket " + args[1] + " to " + to, [&](proto::AdminRequest* a) {
      a->mutable_move_bucket()->set_bucket(static_cast<uint32_t>(b));
      a->mutable_move_bucket()->set_to(to);
    });
  }
  return UsageError("unknown migrate command \"" + sub + "\"; expected " + kMigrateUsage);
}

}  // namespace tessera::cli
