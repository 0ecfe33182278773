#include "cleanup_commands.h"

#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/address.h"
#include "common/io_thread.h"
#include "common/proto/rpc.pb.h"
#include "server_rpc.h"

namespace tessera::cli {
namespace {

// The data servers the config servers list (first one that answers).
client::Status ListNodes(const Context& ctx, IoThread* io, std::vector<std::string>* out) {
  proto::Request req;
  req.mutable_list_nodes();
  proto::Response resp;
  client::Status s = AskConfigServers(ctx, io, req, &resp, OnServerError::kTryNext);
  if (!s.ok()) return client::Status::Unavailable(s.message());
  for (const proto::NodeInfo& n : resp.list_nodes().nodes()) out->push_back(n.address());
  return client::Status::OK();
}

bool ParseBuckets(const std::string& text, std::vector<uint32_t>* out) {
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty() || item.size() > 9) return false;
    uint32_t v = 0;
    for (char c : item) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    out->push_back(v);
  }
  return !out->empty();
}

std::string StatusJson(const std::string& node, const proto::CleanupResponse& c) {
  std::vector<std::string> buckets;
  for (const proto::CleanupBucket& b : c.buckets()) {
    buckets.push_back(JsonObject()
                          .Add("bucket", b.bucket())
                          .Add("state", b.state())
                          .Add("bytes_freed", b.bytes_freed())
                          .str());
  }
  return JsonObject()
      .Add("node", node)
      .Add("paused", c.paused())
      .Add("pending", c.pending())
      .Add("bytes_freed", c.bytes_freed())
      .Add("bytes_rewritten", c.bytes_rewritten())
      .Add("db_bytes", c.db_bytes())
      .AddRaw("buckets", JsonArray(buckets))
      .str();
}

// True when nothing is left to do for `buckets` (all pending work when empty).
bool Finished(const proto::CleanupResponse& c, const std::vector<uint32_t>& buckets) {
  if (buckets.empty()) return c.pending() == 0;
  std::set<uint32_t> want(buckets.begin(), buckets.end());
  for (const proto::CleanupBucket& b : c.buckets()) {
    if (want.count(b.bucket()) > 0 && b.state() != "done") return false;
  }
  return true;
}

}  // namespace

int RunCleanupCommand(const Context& ctx, const CleanupCliOptions& options,
                      const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return UsageError("cleanup needs one of: status, run, pause, resume");
  }
  const std::string& op = args[0];
  if (op != "status" && op != "run" && op != "pause" && op != "resume") {
    return UsageError("unknown cleanup command \"" + op + "\"");
  }
  std::vector<uint32_t> buckets;
  if (!options.buckets.empty()) {
    if (op != "run") return UsageError("--bucket is for cleanup run");
    if (!ParseBuckets(options.buckets, &buckets)) {
      return UsageError("--bucket must be a bucket number or a comma-separated list");
    }
  }
  if (options.wait && op != "run") return UsageError("--wait is for cleanup run");
  if (!options.node.empty()) {
    HostPort hp;
    if (!ParseHostPort(options.node, &hp).ok()) return UsageError("--node must be HOST:PORT");
  }

  IoThread io(1);
  std::vector<std::string> nodes;
  if (!options.node.empty()) {
    nodes.push_back(options.node);
  } else {
    client::Status s = ListNodes(ctx, &io, &nodes);
    if (!s.ok()) return ReportError(ctx, s);
  }

  proto::Request req;
  proto::CleanupRequest* c = req.mutable_cleanup();
  if (op == "status") {
    c->set_status(true);
  } else if (op == "pause") {
    c->set_pause(true);
  } else if (op == "resume") {
    c->set_resume(true);
  } else {
    proto::CleanupRun* run = c->mutable_run();  // no buckets: every reclaimed one
    for (uint32_t b : buckets) run->add_buckets(b);
  }
  proto::Request status_req;
  status_req.mutable_cleanup()->set_status(true);

  bool failed = false;
  std::vector<std::string> json_nodes;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<std::string>> bucket_rows = {{"NODE", "BUCKET", "STATE", "FREED"}};
  if (op == "run" && options.wait) {
    rows.push_back({"NODE", "DB_BEFORE", "DB_AFTER", "FREED", "REWRITTEN"});
  } else {
    rows.push_back({"NODE", "PAUSED", "PENDING", "FREED", "REWRITTEN", "DB_SIZE"});
  }
  for (const std::string& node : nodes) {
    proto::Response before;
    client::Status s;
    if (op == "run" && options.wait) s = CallServer(ctx, &io, node, status_req, &before);
    proto::Response resp;
    if (s.ok()) s = CallServer(ctx, &io, node, req, &resp);
    if (s.ok() && op == "run" && options.wait) {
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options.wait_timeout_ms);
      while (s.ok() && !Finished(resp.cleanup(), buckets)) {
        if (resp.cleanup().paused()) {
          s = client::Status::Unavailable(node + ": cleanup is paused (cleanup resume)");
          break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          s = client::Status::Timeout(node + ": cleanup still running");
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(options.poll_interval_ms));
        s = CallServer(ctx, &io, node, status_req, &resp);
      }
    }
    if (!s.ok()) {
      failed = true;
      if (ctx.json) {
        json_nodes.push_back(
            JsonObject().Add("node", node).Add("error", s.message()).str());
      } else {
        std::cerr << "error: " << s.message() << "\n";
      }
      continue;
    }
    const proto::CleanupResponse& cr = resp.cleanup();
    if (op == "run" && options.wait) {
      const proto::CleanupResponse& b = before.cleanup();
      const uint64_t freed = cr.bytes_freed() - std::min(cr.bytes_freed(), b.bytes_freed());
      const uint64_t rewritten =
          cr.bytes_rewritten() - std::min(cr.bytes_rewritten(), b.bytes_rewritten());
      rows.push_back({node, HumanBytes(b.db_bytes()), HumanBytes(cr.db_bytes()),
                      HumanBytes(freed), HumanBytes(rewritten)});
      json_nodes.push_back(JsonObject()
                               .Add("node", node)
                               .Add("db_bytes_before", b.db_bytes())
                               .Add("db_bytes_after", cr.db_bytes())
                               .Add("bytes_freed", freed)
                               .Add("bytes_rewritten", rewritten)
                               .AddRaw("status", StatusJson(node, cr))
                               .str());
    } else {
      rows.push_back({node, cr.paused() ? "yes" : "no", std::to_string(cr.pending()),
                      HumanBytes(cr.bytes_freed()), HumanBytes(cr.bytes_rewritten()),
                      HumanBytes(cr.db_bytes())});
      json_nodes.push_back(StatusJson(node, cr));
    }
    for (const proto::CleanupBucket& b : cr.buckets()) {
      bucket_rows.push_back({node, std::to_string(b.bucket()), b.state(),
                             HumanBytes(b.bytes_freed())});
    }
  }
  if (ctx.json) {
    std::cout << JsonObject().Add("op", op).AddRaw("nodes", JsonArray(json_nodes)).str()
              << "\n";
  } else {
    if (rows.size() > 1) std::cout << FormatTable(rows);
    if (op == "status" && bucket_rows.size() > 1) std::cout << "\n" << FormatTable(bucket_rows);
  }
  return failed ? kExitError : kExitOk;
}

}  // namespace tessera::cli
