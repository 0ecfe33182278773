// ServerConnection: one accepted TCP connection of an RpcServer (internal to common/).
//
// Reads frames, parses Requests and passes them to the service as ServerCalls; sends
// the responses the calls give back. All socket work runs on the connection's strand:
// the socket's executor, an io_context that one io thread runs (RpcServer); Send() and
// Close() are thread-safe. Lifetime: shared_ptr, kept alive by its pending
// async operations and by outstanding ServerCalls.
#ifndef TESSERA_COMMON_SERVER_CONNECTION_H_
#define TESSERA_COMMON_SERVER_CONNECTION_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/asio.h"
#include "common/frame.h"
#include "common/rpc_server.h"

namespace tessera {

class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  // `options` and `service` must outlive the connection's io activity (the server
  // stops its io threads before they go away). `on_close` runs once, on the strand.
  ServerConnection(Socket socket, const RpcServerOptions* options, RpcService* service,
                   std::function<void(ServerConnection*)> on_close);
  ~ServerConnection();

  void Start();
  // Queues `response` (serialized now). Thread-safe.
  void Send(proto::Response* response);
  // Closes the socket (posted to the strand). Thread-safe.
  void Close();

  const std::string& peer() const { return peer_; }

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void DispatchFrames();
  void StartWrite();
  void OnWrite(const boost::system::error_code& ec);
  void ArmTimer();
  void OnTimer(const boost::system::error_code& ec);
  void CloseNow(const char* why);

  // Constant after construction.
  const RpcServerOptions* const options_;
  RpcService* const service_;
  std::string peer_;

  // Touched only on the strand.
  Socket socket_;
  boost::asio::steady_timer timer_;
  FrameReader reader_;
  std::chrono::steady_clock::time_point last_read_;
  bool reading_ = false;
  bool closed_ = false;
  std::string writing_;  // the buffer of the write in flight
  std::function<void(ServerConnection*)> on_close_;

  // Calls handed to the service and not yet answered.
  std::atomic<uint32_t> inflight_{0};
  std::atomic<bool> read_paused_{false};

  std::mutex out_mu_;
  std::string out_pending_;      // GUARDED_BY(out_mu_): frames not yet handed to a write
  bool write_scheduled_ = false; // GUARDED_BY(out_mu_): a StartWrite is posted or running
};

}  // namespace tessera

#endif  // TESSERA_COMMON_SERVER_CONNECTION_H_
