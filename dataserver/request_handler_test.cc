// RequestHandler behind a real RpcServer on 127.0.0.1 (port 0), driven through an
// RpcChannel, with hand-made tables: ownership (wrong owner refused and not applied,
// no table yet), limits, table versions in responses, newer-table notification, and
// the holds around a flip (a request for a newer table, a write to a fenced bucket).
// Runs with writes inline and on the write pool.
#include "dataserver/request_handler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/bucket_hash.h"
#include "common/io_thread.h"
#include "common/rpc_channel.h"
#include "common/rpc_server.h"
#include "dataserver/storage_manager.h"
#include "ldb/env.h"

namespace tessera::ds {
namespace {

constexpr uint32_t kBuckets = 8;
constexpr char kOther[] = "127.0.0.1:1";

class RequestHandlerTest : public ::testing::TestWithParam<bool> {
 protected:
  // RequestHandlerOptions::hold_for_table_ms and hold_fenced_ms.
  virtual uint32_t HoldMs() const { return 100; }

  void SetUp() override {
    mem_ = ldb::NewMemEnv(ldb::Env::Default());
    StorageOptions so;
    so.data_dir = "/ds";
    so.env = mem_.get();
    so.write_buffer_bytes = 1 << 20;
    ASSERT_TRUE(StorageManager::Open(so, &storage_).ok());
    RequestHandlerOptions ho;
    ho.max_value_bytes = 1000;
    ho.inline_writes = GetParam();
    ho.write_threads = 4;
    ho.hold_for_table_ms = HoldMs();
    ho.hold_fenced_ms = HoldMs();
    handler_ = std::make_unique<RequestHandler>(
        ho, storage_.get(), [this](uint64_t v, bool urgent) {
          newer_seen_.store(v);
          if (urgent) urgent_seen_.store(v);
        });
    RpcServerOptions ro;
    ro.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<RpcServer>(ro, handler_.get());
    ASSERT_TRUE(server_->Start().ok());
    self_ = "127.0.0.1:" + std::to_string(server_->port());
    handler_->SetSelfAddress(self_);
    channel_ = std::make_unique<RpcChannel>(io_.io(), HostPort{"127.0.0.1", server_->port()});
    // Keys mastered here and elsewhere under the table of MakeTable.
    for (int i = 0; mine_.size() < 3 || theirs_.size() < 3; ++i) {
      std::string k = "key" + std::to_string(i);
      (BucketOf(k, kBuckets) % 2 == 0 ? mine_ : theirs_).push_back(k);
    }
  }
  void TearDown() override {
    channel_.reset();
    handler_->StopAccepting();
    handler_->Drain();
    server_->Stop();
    server_.reset();
    handler_.reset();
    storage_.reset();
  }

  // Even buckets are mastered by us (copy on the other server), odd ones by the
  // other server (copy here): a replica does not serve either.
  std::shared_ptr<const BucketTable> MakeTable(uint64_t version) {
    proto::Table t;
    t.set_version(version);
    t.set_bucket_count(kBuckets);
    t.set_copy_count(2);
    t.add_servers()->set_address(self_);
    t.add_servers()->set_address(kOther);
    for (uint32_t b = 0; b < kBuckets; ++b) {
      t.add_owners(b % 2 == 0 ? 0 : 1);
      t.add_owners(b % 2 == 0 ? 1 : 0);
    }
    std::shared_ptr<const BucketTable> table;
    Status s = BucketTable::FromProto(t, &table);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return table;
  }

