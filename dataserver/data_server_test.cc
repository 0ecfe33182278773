// DataServer end to end against a fake config server (a tiny RpcService answering
// heartbeats with a table that gives every bucket to the heartbeating server): the
// table and quotas arrive by heartbeat, heartbeats carry stats, a request with a
// newer table version makes the server fetch at once, data survives a restart.
#include "dataserver/data_server.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/io_thread.h"
#include "common/rpc_channel.h"
#include "common/rpc_server.h"
#include "common/thread_name.h"
#include "common/thread_policy.h"
#include "dataserver/heartbeat_client.h"

namespace tessera::ds {
namespace {

// Answers heartbeats with version_ of a table (every bucket to the sender, or to
// another server below version mine_from_) and area 7 limited to 50 bytes, when newer
// than the sender's.
class FakeConfigServer : public RpcService {
 public:
  void Handle(std::unique_ptr<ServerCall> call) override {
    proto::Response resp;
    if (!call->request().has_heartbeat()) {
      call->ReplyError(Status::InvalidArgument("heartbeats only"), 0);
      return;
    }
    const proto::HeartbeatRequest& hb = call->request().heartbeat();
    std::lock_guard<std::mutex> l(mu_);
    ++heartbeats_;
    last_ = hb;
    resp.set_table_version(version_);
    resp.mutable_heartbeat();
    if (version_ > hb.table_version()) {
      proto::Table* t = resp.mutable_heartbeat()->mutable_table();
      t->set_version(version_);
      t->set_bucket_count(16);
      t->set_copy_count(1);
      t->add_servers()->set_address(hb.address());
      t->add_servers()->set_address("127.0.0.1:1");
      for (int b = 0; b < 16; ++b) t->add_owners(version_ >= mine_from_ ? 0 : 1);
      proto::AreaQuota* q = t->add_area_quotas();
      q->set_area(7);
      q->set_quota_bytes(50);
    }
    call->Reply(&resp);
  }
  void set_version(uint64_t v) {
    std::lock_guard<std::mutex> l(mu_);
    version_ = v;
  }
  void set_mine_from(uint64_t v) {
    std::lock_guard<std::mutex> l(mu_);
    mine_from_ = v;
  }
  int heartbeats() {
    std::lock_guard<std::mutex> l(mu_);
    return heartbeats_;
  }
  proto::HeartbeatRequest last() {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }

