// Robustness of a real in-process DataServer against malformed and hostile
// input. Fixed seeds: every run sends the same requests and bytes.
//
// 1. Canary keys are written (areas 0 and 65535, one with a TTL) and read back.
// 2. Thousands of structurally valid but hostile Requests of every body type,
//    from two connections at once, with edge-case fields (areas, keys, values,
//    versions, expiries, batch sizes, table versions, migration batches planned
//    and not, cleanup runs, config server bodies), each get a well-formed
//    answer: a defined code, on OK the request's body (one defined result per
//    key in batches), and INVALID_ARGUMENT whenever a limit the handler
//    validates is broken.
// 3. Raw connections carrying garbage (random bytes, random or mutated Request
//    payloads behind valid lengths, zero and oversize lengths, truncated,
//    trickled, maximal and deeply nested frames) are answered with well-formed
//    frames and/or closed by the server.
// 4. Afterwards the server answers on an old and a fresh channel, and every
//    canary reads back exactly as written. The random keys all start with "fz"
//    (or are empty), never with kCanaryPrefix, so a changed canary is a request
//    applied where it must not have been.
//
// The table (from a fake config server) has 16 buckets: 0..7 mastered here,
// 8..15 mastered by an absent server and migrating here, so planned migration
// batches into 8..15 are applied and client keys there are refused
// (WRONG_OWNER). Runs with writes inline on the io threads and on the pool.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/bucket_hash.h"
#include "common/io_thread.h"
#include "common/limits.h"
#include "common/rpc_channel.h"
#include "common/rpc_server.h"
#include "dataserver/data_server.h"
#include "migration/entry_batch.h"

namespace tessera::ds {
namespace {

constexpr uint32_t kBuckets = 16;  // 0..7 ours, 8..15 migrating to us
constexpr uint64_t kTableVersion = 3;
constexpr uint64_t kMigrationId = 7;
// The master of buckets 8..15 (nothing listens there).
constexpr char kOther[] = "127.0.0.1:1";
// DataServerOptions::max_value_bytes here: small, so that values at and over
// the limit and full batches of them stay cheap.
constexpr size_t kMaxValueBytes = 4096;
constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr char kCanaryPrefix[] = "canary/";

// Answers heartbeats with the table described in the file comment.
class FakeConfigServer : public RpcService {
 public:
  void Handle(std::unique_ptr<ServerCall> call) override {
    if (!call->request().has_heartbeat()) {
      call->ReplyError(Status::InvalidArgument("heartbeats only"), 0);
      return;
    }
    const proto::HeartbeatRequest& hb = call->request().heartbeat();
    proto::Response resp;
    resp.set_table_version(kTableVersion);
    resp.mutable_heartbeat();
    if (hb.table_version() < kTableVersion) {
      proto::Table* t = resp.mutable_heartbeat()->mutable_table();
      t->set_version(kTableVersion);
      t->set_bucket_count(kBuckets);
      t->set_copy_count(1);
      t->set_migration_id(kMigrationId);
      for (const std::string& address : {hb.address(), std::string(kOther)}) {
        proto::TableServer* s = t->add_servers();
        s->set_address(address);
        s->set_state(proto::SERVER_UP);
      }
      for (uint32_t b = 0; b < kBuckets; ++b) {
        t->add_owners(b < kBuckets / 2 ? 0 : 1);
        t->add_destination_owners(0);
      }
    }
    call->Reply(&resp);
  }
};

// Random requests. Half are "edgy": every field drawn from edge cases, limits
// broken included; the others are valid but for routing and stored state, so
// that writes land and later requests meet them. Every key it makes is empty or
// starts with "fz". Thread-compatible.
class HostileRequests {
 public:
  HostileRequests(uint64_t seed, std::string self)
      : rng_(seed), self_(std::move(self)) {
    now_ = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
  }