  proto::Response Call(proto::Request req) {
    proto::Response resp;
    Status s = channel_->CallSync(&req, 5000, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  // Sends from a thread of its own; the future has the answer.
  std::future<proto::Response> CallAsync(proto::Request req) {
    return std::async(std::launch::async, [this, req]() mutable { return Call(req); });
  }
  static bool Answered(const std::future<proto::Response>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  // Waits (with a bound) until `pred` holds for the handler's counters.
  template <typename Pred>
  bool WaitForCounters(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!pred(handler_->counters())) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  // MakeTable(version) with `key`'s bucket mastered by the other server when `away`,
  // else by us.
  std::shared_ptr<const BucketTable> TableWith(uint64_t version, const std::string& key,
                                               bool away) {
    proto::Table t = MakeTable(version)->proto();
    const uint32_t b = BucketOf(key, kBuckets);
    t.set_owners(2 * b, away ? 1 : 0);
    t.set_owners(2 * b + 1, away ? 0 : 1);
    std::shared_ptr<const BucketTable> table;
    EXPECT_TRUE(BucketTable::FromProto(t, &table).ok());
    return table;
  }
  static proto::Request PutRequest(const std::string& key, const std::string& value,
                                   uint64_t table_version = 0) {
    proto::Request req;
    req.set_table_version(table_version);
    req.mutable_put()->set_key(key);
    req.mutable_put()->set_value(value);
    return req;
  }
  static proto::Request GetRequest(const std::string& key, uint64_t table_version = 0) {
    proto::Request req;
    req.set_table_version(table_version);
    req.mutable_get()->set_key(key);
    return req;
  }

  proto::Response Put(const std::string& key, const std::string& value, uint32_t area = 0) {
    proto::Request req;
    req.mutable_put()->set_area(area);
    req.mutable_put()->set_key(key);
    req.mutable_put()->set_value(value);
    return Call(req);
  }
  proto::Response Get(const std::string& key, uint32_t area = 0) {
    proto::Request req;
    req.mutable_get()->set_area(area);
    req.mutable_get()->set_key(key);
    return Call(req);
  }
  // Reads storage directly, bypassing routing.
  bool Stored(const std::string& key, uint32_t area = 0) {
    GetResult r;
    return storage_->Get(area, key, BucketOf(key, kBuckets), &r).ok();
  }

  std::unique_ptr<ldb::Env> mem_;
  std::unique_ptr<StorageManager> storage_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<RpcServer> server_;
  IoThread io_;
  std::unique_ptr<RpcChannel> channel_;
  std::string self_;
  std::vector<std::string> mine_, theirs_;
  std::atomic<uint64_t> newer_seen_{0}, urgent_seen_{0};
};

TEST_P(RequestHandlerTest, NoTableYetIsUnavailable) {
  proto::Response r = Put(mine_[0], "v");
  EXPECT_EQ(r.code(), proto::UNAVAILABLE);
  EXPECT_EQ(r.message(), "no table yet");
  EXPECT_EQ(r.table_version(), 0u);
  r = Get(mine_[0]);
  EXPECT_EQ(r.code(), proto::UNAVAILABLE);
  EXPECT_FALSE(Stored(mine_[0]));
}

TEST_P(RequestHandlerTest, ServesOwnBucketsAndRefusesOthers) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  proto::Response r = Put(mine_[0], "v1");
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.table_version(), 5u);
  EXPECT_EQ(r.put().version(), 1u);
  r = Get(mine_[0]);
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_EQ(r.get().value(), "v1");
  EXPECT_EQ(r.get().ttl_seconds(), -1);
  EXPECT_EQ(r.table_version(), 5u);

  // A bucket we only hold a copy of: refused, never applied, reads too.
  r = Put(theirs_[0], "v");
  EXPECT_EQ(r.code(), proto::WRONG_OWNER);
  EXPECT_EQ(r.message(), "wrong owner, table version 5");
  EXPECT_EQ(r.table_version(), 5u);
  EXPECT_FALSE(Stored(theirs_[0]));
  r = Get(theirs_[0]);
  EXPECT_EQ(r.code(), proto::WRONG_OWNER);

  proto::Request req;
  req.mutable_incr()->set_key(theirs_[0]);
  req.mutable_incr()->set_delta(1);
  EXPECT_EQ(Call(req).code(), proto::WRONG_OWNER);
  EXPECT_FALSE(Stored(theirs_[0]));
  req.Clear();
  req.mutable_remove()->set_key(theirs_[1]);
  EXPECT_EQ(Call(req).code(), proto::WRONG_OWNER);

  // The table moves every bucket to the other server: our keys are refused now.
  std::shared_ptr<const BucketTable> t = MakeTable(6);
  proto::Table moved = t->proto();
  for (int i = 0; i < moved.owners_size(); i += 2) {
    moved.set_owners(i, 1);
    moved.set_owners(i + 1, 0);
  }
  ASSERT_TRUE(BucketTable::FromProto(moved, &t).ok());
  ASSERT_TRUE(handler_->SetTable(t));
  r = Put(mine_[0], "v2");
  EXPECT_EQ(r.code(), proto::WRONG_OWNER);
  EXPECT_EQ(r.message(), "wrong owner, table version 6");
  r = Get(mine_[0]);
  EXPECT_EQ(r.code(), proto::WRONG_OWNER);
  GetResult stored;
  ASSERT_TRUE(storage_->Get(0, mine_[0], BucketOf(mine_[0], kBuckets), &stored).ok());
  EXPECT_EQ(stored.value, "v1");
}

TEST_P(RequestHandlerTest, OlderTablesAreIgnored) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  EXPECT_FALSE(handler_->SetTable(MakeTable(5)));
  EXPECT_FALSE(handler_->SetTable(MakeTable(4)));
  EXPECT_EQ(handler_->table_version(), 5u);
}

TEST_P(RequestHandlerTest, NewerVersionInRequestTriggersFetch) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  proto::Request req;
  req.set_table_version(5);
  req.mutable_get()->set_key(mine_[0]);
  Call(req);
  EXPECT_EQ(newer_seen_.load(), 0u);
  req.set_table_version(9);
  EXPECT_EQ(Call(req).table_version(), 5u);
  EXPECT_EQ(newer_seen_.load(), 9u);
}

TEST_P(RequestHandlerTest, Limits) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(3)));
  EXPECT_EQ(Put(std::string(1025, 'k'), "v").code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(Put("", "v").code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(Get(std::string(1025, 'k')).code(), proto::INVALID_ARGUMENT);
  proto::Response r = Put(mine_[0], std::string(1001, 'v'));
  EXPECT_EQ(r.code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(r.table_version(), 3u);
  EXPECT_FALSE(Stored(mine_[0]));
  EXPECT_EQ(Put(mine_[0], std::string(1000, 'v')).code(), proto::OK);
  EXPECT_EQ(Put(mine_[1], "v", 65536).code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(Put(mine_[1], "v", 65535).code(), proto::OK);
  // A 1024-byte key is fine (if we own it).
  std::string big;
  for (int i = 0;; ++i) {
    big = std::string(1020, 'k') + std::to_string(1000 + i);
    if (BucketOf(big, kBuckets) % 2 == 0) break;
  }
  ASSERT_EQ(big.size(), 1024u);
  EXPECT_EQ(Put(big, "v").code(), proto::OK);

  proto::Request req;
  EXPECT_EQ(Call(req).code(), proto::INVALID_ARGUMENT);  // no body
  req.mutable_heartbeat()->set_address("x");
  EXPECT_EQ(Call(req).code(), proto::INVALID_ARGUMENT);  // not ours

  req.Clear();
  for (int i = 0; i < 1025; ++i) req.mutable_mget()->add_keys(mine_[0]);
  EXPECT_EQ(Call(req).code(), proto::INVALID_ARGUMENT);
  req.Clear();
  for (int i = 0; i < 1025; ++i) {
    proto::PutRequest* e = req.mutable_mput()->add_entries();
    e->set_key(mine_[2]);
    e->set_value("v");
  }
  EXPECT_EQ(Call(req).code(), proto::INVALID_ARGUMENT);
  EXPECT_FALSE(Stored(mine_[2]));
  // One bad entry fails the whole batch, nothing applied.
  req.Clear();
  proto::PutRequest* e = req.mutable_mput()->add_entries();
  e->set_key(mine_[2]);
  e->set_value("v");
  e = req.mutable_mput()->add_entries();
  e->set_key(mine_[1]);
  e->set_value(std::string(1001, 'v'));
  EXPECT_EQ(Call(req).code(), proto::INVALID_ARGUMENT);
  EXPECT_FALSE(Stored(mine_[2]));
}

TEST_P(RequestHandlerTest, BatchesReportPerKey) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(2)));
  proto::Request req;
  req.mutable_mput()->set_area(4);
  for (const std::string& k : {mine_[0], theirs_[0], mine_[1]}) {
    proto::PutRequest* e = req.mutable_mput()->add_entries();
    e->set_key(k);
    e->set_value("val-" + k);
    e->mutable_expiry()->set_ttl_seconds(100);
  }
  proto::Response r = Call(req);
  ASSERT_EQ(r.code(), proto::OK);
  ASSERT_EQ(r.mput().results_size(), 3);
  EXPECT_EQ(r.mput().results(0).code(), proto::OK);
  EXPECT_EQ(r.mput().results(0).version(), 1u);
  EXPECT_EQ(r.mput().results(1).code(), proto::WRONG_OWNER);
  EXPECT_EQ(r.mput().results(2).code(), proto::OK);
  EXPECT_FALSE(Stored(theirs_[0], 4));

  req.Clear();
  req.mutable_mget()->set_area(4);
  for (const std::string& k : {mine_[0], theirs_[0], mine_[2], mine_[1]}) {
    req.mutable_mget()->add_keys(k);
  }
  r = Call(req);
  ASSERT_EQ(r.code(), proto::OK);
  ASSERT_EQ(r.mget().results_size(), 4);
  EXPECT_EQ(r.mget().results(0).code(), proto::OK);
  EXPECT_EQ(r.mget().results(0).value(), "val-" + mine_[0]);
  EXPECT_GT(r.mget().results(0).ttl_seconds(), 90);
  EXPECT_EQ(r.mget().results(1).code(), proto::WRONG_OWNER);
  EXPECT_EQ(r.mget().results(2).code(), proto::NOT_FOUND);
  EXPECT_EQ(r.mget().results(3).value(), "val-" + mine_[1]);
  EXPECT_EQ(r.table_version(), 2u);
}

