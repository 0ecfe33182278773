// RpcServer: accepts TCP connections and hands every well-formed Request frame to an
// RpcService; the service answers through the ServerCall, from any thread, at once
// or later. Responses go out in the order they are given (not in request order), so
// clients match them by request id.
//
// Bad input never reaches the service: a zero or oversize frame length, or a payload
// that does not parse as a Request, closes that connection (others are unaffected).
// A connection is closed when a started frame does not complete within
// read_timeout_ms, when it stays silent with nothing in flight for idle_timeout_ms,
// or when its peer does not read its responses (max_pending_write_bytes). Beyond
// max_connections new connections are closed at once. Reading from a connection pauses
// while max_inflight_per_connection of its calls are unanswered (back-pressure).
//
// Thread-safety: Start/Stop from one thread; port() and connection_count() are safe
// from any thread. The service's Handle runs on the io threads (io_threads of them):
// it must not block for long; hand slow work to another thread.
#ifndef TESSERA_COMMON_RPC_SERVER_H_
#define TESSERA_COMMON_RPC_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/frame.h"
#include "common/proto/rpc.pb.h"
#include "common/status.h"

namespace tessera {

class ServerConnection;

struct RpcServerOptions {
  std::string listen_address = "127.0.0.1:0";  // "host:port"; port 0 picks a free port
  int io_threads = 1;
  // true: each io thread runs an io_context of its own and a connection stays on one
  // thread (no hand-over of a handler to another thread: one wake-up less per request),
  // but a Handle that blocks holds up the other connections of its thread. false: the
  // threads share one io_context, and any idle thread serves any connection (for a
  // service whose Handle may block, e.g. in an fsync).
  bool pin_connections = true;
  // The io threads' time slice in microseconds (tessera::SetCurrentThreadSlice): a
  // short one lets a thread woken by a request preempt a busy thread at once. 0 keeps
  // the kernel's default.
  uint32_t io_thread_slice_us = 0;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  uint32_t read_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 600000;
  uint32_t max_connections = 1024;
  uint32_t max_inflight_per_connection = 4096;
  size_t max_pending_write_bytes = 64u << 20;
};

// One request and the means to answer it. Thread-compatible: one owner at a time,
// which may move it to another thread. Destroying it without Reply() answers
// INTERNAL ("request dropped"), so a request is never left without an answer.
class ServerCall {
 public:
  ServerCall(std::shared_ptr<ServerConnection> conn);
  ~ServerCall();
  ServerCall(const ServerCall&) = delete;
  ServerCall& operator=(const ServerCall&) = delete;

  proto::Request& request() { return request_; }
  const proto::Request& request() const { return request_; }

  // Sends `response` (its id is set to the request's). At most once.
  void Reply(proto::Response* response);
  // Replies with an error status and no body.
  void ReplyError(const Status& status, uint64_t table_version);

  // "ip:port" of the peer.
  const std::string& peer() const;

 private:
  std::shared_ptr<ServerConnection> conn_;
  proto::Request request_;
  bool replied_ = false;
};

class RpcService {
 public:
  virtual ~RpcService() = default;
  // Called on an io thread for each request. Must eventually Reply (or drop) `call`.
  virtual void Handle(std::unique_ptr<ServerCall> call) = 0;
};

class RpcServer {
 public:
  // `service` must outlive the server.
  RpcServer(RpcServerOptions options, RpcService* service);
  // Stops if running. REQUIRES: every ServerCall was replied or destroyed already.
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds and starts the io threads. Errors: InvalidArgument (bad address),
  // Unavailable (cannot bind, e.g. port in use).
  Status Start();
  // Closes the listener and every connection, and joins the io threads. Calls the
  // service still holds may Reply afterwards (their answers are dropped).
  void Stop();

  // The bound port (after Start).
  uint16_t port() const;
  size_t connection_count() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_RPC_SERVER_H_
