#include "common/rpc_channel.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/asio.h"

namespace tessera {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class RpcChannel::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context* io, HostPort address, RpcChannelOptions options)
      : address_(std::move(address)),
        address_text_(address_.ToString()),
        options_(options),
        strand_(asio::make_strand(*io)),
        socket_(strand_),
        resolver_(strand_),
        sweep_timer_(strand_),
        connect_timer_(strand_),
        reader_(options.max_frame_bytes) {}

  const std::string& address() const { return address_text_; }

  void Call(proto::Request* request, uint32_t timeout_ms, Callback done) {
    Status fail;
    bool connect = false, write = false, arm = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_) {
        fail = Status::Unavailable("channel to " + address_text_ + " is closed");
      } else if (pending_.size() >= options_.max_pending_calls) {
        fail = Status::Unavailable("too many calls in flight to " + address_text_);
      } else {
        request->set_id(++next_id_);
        if (!AppendFrame(*request, options_.max_frame_bytes, &out_)) {
          fail = Status::InvalidArgument("request exceeds the maximum frame size");
        } else {
          pending_.emplace(next_id_, Pending{Clock::now() + std::chrono::milliseconds(timeout_ms),
                                             std::move(done)});
          if (state_ == State::kIdle) {
            state_ = State::kConnecting;
            connect = true;
          } else if (state_ == State::kConnected && !write_scheduled_) {
            write_scheduled_ = true;
            write = true;
          }
          if (!sweep_armed_) {
            sweep_armed_ = true;
            arm = true;
          }
        }
      }
    }
    if (!fail.ok()) {
      done(fail, nullptr);
      return;
    }
    if (connect || write || arm) {
      asio::post(strand_, [self = shared_from_this(), connect, write, arm] {
        if (connect) self->DoConnect();
        if (write) self->StartWrite();
        if (arm) self->ArmSweep();
      });
    }
  }

  void Close() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_) return;
      closed_ = true;
    }
    asio::post(strand_, [self = shared_from_this()] {
      self->Fail(Status::Unavailable("channel to " + self->address_text_ + " closed"));
      boost::system::error_code ignored;
      self->sweep_timer_.cancel();
    });
  }

 private:
  enum class State { kIdle, kConnecting, kConnected };
  struct Pending {
    Clock::time_point deadline;
    Callback done;
  };

  // ---- everything below runs on strand_ ----

  void DoConnect() {
    const uint64_t gen = generation_;
    connect_timer_.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
    connect_timer_.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
      if (ec || gen != self->generation_) return;
      std::unique_lock<std::mutex> l(self->mu_);
      if (self->state_ != State::kConnecting) return;
      l.unlock();
      self->Fail(Status::Unavailable("connect to " + self->address_text_ + " timed out"));
    });
    boost::system::error_code ec;
    asio::ip::address ip = asio::ip::make_address(address_.host, ec);
    if (!ec) {
      socket_.async_connect(tcp::endpoint(ip, address_.port),
                            [self = shared_from_this(), gen](const boost::system::error_code& ec) {
                              self->OnConnected(ec, gen);
                            });
      return;
    }
    resolver_.async_resolve(
        address_.host, std::to_string(address_.port),
        [self = shared_from_this(), gen](const boost::system::error_code& ec,
                                         tcp::resolver::results_type results) {
          if (gen != self->generation_) return;
          if (ec) {
            self->Fail(Status::Unavailable("cannot resolve " + self->address_.host + ": " +
                                           ec.message()));
            return;
          }
          asio::async_connect(self->socket_, results,
                              [self, gen](const boost::system::error_code& ec, const tcp::endpoint&) {
                                self->OnConnected(ec, gen);
                              });
        });
  }

  void OnConnected(const boost::system::error_code& ec, uint64_t gen) {
    if (gen != generation_) return;
    connect_timer_.cancel();
    if (ec) {
      Fail(Status::Unavailable("cannot connect to " + address_text_ + ": " + ec.message()));
      return;
    }
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    bool write = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      state_ = State::kConnected;
      if (!out_.empty() && !write_scheduled_) {
        write_scheduled_ = true;
        write = true;
      }
    }
    DoRead(gen);
    if (write) StartWrite();
  }

  void StartWrite() {
    // A StartWrite posted by Call before a failure can run after the reconnect, while
    // the new connection's write is in flight: that write owns writing_ (swapping it
    // now would hand its buffer to out_, where new frames overwrite the bytes being
    // sent) and will pick up out_ when it completes.
    if (write_in_flight_) return;
    const uint64_t gen = generation_;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (out_.empty() || state_ != State::kConnected) {
        write_scheduled_ = false;
        return;
      }
      writing_.swap(out_);
      out_.clear();
    }
    write_in_flight_ = true;
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this(), gen](const boost::system::error_code& ec, size_t) {
                        if (gen != self->generation_) return;
                        self->write_in_flight_ = false;
                        if (ec) {
                          self->Fail(Status::Unavailable("connection to " + self->address_text_ +
                                                         " lost: " + ec.message()));
                          return;
                        }
                        self->writing_.clear();
                        self->StartWrite();
                      });
  }

  void DoRead(uint64_t gen) {
    char* data = reader_.WritableData();
    socket_.async_read_some(
        asio::buffer(data, reader_.WritableSize()),
        [self = shared_from_this(), gen](const boost::system::error_code& ec, size_t n) {
          if (gen != self->generation_) return;
          if (ec) {
            self->Fail(Status::Unavailable("connection to " + self->address_text_ + " lost: " +
                                           (ec == asio::error::eof ? std::string("closed by peer")
                                                                   : ec.message())));
            return;
          }
          self->reader_.Commit(n);
          if (self->DeliverFrames()) self->DoRead(gen);
        });
  }

  // Returns false when the stream is unusable (the channel failed).
  bool DeliverFrames() {
    std::string_view payload;
    proto::Response response;
    while (true) {
      FrameReader::Result r = reader_.Next(&payload);
      if (r == FrameReader::Result::kNeedMore) return true;
      if (r == FrameReader::Result::kBadLength ||
          !response.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        Fail(Status::Unavailable("bad response frame from " + address_text_));
        return false;
      }
      Callback done;
      {
        std::lock_guard<std::mutex> l(mu_);
        auto it = pending_.find(response.id());
        if (it == pending_.end()) continue;  // timed out already
        done = std::move(it->second.done);
        pending_.erase(it);
      }
      done(Status::OK(), &response);
    }
  }

  void ArmSweep() {
    sweep_timer_.expires_after(std::chrono::milliseconds(kSweepPeriodMs));
    sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      self->Sweep();
    });
  }

  void Sweep() {
    std::vector<Callback> expired;
    bool rearm;
    {
      std::lock_guard<std::mutex> l(mu_);
      const auto now = Clock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
          expired.push_back(std::move(it->second.done));
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
      rearm = !pending_.empty();
      sweep_armed_ = rearm;
    }
    for (auto& cb : expired) {
      cb(Status::Timeout("no response from " + address_text_ + " in time"), nullptr);
    }
    if (rearm) ArmSweep();
  }

  void Fail(const Status& why) {
    ++generation_;
    boost::system::error_code ignored;
    socket_.close(ignored);
    connect_timer_.cancel();
    resolver_.cancel();
    reader_.Reset();
    writing_.clear();
    write_in_flight_ = false;  // the old write's handler sees a stale generation
    std::unordered_map<uint64_t, Pending> failed;
    {
      std::lock_guard<std::mutex> l(mu_);
      failed.swap(pending_);
      out_.clear();
      state_ = State::kIdle;
      write_scheduled_ = false;
    }
    for (auto& [id, p] : failed) p.done(why, nullptr);
  }

  // Constant after construction.
  const HostPort address_;
  const std::string address_text_;
  const RpcChannelOptions options_;
  asio::strand<asio::io_context::executor_type> strand_;

  // Strand only.
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer connect_timer_;
  FrameReader reader_;
  std::string writing_;
  bool write_in_flight_ = false;  // an async_write of writing_ is pending
  uint64_t generation_ = 0;  // bumped by every failure; stale handlers compare it

  std::mutex mu_;
  // Protected by mu_.
  bool closed_ = false;
  State state_ = State::kIdle;
  bool write_scheduled_ = false;
  bool sweep_armed_ = false;
  uint64_t next_id_ = 0;
  std::string out_;
  std::unordered_map<uint64_t, Pending> pending_;
};