TEST_P(RequestHandlerTest, WriteOperations) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(1)));
  const std::string& k = mine_[0];
  proto::Request req;
  req.mutable_incr()->set_key(k);
  req.mutable_incr()->set_delta(3);
  req.mutable_incr()->set_initial_value(10);
  proto::Response r = Call(req);
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.incr().value(), 13);
  EXPECT_EQ(r.incr().version(), 1u);

  req.Clear();
  req.mutable_put()->set_key(k);
  req.mutable_put()->set_value("x");
  req.mutable_put()->set_version(7);
  r = Call(req);
  EXPECT_EQ(r.code(), proto::VERSION_MISMATCH);

  req.Clear();
  req.mutable_expire()->set_key(k);
  req.mutable_expire()->mutable_expiry()->set_ttl_seconds(50);
  r = Call(req);
  ASSERT_EQ(r.code(), proto::OK);
  EXPECT_GT(r.expire().expire_at(), 0u);
  r = Get(k);
  EXPECT_EQ(r.get().value(), "13");
  EXPECT_GT(r.get().ttl_seconds(), 45);

  req.Clear();
  req.mutable_put()->set_key(k);
  req.mutable_put()->mutable_expiry()->set_ttl_seconds(5);
  req.mutable_put()->mutable_expiry()->set_expire_at(5);
  EXPECT_EQ(Call(req).code(), proto::INVALID_ARGUMENT);

  req.Clear();
  req.mutable_remove()->set_key(k);
  EXPECT_EQ(Call(req).code(), proto::OK);
  EXPECT_EQ(Call(req).code(), proto::NOT_FOUND);
  EXPECT_EQ(Get(k).code(), proto::NOT_FOUND);
  RequestHandler::Counters c = handler_->counters();
  EXPECT_GE(c.gets, 2u);
  EXPECT_EQ(c.removes, 2u);
}

