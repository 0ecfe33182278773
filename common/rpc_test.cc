// RpcServer + RpcChannel: round trips, pipelining, bad input, timeouts, reconnects.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/asio.h"
#include "common/io_thread.h"
#include "common/rpc_channel.h"
#include "common/rpc_server.h"

namespace tessera {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// get(key) answers value = key at once on the io thread. put(key, value) is answered
// from a worker thread, in reverse order of arrival per batch of `reverse_batch`.
// A get of key "hold" is kept and never answered while the test runs; "drop" is
// destroyed without an answer.
class TestService : public RpcService {
 public:
  ~TestService() override { StopWorker(); }

  void Handle(std::unique_ptr<ServerCall> call) override {
    const proto::Request& req = call->request();
    if (req.has_get()) {
      if (req.get().key() == "hold") {
        std::lock_guard<std::mutex> l(mu_);
        held_.push_back(std::move(call));
        return;
      }
      if (req.get().key() == "drop") return;
      proto::Response r;
      r.set_table_version(7);
      r.mutable_get()->set_value(req.get().key());
      call->Reply(&r);
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(call));
    cv_.notify_one();
  }

  void StartWorker(size_t reverse_batch) {
    worker_ = std::thread([this, reverse_batch] {
      std::unique_lock<std::mutex> l(mu_);
      while (true) {
        cv_.wait(l, [&] { return stop_ || queue_.size() >= reverse_batch; });
        if (stop_) return;
        std::vector<std::unique_ptr<ServerCall>> batch;
        for (size_t i = 0; i < reverse_batch; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        l.unlock();
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          proto::Response r;
          r.mutable_put()->set_version((*it)->request().put().version() + 1);
          (*it)->Reply(&r);
        }
        l.lock();
      }
    });
  }