  // Fills *req (cleared first). *must_refuse: a limit RequestHandler validates
  // is broken, so the answer must be INVALID_ARGUMENT.
  void Next(proto::Request* req, bool* must_refuse) {
    req->Clear();
    *must_refuse = false;
    edgy_ = OneIn(2);
    req->set_table_version(Pick<uint64_t>({0, kTableVersion - 1, kTableVersion,
                                           kTableVersion + 1, ~uint64_t{0}}));
    bool* bad = must_refuse;
    switch (rng_() % 12) {
      case 0: {
        proto::PutRequest* p = Target(req->mutable_put(), bad);
        p->set_value(Value(bad));
        p->set_version(Version());
        SetExpiry(p->mutable_expiry());
        break;
      }
      case 1:
        Target(req->mutable_get(), bad);
        break;
      case 2:
        Target(req->mutable_remove(), bad)->set_version(Version());
        break;
      case 3: {
        proto::IncrRequest* m = Target(req->mutable_incr(), bad);
        m->set_delta(Counter());
        m->set_initial_value(Counter());
        m->set_version(Version());
        SetExpiry(m->mutable_expiry());
        break;
      }
      case 4:
        SetExpiry(Target(req->mutable_expire(), bad)->mutable_expiry());
        break;
      case 5:
      case 6:
        if (OneIn(2)) {
          MakeMGet(req->mutable_mget(), bad);
        } else {
          MakeMPut(req->mutable_mput(), bad);
        }
        break;
      case 7:
        MakeMigrateBatch(req->mutable_migrate_batch(), /*packed=*/false, bad);
        break;
      case 8:
        MakeMigrateBatch(req->mutable_migrate_packed(), /*packed=*/true, bad);
        break;
      case 9:
        MakeCleanup(req->mutable_cleanup(), bad);
        break;
      case 10:
        MakeForeign(req);
        *bad = true;  // not a data server request
        break;
      default:
        *bad = true;  // no body
        break;
    }
  }

 private:
  template <typename T>
  T Pick(std::initializer_list<T> choices) {
    return choices.begin()[rng_() % choices.size()];
  }
  bool OneIn(uint32_t n) { return rng_() % n == 0; }

  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng_());
    return out;
  }
  uint32_t Area(bool* bad) {
    if (!edgy_) return Pick<uint32_t>({0, 1, 65535});
    const uint32_t area = Pick<uint32_t>({0, 65535, 65536, kU32Max});
    if (area > kMaxAreaId) *bad = true;
    return area;
  }
  // Sets the area and key of a single-key body; returns it.
  template <typename Body>
  Body* Target(Body* body, bool* bad) {
    body->set_area(Area(bad));
    body->set_key(Key(bad));
    return body;
  }
  // A valid key: mostly from a small pool, so writes meet earlier writes.
  std::string GoodKey() {
    switch (rng_() % 4) {
      case 0:
        return "fz" + std::string(kMaxKeyBytes - 2, 'k');
      case 1:
        return std::string("fz\0nul\0", 7) + std::to_string(rng_() % 8);
      case 2:
        return "fz" + Bytes(1 + rng_() % 16);
      default:
        return "fz" + std::to_string(rng_() % 32);
    }
  }
  std::string Key(bool* bad) {
    if (!edgy_ || OneIn(2)) return GoodKey();
    *bad = true;
    return OneIn(2) ? "" : "fz" + std::string(kMaxKeyBytes - 1, 'k');
  }
  std::string GoodValue() {
    return Pick<std::string>({"", "7", "-9223372036854775808", "not a number",
                              std::string(kMaxValueBytes, 'v'),
                              std::string("v\0v", 3), Bytes(rng_() % 64)});
  }
  std::string Value(bool* bad) {
    if (!edgy_ || OneIn(2)) return GoodValue();
    *bad = true;
    return std::string(kMaxValueBytes + 1, 'v');
  }
  uint32_t Version() {
    return edgy_ ? Pick<uint32_t>({0, 1, 2, kU32Max})
                 : Pick<uint32_t>({0, 0, 0, 1});
  }
  int64_t Counter() {
    return Pick<int64_t>({0, 1, -1, std::numeric_limits<int64_t>::max(),
                          std::numeric_limits<int64_t>::min()});
  }
  uint32_t Time() {
    return Pick<uint32_t>({0, 1, now_ - 60, now_ + 3600, kU32Max});
  }
  void SetExpiry(proto::Expiry* e) {
    switch (rng_() % (edgy_ ? 4 : 2)) {
      case 0:
        e->set_ttl_seconds(edgy_ ? Pick<uint32_t>({1, 3600, kU32Max}) : 3600);
        break;
      case 1:
        e->set_expire_at(edgy_ ? Time() : 0);
        break;
      case 2:
        e->set_ttl_seconds(Pick<uint32_t>({1, kU32Max}));
        e->set_expire_at(Time());
        break;
      default:
        break;  // never expires
    }
  }
  // Edgy: 0, 1, the limit, or one above it.
  size_t BatchSize(bool* bad) {
    if (!edgy_) return Pick<size_t>({1, 16, kMaxBatchKeys});
    const size_t n = Pick<size_t>({0, 1, kMaxBatchKeys, kMaxBatchKeys + 1});
    if (n > kMaxBatchKeys) *bad = true;
    return n;
  }
  // The one entry of a batch of n whose key and value may break limits (in a
  // third of the batches), or n.
  size_t EdgeEntry(size_t n) { return n > 0 && OneIn(3) ? rng_() % n : n; }