TEST_P(RequestHandlerTest, StopAcceptingRefuses) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(1)));
  handler_->StopAccepting();
  proto::Response r = Put(mine_[0], "v");
  EXPECT_EQ(r.code(), proto::UNAVAILABLE);
  EXPECT_EQ(r.message(), "shutting down");
  EXPECT_FALSE(Stored(mine_[0]));
}

// Past its hold, a request stamped with a newer table is answered as before.
TEST_P(RequestHandlerTest, HeldForTableAnsweredAtTheDeadline) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  const auto start = std::chrono::steady_clock::now();
  proto::Response r = Call(GetRequest(theirs_[0], 6));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(HoldMs()));
  EXPECT_EQ(r.code(), proto::WRONG_OWNER);
  EXPECT_EQ(r.table_version(), 5u);
  EXPECT_EQ(urgent_seen_.load(), 6u);
  RequestHandler::Counters c = handler_->counters();
  EXPECT_EQ(c.held_for_table, 1u);
  EXPECT_EQ(c.held_expired, 1u);
  // Not held: an older stamp, or a bucket we master.
  EXPECT_EQ(Call(GetRequest(theirs_[0], 4)).code(), proto::WRONG_OWNER);
  EXPECT_EQ(Call(PutRequest(mine_[0], "v", 9)).code(), proto::OK);
  EXPECT_EQ(handler_->counters().held_for_table, 1u);
}

// Holds long enough that only the event releases a call.
class RequestHandlerHoldTest : public RequestHandlerTest {
 protected:
  uint32_t HoldMs() const override { return 60000; }
};

