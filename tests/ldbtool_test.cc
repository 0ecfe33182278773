// ldbtool against DBs built in the data server's layout (GC registry, BitcmpComparator,
// expire bloom policy; keys through comparators' key codec): runs the binary with
// popen and checks its output and exit status.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/bucket_hash.h"
#include "common/proto/cluster.pb.h"
#include "comparators/bitcmp_comparator.h"
#include "comparators/expire_bloom_policy.h"
#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "ldb/util/crc32c.h"

namespace {

namespace cmp = tessera::comparators;
namespace fs = std::filesystem;

constexpr uint32_t kBucketCount = 16;
constexpr int kLiveKeys = 240;
constexpr int kExpiredKeys = 12;
constexpr size_t kValueBytes = 300;

struct Result {
  int code = -1;  // exit status; -1 when killed by a signal
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// One key of the test DB.
struct Key {
  std::string user_key;
  uint32_t bucket;
  uint16_t area;
  uint32_t expire;
};

// The data server's open: registry, comparator, bloom policy, DB.
class OpenDb {
 public:
  explicit OpenDb(const std::string& dir) {
    ldb::Env* env = ldb::Env::Default();
    EXPECT_TRUE(cmp::GcRegistry::Open(env, dir, &registry_).ok());
    comparator_ = std::make_unique<cmp::BitcmpComparator>(registry_.get());
    filter_ = cmp::NewExpireBloomFilterPolicy(10);
    ldb::Options o;
    o.create_if_missing = true;
    o.comparator = comparator_.get();
    o.filter_policy = filter_.get();
    status_ = ldb::DB::Open(o, dir, &db_);
  }
  ldb::DB* db() { return db_.get(); }
  cmp::GcRegistry* registry() { return registry_.get(); }
  const ldb::Status& status() const { return status_; }

 private:
  std::unique_ptr<cmp::GcRegistry> registry_;
  std::unique_ptr<cmp::BitcmpComparator> comparator_;
  std::unique_ptr<const ldb::FilterPolicy> filter_;
  std::unique_ptr<ldb::DB> db_;
  ldb::Status status_;
};

class LdbtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ldbtool_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/db";
    now_ = static_cast<uint32_t>(ldb::Env::Default()->NowSeconds());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Writes kLiveKeys live keys (some with a future TTL) and kExpiredKeys expired
  // ones, plus `extra`, compacts them into table files and closes the DB.
  void BuildDb(const std::vector<Key>& extra = {}) {
    for (int i = 0; i < kLiveKeys; ++i) {
      const std::string k = "key-" + std::to_string(i);
      keys_.push_back({k, tessera::BucketOf(k, kBucketCount), static_cast<uint16_t>(i % 2),
                       i % 10 == 0 ? now_ + 3600 : cmp::kNeverExpire});
    }
    for (int i = 0; i < kExpiredKeys; ++i) {
      const std::string k = "gone-" + std::to_string(i);
      keys_.push_back({k, tessera::BucketOf(k, kBucketCount), 0, now_ - 100});
    }
    for (const Key& k : extra) keys_.push_back(k);
    OpenDb odb(dir_);
    ASSERT_TRUE(odb.status().ok()) << odb.status().ToString();
    std::mt19937 rng(20240517);
    for (const Key& k : keys_) {
      cmp::ValueMeta meta;
      meta.version = 3;
      meta.created = meta.modified = now_ - 200;
      meta.expire = k.expire;
      // Incompressible (snappy), so that purging frees disk bytes; fixed seed.
      std::string value(kValueBytes, '\0');
      for (char& c : value) c = static_cast<char>(' ' + rng() % 95);
      ASSERT_TRUE(odb.db()
                      ->Put(ldb::WriteOptions(),
                            cmp::EncodeStoredKey(k.expire, k.bucket, k.area, k.user_key),
                            cmp::EncodeStoredValue(meta, value))
                      .ok());
    }
    odb.db()->CompactRange(nullptr, nullptr);
  }