RpcChannel::RpcChannel(asio::io_context* io, HostPort address, RpcChannelOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(address), options)) {}

RpcChannel::~RpcChannel() { impl_->Close(); }

void RpcChannel::Call(proto::Request* request, uint32_t timeout_ms, Callback done) {
  impl_->Call(request, timeout_ms, std::move(done));
}

Status RpcChannel::CallSync(proto::Request* request, uint32_t timeout_ms,
                            proto::Response* response) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
    proto::Response response;
  };
  auto w = std::make_shared<Wait>();
  Call(request, timeout_ms, [w](const Status& s, proto::Response* r) {
    std::lock_guard<std::mutex> l(w->mu);
    w->status = s;
    if (r != nullptr) w->response.Swap(r);
    w->done = true;
    w->cv.notify_one();
  });
  std::unique_lock<std::mutex> l(w->mu);
  // The sweep answers every call; the extra second only guards against an io_context
  // that nobody runs.
  if (!w->cv.wait_for(l, std::chrono::milliseconds(timeout_ms) + std::chrono::seconds(1),
                      [&] { return w->done; })) {
    return Status::Timeout("no response from " + address() + " (io loop not running?)");
  }
  if (w->status.ok()) response->Swap(&w->response);
  return w->status;
}

void RpcChannel::Close() { impl_->Close(); }

const std::string& RpcChannel::address() const { return impl_->address(); }

}  // namespace tessera