TEST_P(RequestHandlerHoldTest, RequestForANewerTableWaitsForIt) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  // The client has table 7, where theirs_[0]'s bucket is ours; we have 5.
  std::future<proto::Response> put = CallAsync(PutRequest(theirs_[0], "v", 7));
  std::future<proto::Response> get = CallAsync(GetRequest(theirs_[1], 7));
  ASSERT_TRUE(WaitForCounters([](const auto& c) { return c.held_for_table == 2; }));
  EXPECT_EQ(urgent_seen_.load(), 7u);
  // Table 6 is not enough: still held.
  ASSERT_TRUE(handler_->SetTable(TableWith(6, theirs_[0], /*away=*/false)));
  EXPECT_FALSE(Answered(put));
  EXPECT_FALSE(Stored(theirs_[0]));
  std::shared_ptr<const BucketTable> t7 = TableWith(7, theirs_[0], /*away=*/false);
  ASSERT_TRUE(handler_->SetTable(t7));
  proto::Response r = put.get();
  EXPECT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.table_version(), 7u);
  EXPECT_TRUE(Stored(theirs_[0]));
  // Answered under table 7 too, which does not give us theirs_[1]'s bucket (unless it
  // shares theirs_[0]'s).
  r = get.get();
  EXPECT_EQ(r.table_version(), 7u);
  EXPECT_EQ(r.code(), BucketOf(theirs_[1], kBuckets) == BucketOf(theirs_[0], kBuckets)
                          ? proto::NOT_FOUND
                          : proto::WRONG_OWNER);
  EXPECT_EQ(handler_->counters().held_expired, 0u);
}

TEST_P(RequestHandlerHoldTest, WriteToAFencedBucketWaitsForTheFence) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  const uint32_t b = BucketOf(mine_[0], kBuckets);
  storage_->Fence(b);
  std::future<proto::Response> put = CallAsync(PutRequest(mine_[0], "v1"));
  ASSERT_TRUE(WaitForCounters([](const auto& c) { return c.held_fenced == 1; }));
  // Reads are not fenced, nor are other buckets.
  EXPECT_EQ(Call(GetRequest(mine_[0])).code(), proto::NOT_FOUND);
  for (const std::string& k : mine_) {
    if (BucketOf(k, kBuckets) != b) {
      EXPECT_EQ(Put(k, "x").code(), proto::OK);
    }
  }
  EXPECT_FALSE(Answered(put));
  EXPECT_FALSE(Stored(mine_[0]));
  // The fence lifts without a flip (say, the attempt failed): the write is applied.
  storage_->Unfence(b);
  proto::Response r = put.get();
  EXPECT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_TRUE(Stored(mine_[0]));
}

TEST_P(RequestHandlerHoldTest, WriteHeldOverAFlipIsRefusedWithTheNewTable) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  const uint32_t b = BucketOf(mine_[1], kBuckets);
  storage_->Fence(b);
  std::future<proto::Response> put = CallAsync(PutRequest(mine_[1], "v1", 5));
  ASSERT_TRUE(WaitForCounters([](const auto& c) { return c.held_fenced == 1; }));
  // The migration's order: the flipped table is installed, then the fence lifts.
  ASSERT_TRUE(handler_->SetTable(TableWith(6, mine_[1], /*away=*/true)));
  EXPECT_FALSE(Answered(put));
  storage_->Unfence(b);
  proto::Response r = put.get();
  EXPECT_EQ(r.code(), proto::WRONG_OWNER);
  EXPECT_EQ(r.table_version(), 6u);
  EXPECT_FALSE(Stored(mine_[1]));
}

TEST_P(RequestHandlerHoldTest, StopAcceptingAnswersHeldCalls) {
  ASSERT_TRUE(handler_->SetTable(MakeTable(5)));
  storage_->Fence(BucketOf(mine_[0], kBuckets));
  std::future<proto::Response> put = CallAsync(PutRequest(mine_[0], "v"));
  std::future<proto::Response> get = CallAsync(GetRequest(theirs_[0], 8));
  ASSERT_TRUE(WaitForCounters(
      [](const auto& c) { return c.held_fenced == 1 && c.held_for_table == 1; }));
  handler_->StopAccepting();
  // Run once more as they are: still fenced, still not ours.
  EXPECT_EQ(put.get().code(), proto::UNAVAILABLE);
  EXPECT_EQ(get.get().code(), proto::WRONG_OWNER);
  EXPECT_FALSE(Stored(mine_[0]));
  storage_->Unfence(BucketOf(mine_[0], kBuckets));
}

auto WriteModeName = [](const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "Inline" : "Pool";
};
INSTANTIATE_TEST_SUITE_P(WriteMode, RequestHandlerTest, ::testing::Values(true, false),
                         WriteModeName);
INSTANTIATE_TEST_SUITE_P(WriteMode, RequestHandlerHoldTest, ::testing::Values(true, false),
                         WriteModeName);

}  // namespace
}  // namespace tessera::ds