  bool Live(const Key& k) const { return k.expire == 0 || k.expire > now_; }
  std::map<uint32_t, int> LivePerBucket() const {
    std::map<uint32_t, int> m;
    for (const Key& k : keys_) {
      if (Live(k)) ++m[k.bucket];
    }
    return m;
  }

  Result Run(const std::string& args) const {
    const std::string err_path = root_ + "/stderr";
    const std::string cmd = std::string(LDBTOOL_BIN) + " " + args + " 2>" + err_path;
    Result r;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = ReadFile(err_path);
    return r;
  }
  std::string Db() const { return "--db " + dir_; }

  // Dump lines by bucket.
  std::map<uint32_t, int> DumpPerBucket() const {
    std::map<uint32_t, int> m;
    const Result r = Run("dump " + Db());
    EXPECT_EQ(r.code, 0) << r.err;
    for (const std::string& line : Lines(r.out)) {
      EXPECT_EQ(line.rfind("bucket=", 0), 0u) << line;
      ++m[static_cast<uint32_t>(std::stoul(line.substr(7)))];
    }
    return m;
  }

  std::string root_;
  std::string dir_;
  uint32_t now_ = 0;
  std::vector<Key> keys_;
};

// ---- The data server's remembered table (DIR/BUCKET_TABLE), written here from its
// documented layout (dataserver/table_file.h), independently of the data server.

constexpr const char* kSelf = "127.0.0.1:7001";
constexpr const char* kOther = "127.0.0.1:7002";

std::string Fixed32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

std::string TableFileBytes(const std::string& self, const tessera::proto::Table& table) {
  const std::string payload =
      Fixed32(static_cast<uint32_t>(self.size())) + self + table.SerializeAsString();
  return std::string("TSTABLE1") + Fixed32(static_cast<uint32_t>(payload.size())) +
         Fixed32(ldb::crc32c::Mask(ldb::crc32c::Value(payload.data(), payload.size()))) +
         payload;
}

// A table of kBucketCount buckets over kSelf and kOther: `holder(b)` gives the copies
// of bucket b (indexes: 0 = kSelf, 1 = kOther), master first.
tessera::proto::Table MakeTable(uint64_t version, uint32_t copy_count,
                                const std::function<std::vector<uint32_t>(uint32_t)>& holder) {
  tessera::proto::Table t;
  t.set_version(version);
  t.set_bucket_count(kBucketCount);
  t.set_copy_count(copy_count);
  t.set_cluster_name("test");
  for (const char* a : {kSelf, kOther}) {
    auto* s = t.add_servers();
    s->set_address(a);
    s->set_state(tessera::proto::SERVER_UP);
  }
  for (uint32_t b = 0; b < kBucketCount; ++b) {
    for (uint32_t c : holder(b)) t.add_owners(c);
  }
  return t;
}

void WriteTableFile(const std::string& dir, const std::string& bytes) {
  std::ofstream(dir + "/BUCKET_TABLE", std::ios::binary | std::ios::trunc) << bytes;
}

uint64_t NumberAfter(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return ~uint64_t{0};
  return std::stoull(text.substr(at + prefix.size()));
}

TEST_F(LdbtoolTest, HelpListsCommands) {
  const Result r = Run("help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"dump", "stats", "check-buckets", "compact-self-level"}) {
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
  }
  EXPECT_EQ(Run("help dump").code, 0);
}

TEST_F(LdbtoolTest, DumpShowsLiveKeysAndHidesExpired) {
  BuildDb();
  const Result r = Run("dump " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), static_cast<size_t>(kLiveKeys));
  EXPECT_NE(r.out.find("key=\"key-7\" version=3 expire=never size=300 value=\""),
            std::string::npos);
  EXPECT_NE(r.out.find("key=\"key-10\" version=3 expire=" + std::to_string(now_ + 3600)),
            std::string::npos);
  EXPECT_EQ(r.out.find("gone-"), std::string::npos);

