#include "common/rpc_server.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/address.h"
#include "common/server_connection.h"
#include "common/thread_name.h"
#include "common/thread_policy.h"

namespace tessera {

namespace asio = boost::asio;
using asio::ip::tcp;

// ---- ServerCall ----

ServerCall::ServerCall(std::shared_ptr<ServerConnection> conn) : conn_(std::move(conn)) {}

ServerCall::~ServerCall() {
  if (!replied_ && conn_ != nullptr) {
    ReplyError(Status::Internal("request dropped by the server"), 0);
  }
}

void ServerCall::Reply(proto::Response* response) {
  if (replied_) return;
  replied_ = true;
  response->set_id(request_.id());
  conn_->Send(response);
}

void ServerCall::ReplyError(const Status& status, uint64_t table_version) {
  proto::Response r;
  r.set_code(static_cast<proto::Code>(status.code()));
  r.set_message(status.message());
  r.set_table_version(table_version);
  Reply(&r);
}

const std::string& ServerCall::peer() const { return conn_->peer(); }

// ---- RpcServer ----

// pin_connections: each io thread runs an io_context of its own, and a connection lives
// on one of them (round robin at accept), so its reads, handlers and writes all run on
// that thread. With one io_context shared by every thread, the thread that saw a socket
// become readable often woke another to run the handler, a wake-up per request on a
// small machine. Either way a connection's socket works through a strand of its
// io_context (needed when several threads run that context).
struct RpcServer::Impl {
  Impl(RpcServerOptions o, RpcService* s)
      : options(std::move(o)),
        service(s),
        ios(MakeContexts(options.pin_connections ? std::max(1, options.io_threads) : 1)),
        acceptor(asio::make_strand(*ios[0])),
        accept_retry(acceptor.get_executor()) {}

  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<asio::io_context>());
    return v;
  }

  void Accept() {
    asio::io_context& home = *ios[next_io++ % ios.size()];
    acceptor.async_accept(asio::make_strand(home), [this](const boost::system::error_code& ec,
                                                          tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        // E.g. EMFILE: the pending connection stays in the backlog, so accepting again
        // at once fails again at once (a busy loop flooding the log). Pause first.
        LOG_EVERY_N(WARNING, 100) << "rpc: accept failed: " << ec.message()
                                  << "; retrying in " << kAcceptRetryMs << " ms";
        accept_retry.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
        accept_retry.async_wait([this](const boost::system::error_code& ec) {
          if (!ec && acceptor.is_open()) Accept();
        });
        return;
      }
      OnAccepted(std::move(socket));
      Accept();
    });
  }

  static constexpr uint32_t kAcceptRetryMs = 50;

  void OnAccepted(tcp::socket socket) {
    std::lock_guard<std::mutex> l(mu);
    if (connections.size() >= options.max_connections) {
      LOG(WARNING) << "rpc: connection limit " << options.max_connections
                   << " reached, refusing a connection";
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    auto conn = std::make_shared<ServerConnection>(
        std::move(socket), &options, service, [this](ServerConnection* c) {
          std::lock_guard<std::mutex> l(mu);
          connections.erase(c);
          if (connections.empty()) drained.notify_all();
        });
    connections.emplace(conn.get(), conn);
    conn->Start();
  }

  const RpcServerOptions options;
  RpcService* const service;
  std::vector<std::unique_ptr<asio::io_context>> ios;  // one per io thread, or one shared
  tcp::acceptor acceptor;           // on a strand of ios[0]
  asio::steady_timer accept_retry;  // on the acceptor's strand
  size_t next_io = 0;               // on the acceptor's strand: the next connection's home
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool running = false;

  mutable std::mutex mu;
  std::condition_variable drained;
  std::unordered_map<ServerConnection*, std::weak_ptr<ServerConnection>> connections;
};

RpcServer::RpcServer(RpcServerOptions options, RpcService* service)
    : impl_(std::make_unique<Impl>(std::move(options), service)) {}

RpcServer::~RpcServer() { Stop(); }

Status RpcServer::Start() {
  HostPort hp;
  std::string listen = impl_->options.listen_address;
  // Port 0 is allowed here (any free port); ParseHostPort rejects it, so check apart.
  bool any_port = listen.size() > 2 && listen.ends_with(":0");
  Status s = ParseHostPort(any_port ? listen.substr(0, listen.size() - 2) + ":1" : listen, &hp);
  if (!s.ok()) return s;
  if (any_port) hp.port = 0;
  boost::system::error_code ec;
  asio::ip::address addr = asio::ip::make_address(hp.host, ec);
  if (ec) {
    tcp::resolver resolver(*impl_->ios[0]);
    auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve listen host " + hp.host);
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, hp.port);
  tcp::acceptor& acc = impl_->acceptor;
  if (acc.open(ep.protocol(), ec); ec) return Status::Unavailable("socket: " + ec.message());
  acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acc.bind(ep, ec); ec) {
    acc.close(ec);
    return Status::Unavailable("cannot listen on " + listen + ": " + ec.message());
  }
  if (acc.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acc.close(ec);
    return Status::Unavailable("listen on " + listen + ": " + ec.message());
  }
  impl_->port = acc.local_endpoint(ec).port();
  impl_->running = true;
  impl_->Accept();
  // A context with no connection yet must not return from run().
  for (auto& io : impl_->ios) impl_->keep_running.push_back(asio::make_work_guard(*io));
  const int n = std::max(1, impl_->options.io_threads);
  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([ctx = impl_->ios[i % impl_->ios.size()].get(),
                                 slice_us = impl_->options.io_thread_slice_us] {
      SetCurrentThreadName("rpc-io");
      if (slice_us > 0 && !SetCurrentThreadSlice(slice_us)) {
        LOG_FIRST_N(WARNING, 1) << "rpc: this kernel sets no per-thread time slice "
                                   "(Linux 6.12+); io threads keep the default";
      }
      ctx->run();
    });
  }
  return Status::OK();
}

void RpcServer::Stop() {
  if (!impl_->running) return;
  impl_->running = false;
  asio::post(impl_->acceptor.get_executor(), [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->accept_retry.cancel();
  });
  std::vector<std::shared_ptr<ServerConnection>> live;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    for (auto& [ptr, weak] : impl_->connections) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->Close();
  live.clear();
  // Give the closes a moment to run (each erases itself), then stop the loop.
  {
    std::unique_lock<std::mutex> l(impl_->mu);
    impl_->drained.wait_for(l, std::chrono::seconds(2),
                            [this] { return impl_->connections.empty(); });
  }
  impl_->keep_running.clear();
  for (auto& io : impl_->ios) io->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

uint16_t RpcServer::port() const { return impl_->port; }

size_t RpcServer::connection_count() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->connections.size();
}

}  // namespace tessera