 private:
  std::mutex mu_;
  uint64_t version_ = 3;
  uint64_t mine_from_ = 0;
  int heartbeats_ = 0;
  proto::HeartbeatRequest last_;
};

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class DataServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ds_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    RpcServerOptions ro;
    cs_server_ = std::make_unique<RpcServer>(ro, &cs_);
    ASSERT_TRUE(cs_server_->Start().ok());
  }
  void TearDown() override {
    channel_.reset();
    if (ds_) ds_->Stop();
    ds_.reset();
    cs_server_->Stop();
    std::filesystem::remove_all(dir_);
  }
  // DataServerOptions::request_slice_us and hold_for_table_ms of the next StartDataServer.
  uint32_t request_slice_us_ = 0;
  uint32_t hold_for_table_ms_ = 100;
  // migrate_idle: --migrate_sched_idle, --migrate_apply_idle and --migrate_ingest_idle.
  void StartDataServer(uint32_t heartbeat_ms, bool migrate_idle = false) {
    DataServerOptions o;
    o.migrate_sched_idle = migrate_idle;
    o.migrate_io_idle = migrate_idle;
    o.migrate_apply_idle = migrate_idle;
    o.migrate_ingest_idle = migrate_idle;
    o.request_slice_us = request_slice_us_;
    o.hold_for_table_ms = hold_for_table_ms_;
    o.listen = "127.0.0.1:0";
    // An unreachable config server first: heartbeats move on to the next one.
    o.config_servers = {HostPort{"127.0.0.1", 1}, HostPort{"127.0.0.1", cs_server_->port()}};
    o.data_dir = dir_.string();
    o.heartbeat_interval_ms = heartbeat_ms;
    o.write_buffer_bytes = 1 << 20;
    ds_ = std::make_unique<DataServer>(o);
    Status s = ds_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    channel_ = std::make_unique<RpcChannel>(io_.io(), HostPort{"127.0.0.1", ds_->port()});
  }
  proto::Response Call(proto::Request req) {
    proto::Response resp;
    Status s = channel_->CallSync(&req, 5000, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  proto::Response Put(uint32_t area, const std::string& key, const std::string& value) {
    proto::Request req;
    req.mutable_put()->set_area(area);
    req.mutable_put()->set_key(key);
    req.mutable_put()->set_value(value);
    return Call(req);
  }

  std::filesystem::path dir_;
  FakeConfigServer cs_;
  std::unique_ptr<RpcServer> cs_server_;
  std::unique_ptr<DataServer> ds_;
  IoThread io_;
  std::unique_ptr<RpcChannel> channel_;
};

TEST_F(DataServerTest, LearnsTableAndQuotasByHeartbeat) {
  ASSERT_NO_FATAL_FAILURE(StartDataServer(50));
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 3; }, std::chrono::seconds(10)));
  proto::Response r = Put(1, "hello", "world");
  ASSERT_EQ(r.code(), proto::OK) << r.message();
  EXPECT_EQ(r.table_version(), 3u);
  // Area 7's quota came with the table.
  EXPECT_EQ(Put(7, "a", std::string(40, 'x')).code(), proto::OK);
  EXPECT_EQ(Put(7, "b", std::string(40, 'x')).code(), proto::QUOTA_EXCEEDED);

  // Heartbeats carry the address, the version served and per-area stats.
  ASSERT_TRUE(WaitFor(
      [&] {
        proto::HeartbeatRequest hb = cs_.last();
        // The 3 puts (one refused) are counted before the stats are built: a
        // heartbeat built between the second and third has puts() == 2.
        if (hb.stats().puts() < 3) return false;
        for (const proto::AreaStats& a : hb.stats().areas()) {
          if (a.area() == 7 && a.keys() == 1 && a.bytes() == 41) return true;
        }
        return false;
      },
      std::chrono::seconds(10)));
  proto::HeartbeatRequest hb = cs_.last();
  EXPECT_EQ(hb.address(), ds_->address());
  EXPECT_EQ(hb.table_version(), 3u);
  EXPECT_TRUE(hb.ready());
  EXPECT_GE(hb.stats().puts(), 3u);
}

// Heartbeats count the node's table files and the tables its reads opened:
// 1.5 MiB of puts fill the 1 MiB memtable, whose flush makes a table, and a
// read of a key now in that table opens it (or found it opened by the flush).
TEST_F(DataServerTest, HeartbeatsCountTablesAndTableOpens) {
  ASSERT_NO_FATAL_FAILURE(StartDataServer(50));
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 3; }, std::chrono::seconds(10)));
  EXPECT_EQ(ds_->Stats().table_files(), 0u);
  for (int i = 0; i < 96; ++i) {
    ASSERT_EQ(Put(1, "key" + std::to_string(i), std::string(16 << 10, 'v')).code(), proto::OK);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        const proto::ServerStats st = cs_.last().stats();
        return st.table_files() >= 1;
      },
      std::chrono::seconds(10)));
  proto::Request req;
  req.mutable_get()->set_area(1);
  req.mutable_get()->set_key("key0");
  EXPECT_EQ(Call(req).code(), proto::OK);
  ASSERT_TRUE(WaitFor([&] { return cs_.last().stats().table_opens() >= 1; },
                      std::chrono::seconds(10)));
}