  void MakeMGet(proto::MGetRequest* m, bool* bad) {
    m->set_area(Area(bad));
    const size_t n = BatchSize(bad);
    const size_t edge = EdgeEntry(n);
    for (size_t i = 0; i < n; ++i) {
      *m->add_keys() = i == edge ? Key(bad) : GoodKey();
    }
  }
  void MakeMPut(proto::MPutRequest* m, bool* bad) {
    m->set_area(Area(bad));
    const size_t n = BatchSize(bad);
    const size_t edge = EdgeEntry(n);
    for (size_t i = 0; i < n; ++i) {
      proto::PutRequest* p = m->add_entries();
      p->set_area(OneIn(2) ? 0 : kU32Max);  // ignored
      p->set_version(Version());
      SetExpiry(p->mutable_expiry());
      p->set_key(i == edge ? Key(bad) : GoodKey());
      p->set_value(i == edge ? Value(bad) : OneIn(64) ? GoodValue() : "v");
    }
  }
  // Half are planned (migration kMigrationId from kOther into a bucket 8..15,
  // keys of that bucket: applied unless an entry breaks a limit), half anything
  // at all. `packed`: the entries go into packed_entries (a migrate_packed),
  // sometimes followed by a broken entry, sometimes also as messages; both are
  // refused.
  void MakeMigrateBatch(proto::MigrateBatchRequest* m, bool packed, bool* bad) {
    const bool planned = OneIn(2);
    m->set_migration_id(planned ? kMigrationId
                                : Pick<uint64_t>({0, 1, kMigrationId, ~0ull}));
    m->set_bucket(planned ? kBuckets / 2 + rng_() % (kBuckets / 2)
                          : Pick<uint32_t>({0, 7, 15, 16, (1u << 24) - 1,
                                            1u << 24, kU32Max}));
    m->set_source(planned ? kOther
                          : Pick<std::string>({"", self_, kOther, "fz:0"}));
    m->set_first(OneIn(8));
    m->set_fresh_keys(OneIn(2));
    const size_t n = Pick<size_t>({0, 1, 3, 64});
    for (size_t i = 0; i < n; ++i) {
      proto::MigratedEntry* e = m->add_entries();
      std::string key = GoodKey();
      while (planned && BucketOf(key, kBuckets) != m->bucket()) key = GoodKey();
      e->set_area(Area(bad));
      e->set_key(planned && !edgy_ ? key : Key(bad));
      e->set_value(Value(bad));
      e->set_version(Version());
      e->set_expire_at(Time());
      e->set_created(Time());
      e->set_modified(Time());
      e->set_removed(OneIn(4));
    }
    if (!packed) return;
    migration::EntryBatch batch;
    std::vector<migration::MigratedEntryView> views;
    migration::ViewEntries(m->entries(), &views);
    for (const migration::MigratedEntryView& e : views) batch.Add(e);
    batch.TakePacked(m->mutable_packed_entries());
    if (OneIn(8)) {
      // An entry with an unknown flag bit, or one cut short after its flags.
      m->mutable_packed_entries()->push_back(OneIn(2) ? '\x80' : '\x00');
      *bad = true;
    }
    if (!OneIn(16) || m->entries().empty()) {
      m->clear_entries();
    } else {
      *bad = true;  // both forms at once
    }
  }
  void MakeCleanup(proto::CleanupRequest* c, bool* bad) {
    switch (rng_() % 5) {
      case 0:
        c->set_status(true);
        break;
      case 1:
        c->set_pause(OneIn(2));
        break;
      case 2:
        c->set_resume(OneIn(2));
        break;
      case 3: {
        // 65536 buckets is the limit. The big runs name out-of-range buckets
        // (and are refused) nearly surely, so they stay cheap.
        const size_t n = Pick<size_t>({0, 1, 3, 65536, 65537});
        if (n > 65536) *bad = true;
        proto::CleanupRun* run = c->mutable_run();
        for (size_t i = 0; i < n; ++i) {
          run->add_buckets(OneIn(2) ? rng_() % kBuckets
                                    : Pick<uint32_t>({16, (1u << 24) - 1,
                                                      1u << 24, kU32Max}));
        }
        break;
      }
      default:
        *bad = true;  // no op
        break;
    }
  }
  // A config server body.
  void MakeForeign(proto::Request* req) {
    switch (rng_() % 6) {
      case 0:
        req->mutable_get_table()->set_known_version(rng_());
        break;
      case 1:
        req->mutable_heartbeat()->set_address(self_);
        req->mutable_heartbeat()->set_table_version(~0ull);
        break;
      case 2:
        req->mutable_list_nodes();
        break;
      case 3:
        req->mutable_admin()->set_add_node("127.0.0.1:2");
        break;
      case 4:
        req->mutable_bucket_done()->set_bucket(rng_() % kBuckets);
        break;
      default:
        req->mutable_migration_status();
        break;
    }
  }

