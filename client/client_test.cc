// Client SDK against in-process fake servers: one config server and two data servers
// (RpcServer + small RpcServices) with a hand-made table.
#include "tessera/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/asio.h"
#include "common/bucket_hash.h"
#include "common/bucket_table.h"
#include "common/rpc_server.h"
#include "common/thread_name.h"
#include "common/thread_policy.h"

namespace tessera::client {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kBuckets = 16;

// Config server: answers get_table with the table set by the test.
class FakeConfigServer : public RpcService {
 public:
  void Handle(std::unique_ptr<ServerCall> call) override {
    proto::Response r;
    std::lock_guard<std::mutex> l(mu_);
    ++get_table_calls_;
    r.set_table_version(table_.version());
    if (!call->request().has_get_table()) {
      r.set_code(proto::INVALID_ARGUMENT);
    } else if (table_.version() > call->request().get_table().known_version()) {
      *r.mutable_get_table()->mutable_table() = table_;
    }
    call->Reply(&r);
  }
  void SetTable(const proto::Table& t) {
    std::lock_guard<std::mutex> l(mu_);
    table_ = t;
  }
  int get_table_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return get_table_calls_;
  }

 private:
  std::mutex mu_;
  proto::Table table_;
  int get_table_calls_ = 0;
};

// Data server: an in-memory map that checks ownership against its own table. A key
// "code=N" is answered with wire code N; a key "hold" is never answered.
class FakeDataServer : public RpcService {
 public:
  ~FakeDataServer() override { ReleaseHeld(); }

  void Handle(std::unique_ptr<ServerCall> call) override {
    const proto::Request& req = call->request();
    proto::Response r;
    std::lock_guard<std::mutex> l(mu_);
    ++requests_;
    r.set_table_version(announce_version_ ? announce_version_ : table_->version());
    auto owns = [&](const std::string& key) {
      return table_->IsMaster(BucketOf(key, table_->bucket_count()),
                              table_->ServerIndex(address_));
    };
    auto wrong_owner = [&] {
      ++wrong_owner_replies_;
      r.set_code(proto::WRONG_OWNER);
      r.set_message("wrong owner, table version " + std::to_string(table_->version()));
    };
    auto key_of = [&]() -> std::string {
      switch (req.body_case()) {
        case proto::Request::kPut: return req.put().key();
        case proto::Request::kGet: return req.get().key();
        case proto::Request::kRemove: return req.remove().key();
        case proto::Request::kIncr: return req.incr().key();
        case proto::Request::kExpire: return req.expire().key();
        default: return "";
      }
    };
    const std::string key = key_of();
    peers_.insert(call->peer());
    if (!key.empty()) peers_of_key_[key].insert(call->peer());
    if (key == "hold") {
      ++puts_or_gets_held_;
      held_.push_back(std::move(call));
      return;
    }
    if (key.rfind("code=", 0) == 0) {
      r.set_code(static_cast<proto::Code>(std::stoi(key.substr(5))));
      r.set_message("as asked");
      call->Reply(&r);
      return;
    }
    if (!key.empty() && !owns(key)) {
      wrong_owner();
      call->Reply(&r);
      return;
    }
    switch (req.body_case()) {
      case proto::Request::kPut: {
        ++puts_;
        Entry& e = store_[{req.put().area(), key}];
        e.value = req.put().value();
        r.mutable_put()->set_version(++e.version);
        break;
      }
      case proto::Request::kGet: {
        auto it = store_.find({req.get().area(), key});
        if (it == store_.end()) {
          r.set_code(proto::NOT_FOUND);
        } else {
          r.mutable_get()->set_value(it->second.value);
          r.mutable_get()->set_version(it->second.version);
          r.mutable_get()->set_ttl_seconds(-1);
        }
        break;
      }
      case proto::Request::kIncr: {
        Entry& e = store_[{req.incr().area(), key}];
        int64_t v = (e.value.empty() ? req.incr().initial_value() : std::stoll(e.value)) +
                    req.incr().delta();
        e.value = std::to_string(v);
        r.mutable_incr()->set_value(v);
        r.mutable_incr()->set_version(++e.version);
        break;
      }
      case proto::Request::kMget: {
        ++mgets_;
        for (const std::string& k : req.mget().keys()) {
          if (!owns(k)) {
            wrong_owner();
            call->Reply(&r);
            return;
          }
        }
        for (const std::string& k : req.mget().keys()) {
          proto::KeyResult* kr = r.mutable_mget()->add_results();
          auto it = store_.find({req.mget().area(), k});
          if (it == store_.end()) {
            kr->set_code(proto::NOT_FOUND);
          } else {
            kr->set_value(it->second.value);
            kr->set_version(it->second.version);
          }
        }
        break;
      }
      case proto::Request::kMput: {
        ++mputs_;
        for (const proto::PutRequest& p : req.mput().entries()) {
          proto::KeyResult* kr = r.mutable_mput()->add_results();
          if (!owns(p.key())) {
            kr->set_code(proto::WRONG_OWNER);
            continue;
          }
          Entry& e = store_[{req.mput().area(), p.key()}];
          e.value = p.value();
          kr->set_version(++e.version);
        }
        break;
      }
      default:
        r.set_code(proto::INVALID_ARGUMENT);
    }
    call->Reply(&r);
  }