TEST_F(DataServerTest, NewerVersionInRequestFetchesAtOnce) {
  // Heartbeats every 60 s: only the first one (at start) and fetches come early.
  ASSERT_NO_FATAL_FAILURE(StartDataServer(60000));
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 3; }, std::chrono::seconds(10)));
  // A request stamped with version 4 is answered with the table the node has (3)
  // and makes it ask the config server at once (a heartbeat long before the next
  // period). The config server still has 3 here, so the answer cannot race the fetch.
  const int beats = cs_.heartbeats();
  proto::Request req;
  req.set_table_version(4);
  req.mutable_get()->set_key("k");
  EXPECT_EQ(Call(req).table_version(), 3u);
  ASSERT_TRUE(WaitFor([&] { return cs_.heartbeats() > beats; }, std::chrono::seconds(10)));
  // Once the config server has 4, the next such request brings it in (its own
  // answer may carry 3 or 4: that one races the fetch).
  cs_.set_version(4);
  EXPECT_EQ(Call(req).code(), proto::NOT_FOUND);
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 4; }, std::chrono::seconds(10)));
}

// A request stamped with a newer table, for a bucket the node's table gives another
// server, is held while the node fetches that table, then served under it (not
// refused WRONG_OWNER as it would be without the hold).
TEST_F(DataServerTest, RequestForANewerTableIsServedOnceFetched) {
  cs_.set_mine_from(4);  // table 3 gives every bucket to another server, 4 to the node
  hold_for_table_ms_ = 60000;  // only the fetch releases the request
  ASSERT_NO_FATAL_FAILURE(StartDataServer(60000));
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 3; }, std::chrono::seconds(10)));
  proto::Request req;
  req.mutable_get()->set_key("k");
  req.set_table_version(3);
  EXPECT_EQ(Call(req).code(), proto::WRONG_OWNER);
  cs_.set_version(4);  // the node learns it only by a fetch (heartbeats every 60 s)
  req.set_table_version(4);
  proto::Response r = Call(req);
  EXPECT_EQ(r.code(), proto::NOT_FOUND) << r.message();
  EXPECT_EQ(r.table_version(), 4u);
  EXPECT_EQ(ds_->table_version(), 4u);
}

TEST_F(DataServerTest, RestartKeepsData) {
  ASSERT_NO_FATAL_FAILURE(StartDataServer(50));
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 3; }, std::chrono::seconds(10)));
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Put(2, std::string("k").append(std::to_string(i)), std::string("v").append(std::to_string(i))).code(), proto::OK);
  }
  channel_.reset();
  ds_->Stop();
  ASSERT_NO_FATAL_FAILURE(StartDataServer(50));
  ASSERT_TRUE(WaitFor([&] { return ds_->table_version() == 3; }, std::chrono::seconds(10)));
  for (int i = 0; i < 100; i += 7) {
    proto::Request req;
    req.mutable_get()->set_area(2);
    req.mutable_get()->set_key("k" + std::to_string(i));
    proto::Response r = Call(req);
    ASSERT_EQ(r.code(), proto::OK) << r.message();
    EXPECT_EQ(r.get().value(), "v" + std::to_string(i));
  }
  bool found = false;
  for (const AreaStat& a : ds_->storage()->AreaStats()) {
    if (a.area == 2) {
      found = true;
      EXPECT_EQ(a.keys, 100u);
    }
  }
  EXPECT_TRUE(found);
}

// The scheduling policy (sched_getscheduler) of each of this process's threads named
// `name`; empty when there is none yet.
std::vector<int> PoliciesOfThreads(const std::string& name) {
  std::vector<int> policies;
  for (int tid : ThreadIdsNamed("/proc/self", name)) policies.push_back(::sched_getscheduler(tid));
  return policies;
}

// The time slice (tessera::ThreadSliceMicros) of each of this process's threads
// named `name`.
std::vector<uint32_t> SlicesOfThreads(const std::string& name) {
  std::vector<uint32_t> slices;
  for (int tid : ThreadIdsNamed("/proc/self", name)) slices.push_back(ThreadSliceMicros(tid));
  return slices;
}

