// RequestHandler behind a real RpcServer on 127.0.0.1 (port 0), driven through an
// RpcChannel, with hand-made tables: ownership (wrong owner refused and not applied,
// no table yet), limits, table versions in responses, newer-table notification.
// Runs with writes inline and on the write pool.
#include "dataserver/request_handler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
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
    handler_ = std::make_unique<RequestHandler>(
        ho, storage_.get(), [this](uint64_t v) { newer_seen_.store(v); });
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
  std::atomic<uint64_t> newer_seen_{0};
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

INSTANTIATE_TEST_SUITE_P(WriteMode, RequestHandlerTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Inline" : "Pool";
                         });

}  // namespace
}  // namespace tessera::ds
