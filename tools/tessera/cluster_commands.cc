#include "cluster_commands.h"

#include <cstdio>
#include <iostream>
#include <map>

#include "common/bucket_table.h"
#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "server_rpc.h"

namespace tessera::cli {

namespace {

std::string StateName(proto::ServerState s) {
  switch (s) {
    case proto::SERVER_UP: return "up";
    case proto::SERVER_DOWN: return "down";
    default: return "unknown";
  }
}

std::string Ago(uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs ago", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string Uptime(uint64_t ms) {
  uint64_t s = ms / 1000;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lluh%02llum%02llus", static_cast<unsigned long long>(s / 3600),
                static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  return buf;
}

uint64_t Ops(const proto::ServerStats& st) { return st.gets() + st.puts() + st.removes(); }

int Nodes(const Context& ctx) {
  proto::Request req;
  req.mutable_list_nodes();
  proto::Response resp;
  IoThread io(1);
  client::Status s = AskConfigServers(ctx, &io, req, &resp, OnServerError::kTryNext);
  if (!s.ok()) return ReportError(ctx, s);
  const proto::ListNodesResponse& ln = resp.list_nodes();
  if (ctx.json) {
    std::vector<std::string> nodes;
    for (const proto::NodeInfo& n : ln.nodes()) {
      nodes.push_back(JsonObject()
                          .Add("address", n.address())
                          .Add("state", StateName(n.state()))
                          .Add("member", n.member())
                          .Add("buckets", n.buckets())
                          .Add("masters", n.masters())
                          .Add("last_heartbeat_ms_ago", n.last_heartbeat_ms_ago())
                          .Add("table_version", n.table_version())
                          .Add("ops", Ops(n.stats()))
                          .Add("gets", n.stats().gets())
                          .Add("puts", n.stats().puts())
                          .Add("removes", n.stats().removes())
                          .Add("errors", n.stats().errors())
                          .str());
    }
    std::cout << JsonObject()
                     .Add("table_version", ln.table_version())
                     .AddRaw("nodes", JsonArray(nodes))
                     .str()
              << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ADDRESS", "STATE", "MEMBER", "BUCKETS", "MASTERS",
                                                 "LAST_HEARTBEAT", "TABLE_V", "OPS", "GETS", "PUTS",
                                                 "REMOVES", "ERRORS"}};
  for (const proto::NodeInfo& n : ln.nodes()) {
    const proto::ServerStats& st = n.stats();
    rows.push_back({n.address(), StateName(n.state()), n.member() ? "yes" : "no",
                    std::to_string(n.buckets()), std::to_string(n.masters()),
                    Ago(n.last_heartbeat_ms_ago()), std::to_string(n.table_version()),
                    std::to_string(Ops(st)), std::to_string(st.gets()), std::to_string(st.puts()),
                    std::to_string(st.removes()), std::to_string(st.errors())});
  }
  std::cout << "table version " << ln.table_version() << ", " << ln.nodes_size() << " nodes\n"
            << FormatTable(rows);
  return kExitOk;
}

struct Range {
  uint32_t first, last, server;
};

// Runs of consecutive buckets whose copy `copy` is on the same server.
std::vector<Range> Ranges(const BucketTable& t, uint32_t copy) {
  std::vector<Range> out;
  for (uint32_t b = 0; b < t.bucket_count(); ++b) {
    const uint32_t s = t.Copies(b)[copy];
    if (!out.empty() && out.back().server == s && out.back().last + 1 == b) {
      out.back().last = b;
    } else {
      out.push_back({b, b, s});
    }
  }
  return out;
}

std::string RangeText(const Range& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

// "127.0.0.1:7101 (341 buckets):".
std::string RangeListHeader(const std::string& address, const std::vector<Range>& ranges,
                            int server) {
  uint32_t n = 0;
  for (const Range& r : ranges) {
    if (r.server == static_cast<uint32_t>(server)) n += r.last - r.first + 1;
  }
  return address + " (" + std::to_string(n) + " buckets):";
}

int Table(const Context& ctx) {
  proto::Request req;
  req.mutable_get_table()->set_known_version(0);
  proto::Response resp;
  IoThread io(1);
  client::Status s = AskConfigServers(ctx, &io, req, &resp, OnServerError::kTryNext);
  if (!s.ok()) return ReportError(ctx, s);
  if (!resp.get_table().has_table()) {
    return ReportError(ctx, client::Status::Unavailable("the config server has no table yet"));
  }
  std::shared_ptr<const BucketTable> t;
  tessera::Status v = BucketTable::FromProto(resp.get_table().table(), &t);
  if (!v.ok()) return ReportError(ctx, client::Status::Internal(v.message()));
  const auto& servers = t->proto().servers();
  if (ctx.json) {
    std::vector<std::string> copies;
    for (uint32_t c = 0; c < t->copy_count(); ++c) {
      std::vector<std::string> ranges;
      for (const Range& r : Ranges(*t, c)) {
        ranges.push_back(JsonObject()
                             .Add("first", r.first)
                             .Add("last", r.last)
                             .Add("server", t->server(r.server).address())
                             .str());
      }
      copies.push_back(JsonArray(ranges));
    }
    std::vector<std::string> nodes;
    for (int i = 0; i < servers.size(); ++i) {
      nodes.push_back(JsonObject()
                          .Add("address", servers[i].address())
                          .Add("state", StateName(servers[i].state()))
                          .Add("buckets", t->CopyCount(i))
                          .Add("masters", t->MasterCount(i))
                          .str());
    }
    std::cout << JsonObject()
                     .Add("version", t->version())
                     .Add("cluster_name", t->proto().cluster_name())
                     .Add("bucket_count", t->bucket_count())
                     .Add("copy_count", t->copy_count())
                     .AddRaw("nodes", JsonArray(nodes))
                     .AddRaw("ranges", JsonArray(copies))
                     .str()
              << "\n";
    return kExitOk;
  }
  std::cout << "table version " << t->version();
  if (!t->proto().cluster_name().empty()) std::cout << " (cluster " << t->proto().cluster_name() << ")";
  std::cout << ", bucket_count " << t->bucket_count() << ", copy_count " << t->copy_count() << "\n\n";
  // Per node, its runs of buckets ("0-340", or "1 4 6-7 ..." when interleaved), wrapped.
  for (uint32_t c = 0; c < t->copy_count(); ++c) {
    std::cout << (c == 0 ? std::string("masters") : "copy " + std::to_string(c)) << " by node:\n";
    const std::vector<Range> ranges = Ranges(*t, c);
    for (int i = 0; i < servers.size(); ++i) {
      std::cout << "  " << RangeListHeader(servers[i].address(), ranges, i) << "\n";
      const size_t indent = 6;
      std::string line(indent, ' ');
      bool first = true;
      for (const Range& r : ranges) {
        if (r.server != static_cast<uint32_t>(i)) continue;
        const std::string text = RangeText(r);
        if (!first && line.size() + 1 + text.size() > 100) {
          std::cout << line << "\n";
          line = std::string(indent, ' ');
          first = true;
        }
        line += (first ? "" : " ") + text;
        first = false;
      }
      std::cout << line << "\n";
    }
    std::cout << "\n";
  }
  std::vector<std::vector<std::string>> rows = {{"NODE", "STATE", "BUCKETS", "MASTERS"}};
  for (int i = 0; i < servers.size(); ++i) {
    rows.push_back({servers[i].address(), StateName(servers[i].state()),
                    std::to_string(t->CopyCount(i)), std::to_string(t->MasterCount(i))});
  }
  std::cout << FormatTable(rows);
  return kExitOk;
}

int Stats(const Context& ctx) {
  proto::Request req;
  req.mutable_list_nodes();
  proto::Response resp;
  IoThread io(1);
  client::Status s = AskConfigServers(ctx, &io, req, &resp, OnServerError::kTryNext);
  if (!s.ok()) return ReportError(ctx, s);
  struct Sum {
    uint64_t ops = 0, keys = 0, bytes = 0;
  };
  std::map<uint32_t, Sum> totals;
  std::vector<std::string> json_nodes;
  std::vector<std::vector<std::string>> node_rows = {
      {"NODE", "STATE", "UPTIME", "OPS", "GETS", "PUTS", "REMOVES", "ERRORS", "DB_SIZE",
       "WRITE_STALL", "TABLES", "TABLE_OPENS"}};
  std::vector<std::vector<std::string>> area_rows = {{"NODE", "AREA", "OPS", "KEYS", "BYTES"}};
  for (const proto::NodeInfo& n : resp.list_nodes().nodes()) {
    const proto::ServerStats& st = n.stats();
    node_rows.push_back({n.address(), StateName(n.state()), Uptime(st.uptime_ms()),
                         std::to_string(Ops(st)), std::to_string(st.gets()),
                         std::to_string(st.puts()), std::to_string(st.removes()),
                         std::to_string(st.errors()), HumanBytes(st.db_bytes()),
                         std::to_string(st.write_stall_ms()) + " ms",
                         std::to_string(st.table_files()), std::to_string(st.table_opens())});
    std::vector<std::string> json_areas;
    for (const proto::AreaStats& a : st.areas()) {
      area_rows.push_back({n.address(), std::to_string(a.area()), std::to_string(a.ops()),
                           std::to_string(a.keys()), HumanBytes(a.bytes())});
      Sum& sum = totals[a.area()];
      sum.ops += a.ops();
      sum.keys += a.keys();
      sum.bytes += a.bytes();
      json_areas.push_back(JsonObject()
                               .Add("area", a.area())
                               .Add("ops", a.ops())
                               .Add("keys", a.keys())
                               .Add("bytes", a.bytes())
                               .str());
    }
    json_nodes.push_back(JsonObject()
                             .Add("address", n.address())
                             .Add("state", StateName(n.state()))
                             .Add("uptime_ms", st.uptime_ms())
                             .Add("ops", Ops(st))
                             .Add("gets", st.gets())
                             .Add("puts", st.puts())
                             .Add("removes", st.removes())
                             .Add("errors", st.errors())
                             .Add("db_bytes", st.db_bytes())
                             .Add("write_stall_ms", st.write_stall_ms())
                             .Add("table_files", st.table_files())
                             .Add("table_opens", st.table_opens())
                             .AddRaw("areas", JsonArray(json_areas))
                             .str());
  }
  if (ctx.json) {
    std::vector<std::string> json_totals;
    for (const auto& [area, sum] : totals) {
      json_totals.push_back(JsonObject()
                                .Add("area", area)
                                .Add("ops", sum.ops)
                                .Add("keys", sum.keys)
                                .Add("bytes", sum.bytes)
                                .str());
    }
    std::cout << JsonObject()
                     .Add("table_version", resp.list_nodes().table_version())
                     .AddRaw("nodes", JsonArray(json_nodes))
                     .AddRaw("areas", JsonArray(json_totals))
                     .str()
              << "\n";
    return kExitOk;
  }
  for (const auto& [area, sum] : totals) {
    area_rows.push_back({"(all)", std::to_string(area), std::to_string(sum.ops),
                         std::to_string(sum.keys), HumanBytes(sum.bytes)});
  }
  std::cout << FormatTable(node_rows) << "\n" << FormatTable(area_rows);
  return kExitOk;
}

}  // namespace

bool IsClusterCommand(const std::string& command) {
  return command == "nodes" || command == "table" || command == "stats";
}

int RunClusterCommand(const Context& ctx, const std::string& command,
                      const std::vector<std::string>& args) {
  if (!args.empty()) return UsageError(command + " takes no arguments");
  if (command == "nodes") return Nodes(ctx);
  if (command == "table") return Table(ctx);
  if (command == "stats") return Stats(ctx);
  return UsageError("unknown command " + command);
}

}  // namespace tessera::cli
