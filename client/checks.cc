#include "client/checks.h"

#include "common/limits.h"

namespace tessera::client {

Status FromWire(proto::Code code, const std::string& message) {
  switch (code) {
    case proto::OK: return Status::OK();
    case proto::NOT_FOUND: return Status::NotFound(message);
    case proto::VERSION_MISMATCH: return Status::VersionMismatch(message);
    case proto::QUOTA_EXCEEDED: return Status::QuotaExceeded(message);
    case proto::INVALID_ARGUMENT: return Status::InvalidArgument(message);
    case proto::TIMEOUT: return Status::Timeout(message);
    case proto::UNAVAILABLE: return Status::Unavailable(message);
    case proto::WRONG_OWNER: return Status::Unavailable("wrong owner: " + message);
    case proto::STALE_TABLE: return Status::Unavailable("stale table: " + message);
    case proto::PERMISSION_DENIED: return Status::PermissionDenied(message);
    case proto::INTERNAL: return Status::Internal(message);
    default: break;
  }
  return Status::Internal("unknown response code " + std::to_string(static_cast<int>(code)) +
                          (message.empty() ? "" : ": " + message));
}

Status FromCommon(const tessera::Status& s) {
  return FromWire(static_cast<proto::Code>(static_cast<int>(s.code())), s.message());
}

Status CheckKey(std::string_view key) { return FromCommon(tessera::CheckKey(key)); }

Status CheckOptions(const CallOptions& opts) {
  Status s = FromCommon(tessera::CheckArea(opts.area));
  if (!s.ok()) return s;
  if (opts.ttl_seconds != 0 && opts.expire_at != 0) {
    return Status::InvalidArgument("give ttl_seconds or expire_at, not both");
  }
  return Status::OK();
}

Status CheckValue(std::string_view value, size_t max_value_bytes) {
  return FromCommon(tessera::CheckValue(value, max_value_bytes));
}

Status CheckBatch(size_t n) {
  if (n == 0) return Status::InvalidArgument("empty batch");
  return FromCommon(tessera::CheckBatchSize(n));
}

void SetExpiry(const CallOptions& opts, proto::Expiry* expiry) {
  expiry->set_ttl_seconds(opts.ttl_seconds);
  expiry->set_expire_at(opts.expire_at);
}

bool FailedBeforeSend(const tessera::Status& transport) {
  if (!transport.Is(tessera::Code::kUnavailable)) return false;
  const std::string& m = transport.message();
  auto starts = [&](std::string_view p) { return m.compare(0, p.size(), p) == 0; };
  // RpcChannel: "cannot connect to ...", "connect to ... timed out", "cannot resolve ...",
  // "too many calls in flight to ...", "channel to ... is closed".
  if (starts("cannot connect") || starts("connect to ") || starts("cannot resolve") ||
      starts("too many calls")) {
    return true;
  }
  return starts("channel to ") && m.size() >= 10 && m.compare(m.size() - 10, 10, " is closed") == 0;
}

}  // namespace tessera::client