  std::mt19937_64 rng_;
  const std::string self_;
  uint32_t now_ = 0;
  bool edgy_ = false;  // of the request being made
};

// A blocking TCP connection to the server. Reads give up after 30 s: a guard
// against hanging the test, well above the server's 10 s read timeout, not a
// timing check.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval guard{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
    const int one = 1;  // small sends go out at once, as small segments
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  // Sends what the server takes; it may close before taking it all.
  void Send(const std::string& bytes) {
    for (size_t off = 0; off < bytes.size();) {
      const ssize_t n =
          ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // We send nothing more (the server reads end of stream).
  void CloseWrite() { ::shutdown(fd_, SHUT_WR); }
  // Reads until the server closes (end of stream or reset): true. False when it
  // did neither within the guard.
  bool ReadUntilClosed(std::string* received) {
    char buf[16384];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        received->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno == ECONNRESET) {
        return true;
      } else if (errno != EINTR) {
        return false;
      }
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string Frame(uint32_t length, const std::string& payload) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(length >> shift));
  }
  return out + payload;
}
std::string Frame(const std::string& payload) {
  return Frame(static_cast<uint32_t>(payload.size()), payload);
}

// What a server sends is whole Response frames, each with a defined code.
void ExpectResponseFrames(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ASSERT_GE(bytes.size() - off, kFrameHeaderBytes) << "partial frame header";
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + off);
    const size_t len = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) |
                       (size_t{p[2]} << 8) | p[3];
    ASSERT_LE(off + kFrameHeaderBytes + len, bytes.size()) << "partial frame";
    proto::Response r;
    ASSERT_TRUE(r.ParseFromArray(p + kFrameHeaderBytes, static_cast<int>(len)));
    EXPECT_TRUE(proto::Code_IsValid(r.code())) << r.code();
    off += kFrameHeaderBytes + len;
  }
}

