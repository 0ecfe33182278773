#include "server_rpc.h"

#include "common/address.h"
#include "common/rpc_channel.h"

namespace tessera::cli {

client::Status ToClient(const tessera::Status& s) {
  if (s.ok()) return client::Status::OK();
  client::Code code = client::Code::kInternal;
  switch (s.code()) {
    case tessera::Code::kTimeout: code = client::Code::kTimeout; break;
    case tessera::Code::kUnavailable: code = client::Code::kUnavailable; break;
    case tessera::Code::kInvalidArgument: code = client::Code::kInvalidArgument; break;
    case tessera::Code::kPermissionDenied: code = client::Code::kPermissionDenied; break;
    case tessera::Code::kNotFound: code = client::Code::kNotFound; break;
    default: break;
  }
  return client::Status(code, s.message());
}

client::Status CallServer(const Context& ctx, IoThread* io, const std::string& address,
                          const proto::Request& request, proto::Response* response) {
  HostPort hp;
  tessera::Status s = ParseHostPort(address, &hp);
  if (!s.ok()) return client::Status::InvalidArgument("\"" + address + "\": " + s.message());
  RpcChannel channel(io->io(), hp);
  proto::Request copy = request;
  response->Clear();
  s = channel.CallSync(&copy, ctx.timeout_ms, response);
  if (s.ok() && response->code() != proto::OK) {
    s = tessera::Status(static_cast<tessera::Code>(static_cast<int>(response->code())),
                        response->message());
  }
  if (!s.ok()) return ToClient(tessera::Status(s.code(), address + ": " + s.message()));
  return client::Status::OK();
}

client::Status AskConfigServers(const Context& ctx, IoThread* io, const proto::Request& request,
                                proto::Response* response, OnServerError on_error) {
  std::string errors;
  client::Code last = client::Code::kUnavailable;
  for (const std::string& text : ctx.config_servers) {
    HostPort hp;
    tessera::Status parsed = ParseHostPort(text, &hp);
    if (!parsed.ok()) {
      return client::Status::InvalidArgument("config server \"" + text + "\": " +
                                             parsed.message());
    }
    client::Status s = CallServer(ctx, io, text, request, response);
    if (s.ok()) return s;
    // The transport leaves the response's code OK; a server's answer does not.
    if (on_error == OnServerError::kFinal && response->code() != proto::OK) return s;
    last = s.code();
    if (!errors.empty()) errors += "; ";
    errors += s.message();
  }
  return client::Status(last, errors.empty() ? "no config server given" : errors);
}

}  // namespace tessera::cli
