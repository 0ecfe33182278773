#include "common/server_connection.h"

#include <glog/logging.h>

namespace tessera {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ServerConnection::ServerConnection(Socket socket, const RpcServerOptions* options,
                                   RpcService* service,
                                   std::function<void(ServerConnection*)> on_close)
    : options_(options),
      service_(service),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      reader_(options->max_frame_bytes),
      on_close_(std::move(on_close)) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

ServerConnection::~ServerConnection() = default;

void ServerConnection::Start() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    self->last_read_ = Clock::now();
    self->ArmTimer();
    self->DoRead();
  });
}

void ServerConnection::DoRead() {
  if (closed_ || reading_) return;
  if (inflight_.load(std::memory_order_acquire) >= options_->max_inflight_per_connection) {
    read_paused_.store(true, std::memory_order_release);
    // Re-check: a reply may have come in between (it saw read_paused_ false).
    if (inflight_.load(std::memory_order_acquire) >= options_->max_inflight_per_connection) return;
    read_paused_.store(false, std::memory_order_release);
  }
  reading_ = true;
  char* data = reader_.WritableData();
  socket_.async_read_some(asio::buffer(data, reader_.WritableSize()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void ServerConnection::OnRead(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    CloseNow(ec == asio::error::eof ? "peer closed" : "read error");
    return;
  }
  reader_.Commit(n);
  last_read_ = Clock::now();
  DispatchFrames();
  DoRead();
}

void ServerConnection::DispatchFrames() {
  std::string_view payload;
  while (!closed_) {
    FrameReader::Result r = reader_.Next(&payload);
    if (r == FrameReader::Result::kNeedMore) return;
    if (r == FrameReader::Result::kBadLength) {
      LOG(WARNING) << "rpc: " << peer_ << ": bad frame length " << reader_.bad_length()
                   << " (max " << options_->max_frame_bytes << "), closing";
      CloseNow("bad frame length");
      return;
    }
    // Every ServerCall counts as in flight until its reply (Send) uncounts it, the
    // discarded one below included.
    auto call = std::make_unique<ServerCall>(shared_from_this());
    inflight_.fetch_add(1, std::memory_order_acq_rel);
    if (!call->request().ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      LOG(WARNING) << "rpc: " << peer_ << ": unparsable request frame, closing";
      CloseNow("unparsable frame");
      return;  // `call` is destroyed unanswered: its reply goes to a closed socket
    }
    service_->Handle(std::move(call));
  }
}

void ServerConnection::Send(proto::Response* response) {
  bool schedule = false;
  bool overflow = false;
  {
    std::lock_guard<std::mutex> l(out_mu_);
    if (!AppendFrame(*response, options_->max_frame_bytes, &out_pending_)) {
      proto::Response too_big;
      too_big.set_id(response->id());
      too_big.set_code(proto::INTERNAL);
      too_big.set_message("response exceeds the maximum frame size");
      too_big.set_table_version(response->table_version());
      (void)AppendFrame(too_big, options_->max_frame_bytes, &out_pending_);
    }
    overflow = out_pending_.size() > options_->max_pending_write_bytes;
    if (!write_scheduled_) {
      write_scheduled_ = true;
      schedule = true;
    }
  }
  uint32_t before = inflight_.fetch_sub(1, std::memory_order_acq_rel);
  bool resume = before <= options_->max_inflight_per_connection &&
                read_paused_.exchange(false, std::memory_order_acq_rel);
  if (overflow) {
    Close();
    return;
  }
  if (schedule || resume) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), schedule, resume] {
      if (schedule) self->StartWrite();
      if (resume) self->DoRead();
    });
  }
}

void ServerConnection::StartWrite() {
  if (closed_) return;
  {
    std::lock_guard<std::mutex> l(out_mu_);
    if (out_pending_.empty()) {
      write_scheduled_ = false;
      return;
    }
    writing_.swap(out_pending_);
    out_pending_.clear();
  }
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->OnWrite(ec);
                    });
}

void ServerConnection::OnWrite(const boost::system::error_code& ec) {
  if (ec) {
    CloseNow("write error");
    return;
  }
  writing_.clear();
  StartWrite();
}

void ServerConnection::ArmTimer() {
  uint32_t period_ms = std::min(options_->read_timeout_ms, options_->idle_timeout_ms) / 4;
  period_ms = std::clamp<uint32_t>(period_ms, 5, 1000);
  timer_.expires_after(std::chrono::milliseconds(period_ms));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->OnTimer(ec);
  });
}

void ServerConnection::OnTimer(const boost::system::error_code& ec) {
  if (ec || closed_) return;
  auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_read_);
  if (reader_.InPartialFrame() && silent.count() >= options_->read_timeout_ms) {
    LOG(WARNING) << "rpc: " << peer_ << ": incomplete frame for " << silent.count()
                 << " ms, closing";
    CloseNow("read timeout");
    return;
  }
  if (!reader_.InPartialFrame() && inflight_.load() == 0 &&
      silent.count() >= options_->idle_timeout_ms) {
    VLOG(1) << "rpc: " << peer_ << ": idle, closing";
    CloseNow("idle timeout");
    return;
  }
  ArmTimer();
}

void ServerConnection::Close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->CloseNow("closed"); });
}

void ServerConnection::CloseNow(const char* why) {
  if (closed_) return;
  closed_ = true;
  VLOG(1) << "rpc: " << peer_ << ": connection closed (" << why << ")";
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  timer_.cancel();
  if (on_close_) {
    auto cb = std::move(on_close_);
    cb(this);
  }
}

}  // namespace tessera
