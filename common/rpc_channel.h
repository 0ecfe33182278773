// RpcChannel: a client's pipelined connection to one server.
//
// Call() serializes the request at once, gives it a fresh id, and queues it; the
// callback runs exactly once: with the response, or with Timeout (no response within
// timeout_ms), Unavailable (cannot connect, connection lost, channel closed, too many
// calls in flight) or InvalidArgument (the request exceeds the frame limit). The
// connection is opened lazily and re-opened by the next call after a failure; calls in
// flight when a connection fails are answered Unavailable, never silently re-sent (a
// write may or may not have been applied: the caller decides whether to retry).
//
// Thread-safety: thread-safe. Callbacks run on the channel's io_context thread: they
// must not block, and must not call CallSync. Timeouts are checked every
// kSweepPeriodMs, so they fire up to that much late.
#ifndef TESSERA_COMMON_RPC_CHANNEL_H_
#define TESSERA_COMMON_RPC_CHANNEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/address.h"
#include "common/frame.h"
#include "common/proto/rpc.pb.h"
#include "common/status.h"

namespace boost::asio {
class io_context;
}

namespace tessera {

struct RpcChannelOptions {
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  uint32_t connect_timeout_ms = 1000;
  size_t max_pending_calls = 1u << 16;
};

class RpcChannel {
 public:
  static constexpr uint32_t kSweepPeriodMs = 5;

  // `transport` is OK when a response arrived; `response` is then non-null and the
  // callback may take its contents (e.g. Swap). The server's verdict is response->code.
  using Callback = std::function<void(const Status& transport, proto::Response* response)>;

  // `io` must outlive the channel and be run by some thread.
  RpcChannel(boost::asio::io_context* io, HostPort address, RpcChannelOptions options = {});
  // Closes: calls in flight are answered Unavailable.
  ~RpcChannel();
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  void Call(proto::Request* request, uint32_t timeout_ms, Callback done);

  // Blocking form. REQUIRES: not called on the io_context's thread. Returns the
  // transport status; on OK *response holds the server's answer.
  Status CallSync(proto::Request* request, uint32_t timeout_ms, proto::Response* response);

  // Fails every call in flight with Unavailable; later calls fail at once.
  void Close();

  const std::string& address() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_RPC_CHANNEL_H_