  const Result all = Run("dump --all " + Db());
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(Lines(all.out).size(), static_cast<size_t>(kLiveKeys + kExpiredKeys));
  size_t expired = 0;
  for (const std::string& line : Lines(all.out)) {
    if (line.find("gone-") != std::string::npos) {
      EXPECT_NE(line.find("[expired]"), std::string::npos) << line;
      ++expired;
    }
  }
  EXPECT_EQ(expired, static_cast<size_t>(kExpiredKeys));

  const Result hex = Run("dump --hex --limit 5 " + Db());
  ASSERT_EQ(hex.code, 0) << hex.err;
  EXPECT_EQ(Lines(hex.out).size(), 5u);
  EXPECT_NE(hex.out.find("key=hex:6b65792d"), std::string::npos);  // "key-"
}

TEST_F(LdbtoolTest, DumpFiltersByBucketAndArea) {
  BuildDb();
  const auto per_bucket = LivePerBucket();
  for (const auto& [bucket, count] : per_bucket) {
    const Result r = Run("dump --bucket " + std::to_string(bucket) + " " + Db());
    ASSERT_EQ(r.code, 0) << r.err;
    const auto lines = Lines(r.out);
    EXPECT_EQ(lines.size(), static_cast<size_t>(count)) << "bucket " << bucket;
    for (const std::string& line : lines) {
      EXPECT_EQ(line.rfind("bucket=" + std::to_string(bucket) + " ", 0), 0u) << line;
    }
  }
  const Result r = Run("dump --area 1 " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), static_cast<size_t>(kLiveKeys / 2));
  for (const std::string& line : Lines(r.out)) {
    EXPECT_NE(line.find(" area=1 "), std::string::npos) << line;
  }
}

TEST_F(LdbtoolTest, DumpAllMarksReclaimedKeys) {
  BuildDb();
  const uint32_t bucket = keys_.front().bucket;
  {
    OpenDb odb(dir_);
    ASSERT_TRUE(odb.status().ok());
    std::string seq;
    ASSERT_TRUE(odb.db()->GetProperty("ldb.sequence", &seq));
    cmp::GcEntry e;
    e.kind = cmp::GcKind::kBucket;
    e.bucket = bucket;
    e.sequence = std::stoull(seq);
    e.file_number = 1000;
    ASSERT_TRUE(odb.registry()->Add(e).ok());
  }
  const int in_bucket = LivePerBucket()[bucket];
  const Result live = Run("dump --bucket " + std::to_string(bucket) + " " + Db());
  ASSERT_EQ(live.code, 0) << live.err;
  EXPECT_EQ(live.out, "");
  const Result all = Run("dump --all --bucket " + std::to_string(bucket) + " " + Db());
  ASSERT_EQ(all.code, 0) << all.err;
  int reclaimed = 0;
  for (const std::string& line : Lines(all.out)) {
    if (line.find("[reclaimed]") != std::string::npos) ++reclaimed;
  }
  EXPECT_EQ(reclaimed, in_bucket) << all.out;
  EXPECT_EQ(Lines(Run("dump " + Db()).out).size(), static_cast<size_t>(kLiveKeys - in_bucket));
}

TEST_F(LdbtoolTest, StatsReportsKeysPerBucket) {
  BuildDb();
  const Result r = Run("stats --json --top 0 " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& [bucket, count] : LivePerBucket()) {
    EXPECT_NE(r.out.find("{\"bucket\":" + std::to_string(bucket) + ",\"keys\":" +
                         std::to_string(count) + ","),
              std::string::npos)
        << "bucket " << bucket << " in " << r.out;
  }
  EXPECT_NE(r.out.find("\"keys\":" + std::to_string(kLiveKeys) + ","), std::string::npos);
  EXPECT_NE(r.out.find("{\"area\":1,\"keys\":" + std::to_string(kLiveKeys / 2) + ","),
            std::string::npos);
  EXPECT_NE(r.out.find("\"bucket_spread\":{\"min\":"), std::string::npos);

  const Result text = Run("stats " + Db());
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("live keys: " + std::to_string(kLiveKeys) + " in "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("bucket spread per file"), std::string::npos);
}