  void SetTable(const proto::Table& t, const std::string& address) {
    std::shared_ptr<const BucketTable> bt;
    ASSERT_TRUE(BucketTable::FromProto(t, &bt).ok());
    std::lock_guard<std::mutex> l(mu_);
    table_ = bt;
    address_ = address;
  }
  void AnnounceVersion(uint64_t v) {
    std::lock_guard<std::mutex> l(mu_);
    announce_version_ = v;
  }
  void ReleaseHeld() {
    std::lock_guard<std::mutex> l(mu_);
    held_.clear();
  }
  bool Has(uint32_t area, const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    return store_.count({area, key}) > 0;
  }
  size_t StoreSize() {
    std::lock_guard<std::mutex> l(mu_);
    return store_.size();
  }
  // The connections (client "ip:port") requests came from: all, and per key.
  std::set<std::string> Peers() {
    std::lock_guard<std::mutex> l(mu_);
    return peers_;
  }
  std::map<std::string, std::set<std::string>> PeersOfKeys() {
    std::lock_guard<std::mutex> l(mu_);
    return peers_of_key_;
  }
#define FAKE_COUNTER(name)          \
  int name() {                      \
    std::lock_guard<std::mutex> l(mu_); \
    return name##_;                 \
  }
  FAKE_COUNTER(requests)
  FAKE_COUNTER(puts)
  FAKE_COUNTER(mgets)
  FAKE_COUNTER(mputs)
  FAKE_COUNTER(wrong_owner_replies)
  FAKE_COUNTER(puts_or_gets_held)
#undef FAKE_COUNTER

 private:
  struct Entry {
    std::string value;
    uint32_t version = 0;
  };
  std::mutex mu_;
  std::shared_ptr<const BucketTable> table_;
  std::string address_;
  uint64_t announce_version_ = 0;
  std::map<std::pair<uint32_t, std::string>, Entry> store_;
  std::vector<std::unique_ptr<ServerCall>> held_;
  std::set<std::string> peers_;
  std::map<std::string, std::set<std::string>> peers_of_key_;
  int requests_ = 0, puts_ = 0, mgets_ = 0, mputs_ = 0, wrong_owner_replies_ = 0;
  int puts_or_gets_held_ = 0;
};

// Table over `servers`: bucket b is mastered by owner_of(b).
proto::Table MakeTable(uint64_t version, const std::vector<std::string>& servers,
                       const std::function<uint32_t(uint32_t)>& owner_of,
                       const std::vector<int>& down = {}) {
  proto::Table t;
  t.set_version(version);
  t.set_bucket_count(kBuckets);
  t.set_copy_count(1);
  for (size_t i = 0; i < servers.size(); ++i) {
    proto::TableServer* s = t.add_servers();
    s->set_address(servers[i]);
    s->set_state(std::find(down.begin(), down.end(), static_cast<int>(i)) != down.end()
                     ? proto::SERVER_DOWN
                     : proto::SERVER_UP);
  }
  for (uint32_t b = 0; b < kBuckets; ++b) t.add_owners(owner_of(b));
  return t;
}

