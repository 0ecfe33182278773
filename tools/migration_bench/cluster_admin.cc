#include "cluster_admin.h"

#include <utility>

#include "common/address.h"
#include "common/rpc_channel.h"

namespace tessera::mbench {

ClusterAdmin::ClusterAdmin(std::vector<std::string> config_servers, uint32_t timeout_ms)
    : config_servers_(std::move(config_servers)), timeout_ms_(timeout_ms), io_(1) {}

Status ClusterAdmin::CallOne(const std::string& address, const proto::Request& request,
                             proto::Response* response) {
  HostPort hp;
  Status s = ParseHostPort(address, &hp);
  if (!s.ok()) return Status::InvalidArgument("\"" + address + "\": " + s.message());
  RpcChannel channel(io_.io(), hp);
  proto::Request copy = request;
  s = channel.CallSync(&copy, timeout_ms_, response);
  channel.Close();
  if (!s.ok()) return Status(s.code(), address + ": " + s.message());
  if (response->code() != proto::OK) {
    return Status(static_cast<Code>(static_cast<int>(response->code())),
                  address + ": " + response->message());
  }
  return Status::OK();
}

Status ClusterAdmin::CallConfig(const proto::Request& request, proto::Response* response) {
  Status last = Status::Unavailable("no config server given");
  for (const std::string& cs : config_servers_) {
    last = CallOne(cs, request, response);
    // An error answer from a reachable server is final; only transport errors move on.
    if (last.ok() || response->code() != proto::OK) return last;
  }
  return last;
}

Status ClusterAdmin::AddNode(const std::string& address, const std::string& token,
                             uint64_t* table_version) {
  proto::Request req;
  req.mutable_admin()->set_token(token);
  req.mutable_admin()->set_add_node(address);
  proto::Response resp;
  Status s = CallConfig(req, &resp);
  if (s.ok()) *table_version = resp.admin().table_version();
  return s;
}

Status ClusterAdmin::MigrationStatus(proto::MigrationStatusResponse* out) {
  proto::Request req;
  req.mutable_migration_status();
  proto::Response resp;
  Status s = CallConfig(req, &resp);
  if (s.ok()) *out = resp.migration_status();
  return s;
}

Status ClusterAdmin::ListNodes(proto::ListNodesResponse* out) {
  proto::Request req;
  req.mutable_list_nodes();
  proto::Response resp;
  Status s = CallConfig(req, &resp);
  if (s.ok()) *out = resp.list_nodes();
  return s;
}

Status ClusterAdmin::CleanupStatus(const std::string& address, proto::CleanupResponse* out) {
  proto::Request req;
  req.mutable_cleanup()->set_status(true);
  proto::Response resp;
  Status s = CallOne(address, req, &resp);
  if (!s.ok()) return s;
  if (!resp.has_cleanup()) return Status::Unavailable(address + ": no cleanup answer");
  *out = resp.cleanup();
  return Status::OK();
}

}  // namespace tessera::mbench