// With DataServerOptions::request_slice_us set, the data server's request threads
// run with that slice (on kernels that have per-thread slices, Linux 6.12+); its
// migration threads, and the io thread of the fixture's config server (an RpcServer
// with default options), keep the kernel's.
TEST_F(DataServerTest, RequestThreadsGetAShortSlice) {
  request_slice_us_ = 100;
  ASSERT_NO_FATAL_FAILURE(StartDataServer(50));
  const size_t ds_io_threads = DataServerOptions().io_threads;
  ASSERT_TRUE(WaitFor([&] { return SlicesOfThreads("rpc-io").size() == ds_io_threads + 1; },
                      std::chrono::seconds(10)));
  const uint32_t own = ThreadSliceMicros();
  if (own == 0) {
    // No per-thread slices on this kernel: nothing reports one.
    for (uint32_t s : SlicesOfThreads("rpc-io")) EXPECT_EQ(s, 0u);
    return;
  }
  ASSERT_NE(own, 100u);
  // A thread names itself before it sets its slice: wait for the slice too.
  EXPECT_TRUE(WaitFor(
      [&] {
        size_t short_slices = 0;
        for (uint32_t s : SlicesOfThreads("rpc-io")) short_slices += s == 100;
        return short_slices == ds_io_threads;
      },
      std::chrono::seconds(10)));
  for (uint32_t s : SlicesOfThreads("rpc-io")) EXPECT_TRUE(s == 100 || s == own) << s;
  for (const char* name : {"mig-send", "mig-apply"}) {
    for (uint32_t s : SlicesOfThreads(name)) EXPECT_EQ(s, own) << name;
  }
}

// --migrate_sched_idle puts the threads that scan migrating buckets in SCHED_IDLE,
// --migrate_io_idle the io thread of their channels, --migrate_apply_idle those that
// apply incoming batches, --migrate_ingest_idle starts builders of ingested tables
// there. The workers that fence and report stay in the normal class, as do the io
// thread of the reports and the request threads.
TEST_F(DataServerTest, MigrationThreadsRunIdleWhenAsked) {
  for (const bool idle : {false, true}) {
    SCOPED_TRACE(idle ? "idle" : "default");
    ASSERT_NO_FATAL_FAILURE(StartDataServer(50, idle));
    // Threads name themselves once they run.
    ASSERT_TRUE(WaitFor(
        [&] {
          for (const char* name :
               {"mig-scan", "mig-send", "mig-apply", "mig-io", "mig-report-io", "rpc-io"}) {
            if (PoliciesOfThreads(name).empty()) return false;
          }
          return true;
        },
        std::chrono::seconds(10)));
    // A thread names itself before it changes class: wait for the class too.
    const int want = idle ? SCHED_IDLE : SCHED_OTHER;
    for (const char* name : {"mig-scan", "mig-apply", "mig-io"}) {
      EXPECT_TRUE(WaitFor(
          [&] {
            for (int p : PoliciesOfThreads(name)) {
              if (p != want) return false;
            }
            return true;
          },
          std::chrono::seconds(10)))
          << name;
    }
    for (const char* name : {"mig-send", "mig-report-io", "rpc-io"}) {
      for (int p : PoliciesOfThreads(name)) EXPECT_EQ(p, SCHED_OTHER) << name;
    }
    // Builders start with the storage, before the server serves.
    const std::vector<int> builders = PoliciesOfThreads("mig-build");
    if (idle) {
      EXPECT_TRUE(WaitFor(
          [&] {
            const std::vector<int> now = PoliciesOfThreads("mig-build");
            return now.size() == 1 && now[0] == SCHED_IDLE;
          },
          std::chrono::seconds(10)));
    } else {
      EXPECT_TRUE(builders.empty());
    }
    channel_.reset();
    ds_->Stop();
    ds_.reset();
  }
}

}  // namespace
}  // namespace tessera::ds