TEST_F(LdbtoolTest, CheckBucketsPassesForTheRightList) {
  BuildDb();
  const Result r = Run("check-buckets --bucket_count 16 --buckets 0-15 " + Db());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK: every key is in place"), std::string::npos);

  // Buckets 8-15 are not held: their keys are reported.
  const Result half = Run("check-buckets --bucket_count 16 --buckets 0-7 " + Db());
  EXPECT_EQ(half.code, 1) << half.out << half.err;
  for (const Key& k : keys_) {
    if (Live(k) && k.bucket >= 8) {
      EXPECT_NE(half.out.find("key=\"" + k.user_key + "\" (bucket " +
                              std::to_string(k.bucket) + " is not held"),
                std::string::npos)
          << k.user_key;
      break;
    }
  }
}

TEST_F(LdbtoolTest, CheckBucketsNamesAKeyInTheWrongBucket) {
  const uint32_t right = tessera::BucketOf("stray", kBucketCount);
  BuildDb({{"stray", (right + 1) % kBucketCount, 0, cmp::kNeverExpire}});
  const Result r = Run("check-buckets --bucket_count 16 --buckets 0-15 " + Db());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("key=\"stray\" (key hashes to bucket " + std::to_string(right) + ")"),
            std::string::npos)
      << r.out;
}

TEST_F(LdbtoolTest, CompactSelfLevelWithoutYesChangesNothing) {
  BuildDb();
  const auto before = DumpPerBucket();
  const Result r = Run("compact-self-level --buckets 2-3,7 " + Db());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("dry run"), std::string::npos) << r.out;
  uint64_t keys = 0;
  for (uint32_t b : {2u, 3u, 7u}) keys += LivePerBucket()[b];
  EXPECT_NE(r.out.find("these buckets: " + std::to_string(keys) + " live keys"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(DumpPerBucket(), before);
}

TEST_F(LdbtoolTest, CompactSelfLevelPurgesExactlyThoseBuckets) {
  BuildDb();
  const auto before = DumpPerBucket();
  const Result r = Run("compact-self-level --yes --buckets 2-3,7 " + Db());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const uint64_t disk_before = NumberAfter(r.out, "before: ");
  const uint64_t disk_after = NumberAfter(r.out, "after: ");
  EXPECT_LT(disk_after, disk_before) << r.out;
  EXPECT_NE(r.out.find("after: " + std::to_string(disk_after) +
                       " bytes in table files; these buckets: 0 live keys, 0 bytes"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("freed: "), std::string::npos);

  auto expected = before;
  expected.erase(2);
  expected.erase(3);
  expected.erase(7);
  EXPECT_EQ(DumpPerBucket(), expected);
  // Nothing hidden is left either, and the GC entries are retired.
  const Result all = Run("dump --all --bucket 2 " + Db());
  EXPECT_EQ(all.code, 0);
  EXPECT_EQ(all.out, "");
  OpenDb odb(dir_);
  ASSERT_TRUE(odb.status().ok());
  EXPECT_EQ(odb.registry()->size(), 0u);
}

TEST_F(LdbtoolTest, BadArgumentsExitTwo) {
  BuildDb();
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "usage"},
      {"frobnicate " + Db(), "unknown command"},
      {"dump", "--db DIR is required"},
      {"dump --bogus 1 " + Db(), "unknown flag --bogus"},
      {"dump --bucket x " + Db(), "bad value 'x' for --bucket"},
      {"dump --yes " + Db(), "unknown flag --yes for dump"},
      {"dump " + Db() + " stray", "unexpected argument 'stray'"},
      {"dump --bucket", "--bucket needs a value"},
      {"check-buckets --buckets 0-3 " + Db(), "--bucket_count N is required"},
      {"check-buckets --bucket_count 16 --buckets 5-2 " + Db(), "reversed range"},
      {"check-buckets --bucket_count 16 --buckets 0-16 " + Db(), "below 16"},
      {"compact-self-level --buckets 1,,2 " + Db(), "bad bucket list item"},
      {"compact-self-level " + Db(), "--buckets LIST is required"},
  };
  for (const Case& c : cases) {
    const Result r = Run(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
  }
}

TEST_F(LdbtoolTest, NotADbIsAnError) {
  fs::create_directories(root_ + "/empty");
  Result r = Run("dump --db " + root_ + "/empty");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is not an ldb DB"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(root_ + "/empty"));  // nothing created
  r = Run("stats --db " + root_ + "/missing");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
}

TEST_F(LdbtoolTest, ADbInUseIsReported) {
  BuildDb();
  OpenDb held(dir_);  // the "running data server"
  ASSERT_TRUE(held.status().ok());
  for (const char* cmd : {"dump ", "stats ", "compact-self-level --yes --buckets 1 "}) {
    const Result r = Run(std::string(cmd) + Db());
    EXPECT_EQ(r.code, 1) << cmd;
    EXPECT_NE(r.err.find(dir_ + " is in use (is the data server running?)"), std::string::npos)
        << cmd << ": " << r.err;
  }
}

TEST_F(LdbtoolTest, ACorruptTableIsAnErrorNotACrash) {
  BuildDb();
  int corrupted = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() != ".ldb") continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    const std::string junk(512, '\x5a');
    f.seekp(100);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    ++corrupted;
  }
  ASSERT_GT(corrupted, 0);
  for (const char* cmd :
       {"dump ", "stats ", "check-buckets --bucket_count 16 --buckets 0-15 "}) {
    const Result r = Run(std::string(cmd) + Db());
    EXPECT_EQ(r.code, 1) << cmd << ": " << r.out;
    EXPECT_NE(r.err.find("orrupt"), std::string::npos) << cmd << ": " << r.err;
  }
}