uint32_t Split(uint32_t b) { return b < kBuckets / 2 ? 0 : 1; }

// The first key "<prefix><n>" whose bucket is mastered by server `owner` under Split.
// prefix + decimal n (not operator+ on a literal: GCC 12 warns falsely, -Wrestrict).
std::string Numbered(const char* prefix, int n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

std::string KeyOn(uint32_t owner, const std::string& prefix = "key") {
  for (int n = 0;; ++n) {
    std::string k = prefix + std::to_string(n);
    if (Split(BucketOf(k, kBuckets)) == owner) return k;
  }
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cs_server_ = std::make_unique<RpcServer>(RpcServerOptions{}, &cs_);
    ASSERT_TRUE(cs_server_->Start().ok());
    for (int i = 0; i < 2; ++i) {
      ds_server_[i] = std::make_unique<RpcServer>(RpcServerOptions{}, &ds_[i]);
      ASSERT_TRUE(ds_server_[i]->Start().ok());
      addr_[i] = "127.0.0.1:" + std::to_string(ds_server_[i]->port());
    }
    SetTables(MakeTable(1, {addr_[0], addr_[1]}, Split));
  }
  void TearDown() override {
    client_.reset();
    cs_server_->Stop();
    for (int i = 0; i < 2; ++i) {
      ds_server_[i]->Stop();
      ds_[i].ReleaseHeld();
    }
  }
  void SetTables(const proto::Table& t) {
    cs_.SetTable(t);
    for (int i = 0; i < 2; ++i) ds_[i].SetTable(t, addr_[i]);
  }
  void Open(Options options = {}) {
    options.config_servers = {"127.0.0.1:" + std::to_string(cs_server_->port())};
    Status s = Client::Open(options, &client_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // A loopback port nobody listens on.
  static uint16_t ClosedPort() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
  }

  FakeConfigServer cs_;
  FakeDataServer ds_[2];
  std::unique_ptr<RpcServer> cs_server_;
  std::unique_ptr<RpcServer> ds_server_[2];
  std::string addr_[2];
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, OpenFetchesTheTable) {
  Open();
  TableInfo t = client_->table();
  EXPECT_EQ(t.version, 1u);
  EXPECT_EQ(t.bucket_count, kBuckets);
  ASSERT_EQ(t.servers.size(), 2u);
  EXPECT_EQ(t.servers[1], addr_[1]);
}

// The time slices of this process's threads named "io" (the client's; the fake
// servers' threads are "rpc-io").
std::multiset<uint32_t> IoThreadSlices() {
  std::multiset<uint32_t> slices;
  for (int tid : ThreadIdsNamed("/proc/self", "io")) slices.insert(ThreadSliceMicros(tid));
  return slices;
}

// Options::io_thread_slice_us reaches every io thread of the client (on kernels with
// per-thread slices, Linux 6.12+).
TEST_F(ClientTest, IoThreadsRunWithTheSliceAsked) {
  Options o;
  o.io_threads = 2;
  o.io_thread_slice_us = 300;
  Open(o);
  const uint32_t own = ThreadSliceMicros();
  const uint32_t want = own == 0 ? 0 : 300;  // 0: this kernel reports no slices
  // A thread names itself, then sets its slice: wait for both.
  std::multiset<uint32_t> slices;
  for (int i = 0; i < 1000; ++i) {
    slices = IoThreadSlices();
    if (slices.count(want) == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(slices.count(want), 2u);
  EXPECT_EQ(slices.size(), 2u);
}

// Calls to one server spread over connections_per_server connections, and every call
// for one key takes the same one.
TEST_F(ClientTest, EachKeyKeepsToOneOfTheConnectionsToItsServer) {
  Options o;
  o.connections_per_server = 3;
  Open(o);
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 40; ++i) {
    std::string k = Numbered("c", i);
    if (Split(BucketOf(k, kBuckets)) == 0) keys.push_back(k);
  }
  for (int round = 0; round < 3; ++round) {
    for (const std::string& k : keys) {
      ASSERT_TRUE(client_->Put(k, "v").ok());
      Value v;
      ASSERT_TRUE(client_->Get(k, &v).ok());
    }
  }
  std::vector<MGetItem> items;
  ASSERT_TRUE(client_->MGet(keys, &items).ok());
  EXPECT_EQ(ds_[0].Peers().size(), 3u);
  const auto peers_of_keys = ds_[0].PeersOfKeys();
  EXPECT_EQ(peers_of_keys.size(), keys.size());
  for (const auto& [key, peers] : peers_of_keys) EXPECT_EQ(peers.size(), 1u) << key;
  EXPECT_TRUE(ds_[1].Peers().empty());
}

TEST_F(ClientTest, ConnectionsPerServerOutOfRangeIsInvalidArgument) {
  Options o;
  o.config_servers = {"127.0.0.1:" + std::to_string(cs_server_->port())};
  o.connections_per_server = 0;
  EXPECT_TRUE(Client::Open(o, &client_).IsInvalidArgument());
  o.connections_per_server = 65;
  EXPECT_TRUE(Client::Open(o, &client_).IsInvalidArgument());
}

TEST_F(ClientTest, OpenWithoutConfigServerIsUnavailable) {
  Options o;
  o.config_servers = {"127.0.0.1:" + std::to_string(ClosedPort())};
  Status s = Client::Open(o, &client_);
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  o.config_servers = {"no-port"};
  EXPECT_TRUE(Client::Open(o, &client_).IsInvalidArgument());
}

TEST_F(ClientTest, RoutesEachKeyToItsMaster) {
  Open();
  for (int i = 0; i < 40; ++i) {
    std::string k = Numbered("k", i);
    ASSERT_TRUE(client_->Put(k, "v" + k).ok());
    EXPECT_TRUE(ds_[Split(BucketOf(k, kBuckets))].Has(0, k)) << k;
  }
  EXPECT_EQ(ds_[0].StoreSize() + ds_[1].StoreSize(), 40u);
  EXPECT_GT(ds_[0].StoreSize(), 0u);
  EXPECT_GT(ds_[1].StoreSize(), 0u);
  EXPECT_EQ(ds_[0].wrong_owner_replies() + ds_[1].wrong_owner_replies(), 0);
  Value v;
  ASSERT_TRUE(client_->Get("k7", &v).ok());
  EXPECT_EQ(v.data, "vk7");
  EXPECT_EQ(v.version, 1u);
  EXPECT_TRUE(client_->Get("absent", &v).IsNotFound());
}

TEST_F(ClientTest, WrongOwnerRefreshesTheTableAndRetries) {
  Open();
  const std::string k = KeyOn(0);
  // Everything moves to server 1; server 0 learns it, the client does not.
  SetTables(MakeTable(2, {addr_[0], addr_[1]}, [](uint32_t) { return 1u; }));
  uint32_t version = 0;
  Status s = client_->Put(k, "v", {}, &version);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(client_->table_version(), 2u);
  EXPECT_TRUE(ds_[1].Has(0, k));
  EXPECT_FALSE(ds_[0].Has(0, k));
  EXPECT_EQ(ds_[0].wrong_owner_replies(), 1);
}

TEST_F(ClientTest, NewerTableVersionInAResponseRefreshes) {
  Open();
  cs_.SetTable(MakeTable(5, {addr_[0], addr_[1]}, Split));
  ds_[0].AnnounceVersion(5);
  ASSERT_TRUE(client_->Put(KeyOn(0), "v").ok());
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (client_->table_version() != 5 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(client_->table_version(), 5u);
}

TEST_F(ClientTest, RetryBudgetExhaustedIsUnavailable) {
  Options o;
  o.max_attempts = 3;
  Open(o);
  // Server 0 believes server 1 masters everything; the config server disagrees.
  ds_[0].SetTable(MakeTable(1, {addr_[0], addr_[1]}, [](uint32_t) { return 1u; }), addr_[0]);
  const std::string k = KeyOn(0);
  Status s = client_->Put(k, "v");
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_EQ(ds_[0].wrong_owner_replies(), 3);
  Value v;
  EXPECT_TRUE(client_->Get(k, &v).IsUnavailable());
  EXPECT_FALSE(ds_[1].Has(0, k));
}

TEST_F(ClientTest, NoAnswerInTimeIsTimeoutAndTheWriteIsNotResent) {
  Open();
  CallOptions o;
  o.timeout_ms = 150;
  const auto start = Clock::now();
  Value v;
  Status s = client_->Get("hold", &v, o);
  EXPECT_TRUE(s.IsTimeout()) << s.ToString();
  s = client_->Put("hold", "v", o);
  EXPECT_TRUE(s.IsTimeout()) << s.ToString();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(ds_[0].puts_or_gets_held() + ds_[1].puts_or_gets_held(), 2);
}

TEST_F(ClientTest, UnreachableOwnerBeforeSendRetriesWritesOnTheNewTable) {
  const std::string dead = "127.0.0.1:" + std::to_string(ClosedPort());
  cs_.SetTable(MakeTable(1, {dead, addr_[0], addr_[1]}, [](uint32_t) { return 0u; }));
  Open();
  SetTables(MakeTable(2, {addr_[0], addr_[1]}, Split));
  const std::string k = KeyOn(1);
  int64_t value = 0;
  Status s = client_->Incr(k, 5, &value);  // not idempotent: resent only as never sent
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(value, 5);
  EXPECT_EQ(client_->table_version(), 2u);
}

TEST_F(ClientTest, DownMasterIsUnavailableNeverNotFound) {
  SetTables(MakeTable(1, {addr_[0], addr_[1]}, Split, /*down=*/{1}));
  Open();
  const int fetches = cs_.get_table_calls();
  Value v;
  Status s = client_->Get(KeyOn(1), &v);
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_GT(cs_.get_table_calls(), fetches);  // looked for a newer table first
  EXPECT_EQ(ds_[1].requests(), 0);
  EXPECT_TRUE(client_->Put(KeyOn(1), "v").IsUnavailable());
  EXPECT_TRUE(client_->Put(KeyOn(0), "v").ok());
  std::vector<MGetItem> items;
  s = client_->MGet({KeyOn(0), KeyOn(1), "absent-" + KeyOn(0, "x")}, &items);
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_TRUE(items[0].status.ok());
  EXPECT_TRUE(items[1].status.IsUnavailable()) << items[1].status.ToString();
  EXPECT_EQ(ds_[1].requests(), 0);
}

TEST_F(ClientTest, DownMasterChecksForANewerTableFirst) {
  SetTables(MakeTable(1, {addr_[0], addr_[1]}, Split, /*down=*/{1}));
  Open();
  SetTables(MakeTable(2, {addr_[0], addr_[1]}, [](uint32_t) { return 0u; }, /*down=*/{1}));
  const std::string k = KeyOn(1);
  Status s = client_->Put(k, "v");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(ds_[0].Has(0, k));
}

TEST_F(ClientTest, StatusCodesMapToDistinctClientCodes) {
  Open();
  const std::pair<proto::Code, Code> cases[] = {
      {proto::NOT_FOUND, Code::kNotFound},
      {proto::VERSION_MISMATCH, Code::kVersionMismatch},
      {proto::QUOTA_EXCEEDED, Code::kQuotaExceeded},
      {proto::INVALID_ARGUMENT, Code::kInvalidArgument},
      {proto::TIMEOUT, Code::kTimeout},
      {proto::PERMISSION_DENIED, Code::kPermissionDenied},
      {proto::INTERNAL, Code::kInternal},
      {static_cast<proto::Code>(77), Code::kInternal},
  };
  for (const auto& [wire, want] : cases) {
    const std::string key = "code=" + std::to_string(static_cast<int>(wire));
    Value v;
    Status s = client_->Get(key, &v);
    EXPECT_EQ(s.code(), want) << key << " " << s.ToString();
    EXPECT_EQ(client_->Put(key, "v").code(), want) << key;
  }
  // UNAVAILABLE from the server is retried, then reported as such.
  Status s = client_->Put("code=6", "v");
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_EQ(CodeName(Code::kVersionMismatch), "VersionMismatch");
}

TEST_F(ClientTest, MGetSplitsAcrossNodesAndKeepsRequestOrder) {
  Open();
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    keys.push_back(Numbered("m", i));
    if (i % 2 == 0) {
      ASSERT_TRUE(client_->Put(keys.back(), "value-" + keys.back()).ok());
    }
  }
  std::vector<MGetItem> items;
  Status s = client_->MGet(keys, &items);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(items.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(items[i].status.ok()) << keys[i] << " " << items[i].status.ToString();
      EXPECT_EQ(items[i].value.data, "value-" + keys[i]);
    } else {
      EXPECT_TRUE(items[i].status.IsNotFound()) << keys[i];
    }
  }
  EXPECT_EQ(ds_[0].mgets(), 1);
  EXPECT_EQ(ds_[1].mgets(), 1);
  EXPECT_EQ(ds_[0].wrong_owner_replies() + ds_[1].wrong_owner_replies(), 0);
}

TEST_F(ClientTest, MPutSplitsAndRetriesKeysAfterATableChange) {
  Open();
  SetTables(MakeTable(2, {addr_[0], addr_[1]}, [](uint32_t b) { return 1 - Split(b); }));
  std::vector<MPutEntry> entries;
  for (int i = 0; i < 30; ++i) entries.push_back({Numbered("p", i), "v", 0});
  std::vector<MPutItem> items;
  Status s = client_->MPut(entries, &items);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(items.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(items[i].version, 1u);
    const uint32_t owner = 1 - Split(BucketOf(entries[i].key, kBuckets));
    EXPECT_TRUE(ds_[owner].Has(0, entries[i].key)) << entries[i].key;
  }
  EXPECT_EQ(client_->table_version(), 2u);
}

TEST_F(ClientTest, LimitsAreCheckedWithoutARoundTrip) {
  Open();
  Value v;
  EXPECT_TRUE(client_->Get("", &v).IsInvalidArgument());
  EXPECT_TRUE(client_->Get(std::string(1025, 'k'), &v).IsInvalidArgument());
  EXPECT_TRUE(client_->Put("k", std::string((1u << 20) + 1, 'v')).IsInvalidArgument());
  CallOptions area;
  area.area = 65536;
  EXPECT_TRUE(client_->Put("k", "v", area).IsInvalidArgument());
  CallOptions both;
  both.ttl_seconds = 5;
  both.expire_at = 2000000000;
  EXPECT_TRUE(client_->Put("k", "v", both).IsInvalidArgument());
  std::vector<MGetItem> items;
  EXPECT_TRUE(client_->MGet({}, &items).IsInvalidArgument());
  EXPECT_TRUE(client_->MGet(std::vector<std::string>(1025, "k"), &items).IsInvalidArgument());
  EXPECT_TRUE(client_->MGet({"a", ""}, &items).IsInvalidArgument());
  std::vector<MPutItem> put_items;
  EXPECT_TRUE(client_->MPut({{"a", std::string((1u << 20) + 1, 'v'), 0}}, &put_items)
                  .IsInvalidArgument());
  int64_t value;
  EXPECT_TRUE(client_->Incr(std::string(2000, 'k'), 1, &value).IsInvalidArgument());
  EXPECT_TRUE(client_->Put(std::string(1024, 'k'), "v").ok());  // at the limit: fine
  EXPECT_EQ(ds_[0].requests() + ds_[1].requests(), 1);
}

TEST_F(ClientTest, AsyncCallsPipeline) {
  Open();
  constexpr int kCalls = 500;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  for (int i = 0; i < kCalls; ++i) {
    client_->PutAsync(Numbered("a", i), "v", {}, [&](const Status& s, uint32_t) {
      std::lock_guard<std::mutex> l(mu);
      failed += s.ok() ? 0 : 1;
      if (++done == kCalls) cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return done == kCalls; }));
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(ds_[0].puts() + ds_[1].puts(), kCalls);
  std::atomic<int> found{0};
  std::atomic<int> got{0};
  for (int i = 0; i < kCalls; ++i) {
    client_->GetAsync(Numbered("a", i), {}, [&](const Status& s, Value&&) {
      if (s.ok()) found.fetch_add(1);
      got.fetch_add(1);
    });
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (got.load() < kCalls && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(found.load(), kCalls);
}

}  // namespace
}  // namespace tessera::client