// A well-formed answer to `req` (see the file comment).
void ExpectWellFormed(const proto::Request& req, bool must_refuse,
                      const proto::Response& r) {
  ASSERT_TRUE(proto::Code_IsValid(r.code())) << r.code();
  EXPECT_EQ(r.table_version(), kTableVersion);
  if (must_refuse) {
    EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT)
        << req.ShortDebugString().substr(0, 300);
  }
  if (r.code() != proto::OK) return;
  // Request and Response number their bodies alike.
  ASSERT_EQ(static_cast<int>(r.body_case()), static_cast<int>(req.body_case()));
  const google::protobuf::RepeatedPtrField<proto::KeyResult>* results = nullptr;
  int keys = 0;
  if (req.has_mget()) {
    results = &r.mget().results();
    keys = req.mget().keys_size();
  } else if (req.has_mput()) {
    results = &r.mput().results();
    keys = req.mput().entries_size();
  }
  if (results == nullptr) return;
  EXPECT_EQ(results->size(), keys);
  for (const proto::KeyResult& k : *results) {
    EXPECT_TRUE(proto::Code_IsValid(k.code())) << k.code();
  }
}

// Param: DataServerOptions::inline_writes (writes on the io threads, or on the
// write pool, where one connection's writes run concurrently).
class RequestFuzzTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() /
           ("ds_fuzz_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir_);
    cs_server_ = std::make_unique<RpcServer>(RpcServerOptions{}, &cs_);
    ASSERT_TRUE(cs_server_->Start().ok());
    DataServerOptions o;
    o.listen = "127.0.0.1:0";
    o.config_servers = {HostPort{"127.0.0.1", cs_server_->port()}};
    o.data_dir = dir_.string();
    o.heartbeat_interval_ms = 200;
    o.write_buffer_bytes = 4 << 20;
    o.max_value_bytes = kMaxValueBytes;
    o.inline_writes = GetParam();
    ds_ = std::make_unique<DataServer>(o);
    Status s = ds_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ds_->table_version() != kTableVersion) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "no table from the config server";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  void TearDown() override {
    ds_.reset();  // stops it
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<RpcChannel> NewChannel() {
    return std::make_unique<RpcChannel>(io_.io(),
                                        HostPort{"127.0.0.1", ds_->port()});
  }
  static proto::Response Call(RpcChannel* channel, proto::Request req) {
    proto::Response resp;
    Status s = channel->CallSync(&req, 10000, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  static proto::Response Get(RpcChannel* channel, uint32_t area,
                             const std::string& key) {
    proto::Request req;
    req.mutable_get()->set_area(area);
    req.mutable_get()->set_key(key);
    return Call(channel, req);
  }

  // Sends `reqs` pipelined on `channel` and returns the answers in request
  // order; every call must get one (transport OK).
  static std::vector<proto::Response> CallAll(
      RpcChannel* channel, std::vector<proto::Request>* reqs) {
    struct Wait {
      std::mutex mu;
      std::condition_variable cv;
      size_t left = 0;
      std::vector<proto::Response> responses;
    } w;
    w.left = reqs->size();
    w.responses.resize(reqs->size());
    for (size_t i = 0; i < reqs->size(); ++i) {
      channel->Call(
          &(*reqs)[i], 10000, [&w, i](const Status& s, proto::Response* r) {
            EXPECT_TRUE(s.ok()) << "request " << i << ": " << s.ToString();
            std::lock_guard<std::mutex> l(w.mu);
            if (r != nullptr) w.responses[i].Swap(r);
            if (--w.left == 0) w.cv.notify_all();
          });
    }
    // Every call is answered or times out.
    std::unique_lock<std::mutex> l(w.mu);
    w.cv.wait(l, [&] { return w.left == 0; });
    return std::move(w.responses);
  }

  // Part 2 on one channel: `rounds` windows of 64 requests from a generator
  // seeded with `seed`, each answer checked. Keeps every eighth serialization
  // (up to 64 KiB) in *sample.
  void SendHostile(RpcChannel* channel, uint64_t seed, int rounds,
                   std::vector<std::string>* sample) {
    HostileRequests gen(seed, ds_->address());
    for (int round = 0; round < rounds; ++round) {
      std::vector<proto::Request> reqs(64);
      std::vector<char> refuse(reqs.size());
      for (size_t i = 0; i < reqs.size(); ++i) {
        bool must_refuse = false;
        gen.Next(&reqs[i], &must_refuse);
        refuse[i] = must_refuse;
        if (i % 8 == 0 && reqs[i].ByteSizeLong() < 65536) {
          sample->push_back(reqs[i].SerializeAsString());
        }
      }
      std::vector<proto::Response> resps = CallAll(channel, &reqs);
      for (size_t i = 0; i < reqs.size(); ++i) {
        ASSERT_NO_FATAL_FAILURE(ExpectWellFormed(reqs[i], refuse[i], resps[i]))
            << "seed " << seed << " round " << round << " request " << i;
      }
    }
  }

  // Part 3: `count` raw connections carrying garbage made with `seed` and
  // `sample` (serialized requests), each answered and/or closed by the server.
  void SendGarbage(uint64_t seed, int count,
                   const std::vector<std::string>& sample) {
    std::mt19937_64 rng(seed);
    auto bytes = [&rng](size_t n) {
      std::string out(n, '\0');
      for (char& c : out) c = static_cast<char>(rng());
      return out;
    };
    auto some_request = [&] { return sample[rng() % sample.size()]; };
    // A request's bytes flipped, truncated or appended to (never empty: a zero
    // length is a case of its own).
    auto mutated = [&] {
      std::string s = some_request();
      switch (rng() % 3) {
        case 0:
          for (int k = 0; k < 3 && !s.empty(); ++k) {
            s[rng() % s.size()] ^= static_cast<char>(1 + rng() % 255);
          }
          break;
        case 1:
          s.resize(rng() % (s.size() + 1));
          break;
        default:
          s += bytes(1 + rng() % 32);
          break;
      }
      return s.empty() ? std::string("\x08\x01") : s;
    };
    // proto3 strings must be UTF-8: unparsable.
    proto::Request bad_utf8;
    bad_utf8.mutable_migrate_batch()->set_source("\xff\xfe");
    const std::string bad_utf8_bytes = bad_utf8.SerializeAsString();
    // Unknown groups nested far deeper than the parser's recursion limit.
    std::string nested;
    for (int k = 0; k < 100000; ++k) nested += "\x9b\x06";  // field 99, group
    const uint32_t max_frame = static_cast<uint32_t>(kDefaultMaxFrameBytes);
    // A request of exactly the maximum frame length (its key far over the
    // limit).
    proto::Request biggest;
    std::string* key = biggest.mutable_get()->mutable_key();
    for (int k = 0; k < 2; ++k) {
      key->resize(key->size() + max_frame - biggest.ByteSizeLong());
    }
    ASSERT_EQ(biggest.ByteSizeLong(), max_frame);
    for (int i = 0; i < count; ++i) {
      RawConnection conn(ds_->port());
      ASSERT_TRUE(conn.connected()) << "connection " << i;
      // A frame header the server must refuse: it closes by itself. Otherwise
      // it may wait for more, so it is shown the end of our stream.
      bool closes_by_itself = false;
      switch (i % 10) {
        case 0:
          conn.Send(bytes(1 + rng() % 512));
          break;
        case 1:
          conn.Send(Frame(bytes(1 + rng() % 512)));
          break;
        case 2:
        case 3:
          conn.Send(Frame(mutated()));
          break;
        case 4:
          // A zero length, alone or followed by bytes.
          conn.Send(Frame(0, i % 20 == 4 ? "" : bytes(8)));
          closes_by_itself = true;
          break;
        case 5:
          // An answered frame, then a length over the maximum.
          conn.Send(Frame("\x08\x01") +
                    Frame(rng() % 2 == 0 ? max_frame + 1 : kU32Max, bytes(64)));
          closes_by_itself = true;
          break;
        case 6:
          // A header claiming far more than follows (up to the maximum).
          conn.Send(Frame(rng() % 2 == 0 ? max_frame : 1u << 20,
                          bytes(1 + rng() % 4096)));
          break;
        case 7:
          // An answered frame, then an unparsable one.
          conn.Send(Frame(some_request()) +
                    Frame(i % 20 == 7 ? bad_utf8_bytes
                                      : std::string("\xff\xff\xff", 3)));
          closes_by_itself = true;
          break;
        case 8:
          // The biggest request once (answered), else the nested groups.
          conn.Send(Frame(i == 8 ? biggest.SerializeAsString() : nested));
          closes_by_itself = i != 8;
          break;
        default: {
          // A request trickled in pieces of 1 to 3 bytes.
          const std::string frame = Frame(some_request());
          for (size_t off = 0, n = 0; off < frame.size(); off += n) {
            n = 1 + rng() % 3;
            conn.Send(frame.substr(off, n));
          }
          break;
        }
      }
      if (!closes_by_itself) conn.CloseWrite();
      std::string received;
      ASSERT_TRUE(conn.ReadUntilClosed(&received))
          << "connection " << i << " neither answered nor closed";
      ASSERT_NO_FATAL_FAILURE(ExpectResponseFrames(received))
          << "connection " << i;
    }
  }

  std::filesystem::path dir_;
  FakeConfigServer cs_;
  std::unique_ptr<RpcServer> cs_server_;
  std::unique_ptr<DataServer> ds_;
  IoThread io_;  // runs the channels, which the test body owns
};

struct Canary {
  uint32_t area;
  std::string key;
  std::string value;
  uint32_t ttl_seconds;
  proto::GetResponse stored;  // as read back after the write
};

// A key with `name` after kCanaryPrefix in a bucket this server masters.
std::string CanaryKey(const std::string& name) {
  for (int i = 0;; ++i) {
    std::string key = kCanaryPrefix + name + std::to_string(i);
    if (BucketOf(key, kBuckets) < kBuckets / 2) return key;
  }
}

TEST_P(RequestFuzzTest, HostileRequestsAndGarbageFramesLeaveCanariesIntact) {
  // 1. Canaries.
  std::vector<Canary> canaries = {
      {0, CanaryKey("plain"), "alpha", 0, {}},
      {0, CanaryKey("binary"), std::string("b\0e\xff", 4), 0, {}},
      {65535, CanaryKey("ttl"), "gamma", 3600, {}},
      {65535, CanaryKey("max"), std::string(kMaxValueBytes, 'c'), 0, {}},
  };
  std::unique_ptr<RpcChannel> channel = NewChannel();
  for (Canary& c : canaries) {
    proto::Request req;
    req.mutable_put()->set_area(c.area);
    req.mutable_put()->set_key(c.key);
    req.mutable_put()->set_value(c.value);
    req.mutable_put()->mutable_expiry()->set_ttl_seconds(c.ttl_seconds);
    proto::Response put = Call(channel.get(), req);
    ASSERT_EQ(put.code(), proto::OK) << put.message();
    proto::Response got = Get(channel.get(), c.area, c.key);
    ASSERT_EQ(got.code(), proto::OK) << got.message();
    ASSERT_EQ(got.get().value(), c.value);
    ASSERT_EQ(got.get().expire_at() != 0, c.ttl_seconds != 0);
    c.stored = got.get();
  }

  // 2. Hostile requests: two streams at once, on two connections.
  std::vector<std::string> sample, sample2;
  std::unique_ptr<RpcChannel> second = NewChannel();
  std::thread other([&] { SendHostile(second.get(), 2, 32, &sample2); });
  SendHostile(channel.get(), 1, 32, &sample);
  other.join();
  ASSERT_FALSE(HasFailure());
  sample.insert(sample.end(), sample2.begin(), sample2.end());

  // 3. Garbage on raw connections.
  ASSERT_NO_FATAL_FAILURE(SendGarbage(3, 400, sample));

  // 4. Still serving, on an old channel and a fresh one; canaries intact.
  std::unique_ptr<RpcChannel> fresh = NewChannel();
  for (RpcChannel* ch : {channel.get(), fresh.get()}) {
    for (const Canary& c : canaries) {
      proto::Response got = Get(ch, c.area, c.key);
      ASSERT_EQ(got.code(), proto::OK) << c.key << ": " << got.message();
      EXPECT_EQ(got.get().value(), c.value) << c.key;
      EXPECT_EQ(got.get().version(), c.stored.version()) << c.key;
      EXPECT_EQ(got.get().expire_at(), c.stored.expire_at()) << c.key;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Writes, RequestFuzzTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Inline" : "Pool";
                         });

}  // namespace
}  // namespace tessera::ds