TEST_F(LdbtoolTest, CheckBucketsWithoutAListUsesTheRememberedTable) {
  BuildDb();
  WriteTableFile(dir_, TableFileBytes(kSelf, MakeTable(7, 1, [](uint32_t) {
                                        return std::vector<uint32_t>{0};
                                      })));
  Result r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("held: 16 buckets (0-15) by node 127.0.0.1:7001 in table version 7 "
                       "remembered in " + dir_ + "/BUCKET_TABLE; bucket_count 16"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("OK: every key is in place"), std::string::npos);

  // Version 8 gives buckets 8-15 to the other node: their keys are misplaced here.
  WriteTableFile(dir_, TableFileBytes(kSelf, MakeTable(8, 1, [](uint32_t b) {
                                        return std::vector<uint32_t>{b < 8 ? 0u : 1u};
                                      })));
  r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("held: 8 buckets (0-7) by node 127.0.0.1:7001 in table version 8"),
            std::string::npos)
      << r.out;
  uint64_t not_held = 0;
  for (const Key& k : keys_) not_held += Live(k) && k.bucket >= 8 ? 1 : 0;
  EXPECT_NE(r.out.find(std::to_string(not_held) + " in buckets not held"), std::string::npos)
      << r.out;
  // The file names the identity: the same table read as the other node's.
  WriteTableFile(dir_, TableFileBytes(kOther, MakeTable(8, 1, [](uint32_t b) {
                                        return std::vector<uint32_t>{b < 8 ? 0u : 1u};
                                      })));
  r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("held: 8 buckets (8-15) by node 127.0.0.1:7002"), std::string::npos)
      << r.out;
}