  void StopWorker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (worker_.joinable()) worker_.join();
    std::lock_guard<std::mutex> l(mu_);
    queue_.clear();
    held_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<ServerCall>> queue_;
  std::vector<std::unique_ptr<ServerCall>> held_;
  bool stop_ = false;
  std::thread worker_;
};

class RpcTest : public ::testing::Test {
 protected:
  void StartServer(RpcServerOptions options = {}) {
    options.listen_address = "127.0.0.1:" + std::to_string(port_);
    server_ = std::make_unique<RpcServer>(options, &service_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
  }
  void TearDown() override {
    channel_.reset();
    if (server_) server_->Stop();
    service_.StopWorker();
    server_.reset();
  }
  RpcChannel* Channel() {
    if (!channel_) channel_ = std::make_unique<RpcChannel>(io_.io(), HostPort{"127.0.0.1", port_});
    return channel_.get();
  }
  Status Get(RpcChannel* ch, const std::string& key, proto::Response* resp,
             uint32_t timeout_ms = 2000) {
    proto::Request req;
    req.mutable_get()->set_key(key);
    return ch->CallSync(&req, timeout_ms, resp);
  }
  // A raw socket connected to the server.
  tcp::socket RawConnect() {
    tcp::socket s(raw_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    return s;
  }
  // True when the server closed `s` (read gives EOF or reset) within the deadline.
  static bool ClosedByServer(tcp::socket& s) {
    char buf[16];
    boost::system::error_code ec;
    s.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  TestService service_;
  std::unique_ptr<RpcServer> server_;
  uint16_t port_ = 0;
  IoThread io_;
  asio::io_context raw_io_;
  std::unique_ptr<RpcChannel> channel_;
};

TEST_F(RpcTest, RoundTrip) {
  StartServer();
  proto::Response resp;
  Status s = Get(Channel(), "hello", &resp);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.code(), proto::OK);
  EXPECT_EQ(resp.get().value(), "hello");
  EXPECT_EQ(resp.table_version(), 7u);
}

TEST_F(RpcTest, PipelinedOutOfOrderResponsesMatchTheirRequests) {
  service_.StartWorker(/*reverse_batch=*/10);
  StartServer();
  constexpr int kCalls = 2000;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, bad = 0;
  for (int i = 0; i < kCalls; ++i) {
    proto::Request req;
    req.mutable_put()->set_key("k");
    req.mutable_put()->set_version(i);
    Channel()->Call(&req, 10000, [&, i](const Status& s, proto::Response* r) {
      std::lock_guard<std::mutex> l(mu);
      if (!s.ok() || r->put().version() != static_cast<uint32_t>(i) + 1) ++bad;
      ++done;
      cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return done == kCalls; }));
  EXPECT_EQ(bad, 0);
}

TEST_F(RpcTest, UnansweredCallTimesOut) {
  StartServer();
  proto::Response resp;
  auto start = std::chrono::steady_clock::now();
  Status s = Get(Channel(), "hold", &resp, /*timeout_ms=*/100);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(s.Is(Code::kTimeout)) << s.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(100));
  // The channel still works.
  ASSERT_TRUE(Get(Channel(), "after", &resp).ok());
  EXPECT_EQ(resp.get().value(), "after");
}

TEST_F(RpcTest, DroppedCallIsAnsweredInternal) {
  StartServer();
  proto::Response resp;
  ASSERT_TRUE(Get(Channel(), "drop", &resp).ok());
  EXPECT_EQ(resp.code(), proto::INTERNAL);
}

TEST_F(RpcTest, OversizeRequestIsRefusedByTheClient) {
  StartServer();
  RpcChannelOptions options;
  options.max_frame_bytes = 1024;
  RpcChannel ch(io_.io(), HostPort{"127.0.0.1", port_}, options);
  proto::Request req;
  req.mutable_put()->set_value(std::string(2000, 'x'));
  proto::Response resp;
  EXPECT_TRUE(ch.CallSync(&req, 1000, &resp).Is(Code::kInvalidArgument));
}

TEST_F(RpcTest, BadFramesCloseOnlyThatConnection) {
  RpcServerOptions options;
  options.max_frame_bytes = 1 << 20;
  options.read_timeout_ms = 200;
  StartServer(options);
  proto::Response resp;
  ASSERT_TRUE(Get(Channel(), "before", &resp).ok());

  {  // an oversize length
    tcp::socket s = RawConnect();
    const unsigned char frame[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    asio::write(s, asio::buffer(frame, sizeof(frame)));
    EXPECT_TRUE(ClosedByServer(s));
  }
  {  // a zero length
    tcp::socket s = RawConnect();
    const unsigned char frame[] = {0, 0, 0, 0};
    asio::write(s, asio::buffer(frame, sizeof(frame)));
    EXPECT_TRUE(ClosedByServer(s));
  }
  {  // a well-framed payload that is not a Request
    tcp::socket s = RawConnect();
    const unsigned char frame[] = {0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff};
    asio::write(s, asio::buffer(frame, sizeof(frame)));
    EXPECT_TRUE(ClosedByServer(s));
  }
  {  // a truncated frame, then silence: closed after read_timeout_ms
    tcp::socket s = RawConnect();
    const unsigned char frame[] = {0, 0, 0, 100, 1, 2};
    asio::write(s, asio::buffer(frame, sizeof(frame)));
    EXPECT_TRUE(ClosedByServer(s));
  }
  // The well-behaved channel was never disturbed.
  ASSERT_TRUE(Get(Channel(), "after", &resp).ok());
  EXPECT_EQ(resp.get().value(), "after");
}

TEST_F(RpcTest, ConnectionLimit) {
  RpcServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  proto::Response resp;
  ASSERT_TRUE(Get(Channel(), "one", &resp).ok());
  tcp::socket second = RawConnect();
  // Wait until the server counts both (accept is asynchronous).
  for (int i = 0; i < 2000 && server_->connection_count() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(server_->connection_count(), 2u);
  tcp::socket third = RawConnect();
  EXPECT_TRUE(ClosedByServer(third));
  ASSERT_TRUE(Get(Channel(), "still", &resp).ok());
}

// Regression: when accept failed (EMFILE: no file descriptor left) the server retried
// at once, forever: the pending connection stays in the backlog, so every retry failed
// at once too, a busy loop burning a core and flooding the log until a descriptor was
// freed. Now it pauses between tries, and accepts the connection once it can.
TEST_F(RpcTest, AcceptFailureDoesNotSpinAndRecovers) {
  StartServer();
  tcp::socket client(raw_io_);
  client.open(tcp::v4());  // before the descriptors run out
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = std::min<rlim_t>(old.rlim_cur, 512);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> hogs;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) hogs.push_back(fd);
  auto release = [&] {
    for (int fd : hogs) ::close(fd);
    hogs.clear();
    setrlimit(RLIMIT_NOFILE, &old);
  };
  boost::system::error_code ec;
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  if (ec) release();
  ASSERT_FALSE(ec) << ec.message();  // the kernel completes the handshake

  auto cpu_ms = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000.0 +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000.0;
  };
  const double cpu_before = cpu_ms();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // measuring, not waiting
  const double cpu_used = cpu_ms() - cpu_before;
  const size_t count_while_starved = server_->connection_count();
  release();
  EXPECT_LT(cpu_used, 100.0) << "the accept loop spins while descriptors are exhausted";
  EXPECT_EQ(count_while_starved, 0u);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_->connection_count() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(server_->connection_count(), 1u);
  proto::Response resp;
  ASSERT_TRUE(Get(Channel(), "later", &resp).ok());
  EXPECT_EQ(resp.get().value(), "later");
}

TEST_F(RpcTest, ServerDownIsUnavailableAndTheChannelReconnects) {
  StartServer();
  proto::Response resp;
  ASSERT_TRUE(Get(Channel(), "a", &resp).ok());
  server_->Stop();
  server_.reset();
  Status s = Get(Channel(), "b", &resp);
  EXPECT_TRUE(s.Is(Code::kUnavailable)) << s.ToString();
  StartServer();  // same port
  s = Get(Channel(), "c", &resp);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.get().value(), "c");
}

TEST_F(RpcTest, ClosedChannelFailsCalls) {
  StartServer();
  Channel()->Close();
  proto::Response resp;
  EXPECT_TRUE(Get(Channel(), "x", &resp).Is(Code::kUnavailable));
}

}  // namespace
}  // namespace tessera