TEST_F(LdbtoolTest, CheckBucketsCountsReplicasAndIncomingBucketsAsHeld) {
  BuildDb();
  // Buckets 8-15: the other node is master, this one the replica.
  WriteTableFile(dir_, TableFileBytes(kSelf, MakeTable(9, 2, [](uint32_t b) {
                                        return b < 8 ? std::vector<uint32_t>{0, 1}
                                                     : std::vector<uint32_t>{1, 0};
                                      })));
  Result r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  // Buckets 8-15 are the other node's, but a migration plans them to this one.
  auto moving = MakeTable(10, 1, [](uint32_t b) { return std::vector<uint32_t>{b < 8 ? 0u : 1u}; });
  for (uint32_t b = 0; b < kBucketCount; ++b) moving.add_destination_owners(0);
  moving.set_migration_id(2);
  WriteTableFile(dir_, TableFileBytes(kSelf, moving));
  r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("buckets planned to this node count as held"), std::string::npos)
      << r.out;
}

TEST_F(LdbtoolTest, CheckBucketsForANodeNotInTheTableFindsEveryKeyMisplaced) {
  BuildDb();
  WriteTableFile(dir_, TableFileBytes("127.0.0.1:7999", MakeTable(4, 1, [](uint32_t) {
                                        return std::vector<uint32_t>{0};
                                      })));
  const Result r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("held: none: node 127.0.0.1:7999 is not in table version 4"),
            std::string::npos)
      << r.out;
}

TEST_F(LdbtoolTest, CheckBucketsWithoutAListOrTableFileSaysWhatToDo) {
  BuildDb();
  const Result r = Run("check-buckets " + Db());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("has no BUCKET_TABLE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--buckets LIST"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(LdbtoolTest, ACorruptTableFileIsAnErrorNotACrash) {
  BuildDb();
  const std::string good = TableFileBytes(kSelf, MakeTable(7, 1, [](uint32_t) {
    return std::vector<uint32_t>{0};
  }));
  std::string flipped = good;
  flipped[good.size() - 3] = static_cast<char>(flipped[good.size() - 3] ^ 1);
  for (const std::string& bytes :
       {std::string(), std::string("TSTABLE1"), std::string(300, 'z'), flipped,
        good.substr(0, good.size() - 1)}) {
    WriteTableFile(dir_, bytes);
    const Result r = Run("check-buckets " + Db());
    EXPECT_EQ(r.code, 1) << bytes.size() << ": " << r.out;
    EXPECT_NE(r.err.find(dir_ + "/BUCKET_TABLE is corrupt"), std::string::npos) << r.err;
  }
  // With an explicit list the table file is not needed (--bucket_count then is).
  Result r = Run("check-buckets --buckets 0-15 " + Db());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--bucket_count N is required"), std::string::npos) << r.err;
  r = Run("check-buckets --bucket_count 16 --buckets 0-15 " + Db());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST_F(LdbtoolTest, CheckBucketsTakesTheBucketCountFromTheTable) {
  BuildDb();
  WriteTableFile(dir_, TableFileBytes(kSelf, MakeTable(7, 1, [](uint32_t) {
                                        return std::vector<uint32_t>{0};
                                      })));
  Result r = Run("check-buckets --buckets 0-15 " + Db());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("from --buckets; bucket_count 16"), std::string::npos) << r.out;
  r = Run("check-buckets --bucket_count 32 " + Db());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--bucket_count 32 differs from the remembered table's 16"),
            std::string::npos)
      << r.err;
}

TEST_F(LdbtoolTest, LdbKeepsTheTableFileThroughCompactions) {
  BuildDb();
  const std::string bytes = TableFileBytes(kSelf, MakeTable(7, 1, [](uint32_t) {
    return std::vector<uint32_t>{0};
  }));
  WriteTableFile(dir_, bytes);
  ASSERT_EQ(Run("compact-self-level --yes --buckets 0-15 " + Db()).code, 0);
  { OpenDb reopened(dir_); }  // ldb's Open removes the files it considers obsolete
  EXPECT_EQ(ReadFile(dir_ + "/BUCKET_TABLE"), bytes);
}

}  // namespace
