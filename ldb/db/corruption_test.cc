// Damaged files: tables with flipped bytes, WALs with damaged tails or
// middles, broken CURRENT / MANIFEST. The DB may refuse to open or return
// Corruption, but it never crashes and never returns a wrong value.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using test::IsOk;
using test::Key;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using FileImage = std::map<std::string, std::string>;  // name -> contents

enum class EnvKind { kPosix, kMem };

class CorruptionTest : public testing::TestWithParam<EnvKind> {
 protected:
  void SetUp() override {
    if (GetParam() == EnvKind::kMem) {
      mem_env_ = NewMemEnv(Env::Default());
      env_ = mem_env_.get();
      dbname_ = "/mem/corruption_test";
    } else {
      env_ = Env::Default();
      dbname_ = test::TempDir("corruption_test");
    }
    options_.env = env_;
    options_.create_if_missing = true;
    DestroyDB(dbname_, options_).IgnoreError();
  }

  void TearDown() override {
    db_.reset();
    DestroyDB(dbname_, options_).IgnoreError();
  }

  Status Open(const Options& o) {
    db_.reset();
    return DB::Open(o, dbname_, &db_);
  }

  std::vector<std::string> Children() {
    std::vector<std::string> names;
    std::vector<std::string> out;
    EXPECT_TRUE(IsOk(env_->GetChildren(dbname_, &names)));
    for (const auto& n : names) {
      if (n != "." && n != "..") out.push_back(n);
    }
    return out;
  }
  std::vector<std::string> FilesEndingWith(const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& n : Children()) {
      if (EndsWith(n, suffix)) out.push_back(n);
    }
    return out;
  }
  // Every file but LOCK (valid while no background work is writing: the
  // image a kill -9 would leave).
  FileImage TakeImage() {
    FileImage image;
    for (const auto& n : Children()) {
      if (n == "LOCK") continue;
      std::string data;
      EXPECT_TRUE(IsOk(ReadFileToString(env_, dbname_ + "/" + n, &data))) << n;
      image[n] = data;
    }
    return image;
  }
  // Makes the directory hold exactly `image` (plus LOCK).
  void RestoreImage(const FileImage& image) {
    db_.reset();
    for (const auto& n : Children()) {
      if (n != "LOCK" && image.count(n) == 0) {
        ASSERT_TRUE(IsOk(env_->RemoveFile(dbname_ + "/" + n))) << n;
      }
    }
    for (const auto& [n, data] : image) {
      ASSERT_TRUE(IsOk(WriteStringToFile(env_, data, dbname_ + "/" + n))) << n;
    }
  }
  void Overwrite(const std::string& name, const std::string& data) {
    ASSERT_TRUE(IsOk(WriteStringToFile(env_, data, dbname_ + "/" + name)));
  }

  std::unique_ptr<Env> mem_env_;
  Env* env_ = nullptr;
  std::string dbname_;
  Options options_;
  std::unique_ptr<DB> db_;
};

// ---------------------------------------------------------------- tables

struct ReadTally {
  int exact = 0;
  int not_found = 0;
  int corruption = 0;
};

// Every Get is exact, NotFound or Corruption; returns the tally.
void CheckGets(DB* db, const std::map<std::string, std::string>& truth,
               bool verify_checksums, ReadTally* tally) {
  ReadOptions ro;
  ro.verify_checksums = verify_checksums;
  for (const auto& [k, v] : truth) {
    std::string got;
    Status s = db->Get(ro, k, &got);
    if (s.ok()) {
      ASSERT_EQ(v, got) << "WRONG VALUE for " << k
                        << (verify_checksums ? " (verify_checksums)" : "");
      tally->exact++;
    } else if (s.IsNotFound()) {
      tally->not_found++;
    } else {
      ASSERT_TRUE(s.IsCorruption()) << k << ": " << s.ToString();
      tally->corruption++;
    }
  }
}

// Iteration yields only true keys with their true values, in order.
void CheckIteration(DB* db, const std::map<std::string, std::string>& truth,
                    bool verify_checksums) {
  ReadOptions ro;
  ro.verify_checksums = verify_checksums;
  std::unique_ptr<Iterator> it = db->NewIterator(ro);
  std::string prev;
  bool first = true;
  int n = 0;
  for (it->SeekToFirst(); it->Valid() && n < 1000000; it->Next(), n++) {
    const std::string k = it->key().ToString();
    auto t = truth.find(k);
    ASSERT_NE(truth.end(), t) << "iterator made up key " << k.substr(0, 40);
    ASSERT_EQ(t->second, it->value().ToString()) << "WRONG VALUE for " << k;
    ASSERT_TRUE(first || prev < k) << "order broken at " << k;
    prev = k;
    first = false;
  }
  // Backward too, from a few seek points.
  for (int i = 0; i < 3; i++) {
    it->Seek(Key(static_cast<int>(truth.size() * i / 3)));
    for (int j = 0; j < 200 && it->Valid(); j++, it->Prev()) {
      auto t = truth.find(it->key().ToString());
      ASSERT_NE(truth.end(), t);
      ASSERT_EQ(t->second, it->value().ToString());
    }
  }
  Status s = it->status();
  EXPECT_TRUE(s.ok() || s.IsCorruption()) << s.ToString();
}

class TableCorruption : public CorruptionTest {
 protected:
  // Many keys in several tables, no WAL content; returns the truth.
  std::map<std::string, std::string> Build() {
    options_.max_file_size = 64 * 1024;
    options_.write_buffer_size = 256 * 1024;
    std::map<std::string, std::string> truth;
    EXPECT_TRUE(IsOk(Open(options_)));
    Random rnd(123);
    for (int i = 0; i < 10000; i++) {
      std::string v =
          test::RandomString(&rnd, 50 + static_cast<int>(rnd.Uniform(100)));
      EXPECT_TRUE(IsOk(db_->Put(WriteOptions(), Key(i), v)));
      truth[Key(i)] = v;
    }
    db_->CompactRange(nullptr, nullptr);
    db_.reset();
    EXPECT_GE(FilesEndingWith(".ldb").size(), 3u);
    return truth;
  }
};

INSTANTIATE_TEST_SUITE_P(Envs, TableCorruption,
                         testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         [](const testing::TestParamInfo<EnvKind>& info) {
                           return info.param == EnvKind::kMem ? "Mem" : "Posix";
                         });

TEST_P(TableCorruption, UndamagedBaseline) {
  const auto truth = Build();
  ASSERT_TRUE(IsOk(Open(options_)));
  ReadTally tally;
  CheckGets(db_.get(), truth, true, &tally);
  EXPECT_EQ(static_cast<int>(truth.size()), tally.exact);
}

// A flipped byte inside the first data block of a table: a read with
// verify_checksums reports Corruption for the keys of that block.
TEST_P(TableCorruption, VerifyChecksumsReportsDamagedBlock) {
  const auto truth = Build();
  const FileImage pristine = TakeImage();
  for (const std::string& table : FilesEndingWith(".ldb")) {
    SCOPED_TRACE(table);
    RestoreImage(pristine);
    std::string data = pristine.at(table);
    ASSERT_GT(data.size(), 100u);
    data[20] ^= 0x41;
    Overwrite(table, data);
    ASSERT_TRUE(IsOk(Open(options_)));
    ReadTally verified;
    CheckGets(db_.get(), truth, /*verify_checksums=*/true, &verified);
    if (HasFatalFailure()) return;
    EXPECT_GE(verified.corruption, 1) << "no read reported the damaged block";
    EXPECT_EQ(0, verified.not_found) << "keys of an intact table went missing";
    // Default reads after a fresh open: never a wrong value either.
    ASSERT_TRUE(IsOk(Open(options_)));
    ReadTally plain;
    CheckGets(db_.get(), truth, /*verify_checksums=*/false, &plain);
    if (HasFatalFailure()) return;
    CheckIteration(db_.get(), truth, false);
    if (HasFatalFailure()) return;
  }
}

// Random damage of many kinds and places, many seeds.
TEST_P(TableCorruption, RandomDamageNeverYieldsWrongValues) {
  const auto truth = Build();
  const FileImage pristine = TakeImage();
  const std::vector<std::string> tables = FilesEndingWith(".ldb");
  ASSERT_FALSE(tables.empty());
  const int kSeeds = GetParam() == EnvKind::kMem ? 60 : 20;
  int open_failures = 0;
  ReadTally total;
  for (int seed = 1; seed <= kSeeds; seed++) {
    SCOPED_TRACE(std::string("seed ") + std::to_string(seed));
    Random rnd(seed);
    RestoreImage(pristine);
    const std::string& table =
        tables[rnd.Uniform(static_cast<uint32_t>(tables.size()))];
    std::string data = pristine.at(table);
    const uint32_t kind = rnd.Uniform(5);
    size_t offset = rnd.Uniform(static_cast<uint32_t>(data.size()));
    if (kind == 0) {
      // Near the end: footer, index, meta blocks.
      offset = data.size() - 1 -
               rnd.Uniform(
                   static_cast<uint32_t>(std::min<size_t>(data.size(), 200)));
    }
    std::string what;
    if (kind == 1) {
      // A run of zeros.
      const size_t n =
          std::min<size_t>(1 + rnd.Uniform(64), data.size() - offset);
      for (size_t i = 0; i < n; i++) data[offset + i] = 0;
      what = std::string("zeroed ") + std::to_string(n);
    } else if (kind == 2) {
      data.resize(offset);
      what = "truncated";
    } else {
      const size_t n =
          std::min<size_t>(1 + rnd.Uniform(3), data.size() - offset);
      for (size_t i = 0; i < n; i++) {
        data[offset + i] =
            static_cast<char>(data[offset + i] ^ (1 + rnd.Uniform(255)));
      }
      what = std::string("flipped ") + std::to_string(n);
    }
    SCOPED_TRACE(table + " " + what + std::string(" at ") +
                 std::to_string(offset) + " of " +
                 std::to_string(pristine.at(table).size()));
    Overwrite(table, data);

    Status s = Open(options_);
    if (!s.ok()) {
      open_failures++;
      continue;
    }
    ReadTally verified;
    CheckGets(db_.get(), truth, true, &verified);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(IsOk(Open(options_)));
    ReadTally plain;
    CheckGets(db_.get(), truth, false, &plain);
    if (HasFatalFailure()) return;
    CheckIteration(db_.get(), truth, false);
    if (HasFatalFailure()) return;
    CheckIteration(db_.get(), truth, true);
    if (HasFatalFailure()) return;
    total.exact += plain.exact;
    total.not_found += plain.not_found;
    total.corruption += plain.corruption;
    // Compaction over damaged input must not turn damage into wrong values.
    db_->CompactRange(nullptr, nullptr);
    ReadTally after;
    CheckGets(db_.get(), truth, false, &after);
    if (HasFatalFailure()) return;
  }
  std::fprintf(stderr,
               "[corruption_test] %d seeds: %d open failures; reads: %d exact, "
               "%d not found, %d corruption\n",
               kSeeds, open_failures, total.exact, total.not_found,
               total.corruption);
}

// ---------------------------------------------------------------- WAL

class WalCorruption : public CorruptionTest {
 protected:
  void SetUp() override {
    CorruptionTest::SetUp();
    if (GetParam() == EnvKind::kPosix) {
      // These tests read each record's end off the WAL's file size. The
      // POSIX env maps WALs and reserves space ahead (NewLogFile), so the
      // size says nothing until Close; a plain wrapper writes the WAL through
      // NewWritableFile, whose size is exact. (The mapped WAL's own crash
      // behaviour is covered by env_test and the kill -9 loop.)
      plain_env_ = std::make_unique<EnvWrapper>(Env::Default());
      env_ = plain_env_.get();
      options_.env = env_;
    }
  }

  std::unique_ptr<EnvWrapper> plain_env_;

  // Writes kRecords synced puts that stay in the WAL and captures the crash
  // image; ends_[i] is the WAL size once record i was written.
  void Build() {
    options_.write_buffer_size = 16 << 20;
    ASSERT_TRUE(IsOk(Open(options_)));
    // The live WAL: the newest .log (numbers are zero-padded).
    std::vector<std::string> logs = FilesEndingWith(".log");
    ASSERT_FALSE(logs.empty());
    log_ = *std::max_element(logs.begin(), logs.end());
    Random rnd(55);
    WriteOptions wo;
    wo.sync = true;
    for (int i = 0; i < kRecords; i++) {
      // Sizes from tiny to several blocks, so records fragment.
      int len = static_cast<int>(rnd.Skewed(16));
      if (i % 50 == 7) len = 70000;
      std::string v = test::RandomString(&rnd, len);
      ASSERT_TRUE(IsOk(db_->Put(wo, Key(i), v)));
      values_.push_back(v);
      uint64_t size = 0;
      ASSERT_TRUE(IsOk(env_->GetFileSize(dbname_ + "/" + log_, &size)));
      ends_.push_back(size);
    }
    image_ = TakeImage();  // as a kill -9 leaves it
    db_.reset();
  }

  // Opens with the log cut to len and checks records [0, n) with
  // ends_[i] <= len are there, the rest absent.
  void CheckTruncatedAt(uint64_t len, const Options& o) {
    RestoreImage(image_);
    Overwrite(log_, image_.at(log_).substr(0, len));
    Status s = Open(o);
    ASSERT_TRUE(IsOk(s)) << "log truncated at " << len;
    for (int i = 0; i < kRecords; i++) {
      std::string got;
      s = db_->Get(ReadOptions(), Key(i), &got);
      if (ends_[i] <= len) {
        ASSERT_TRUE(IsOk(s)) << "record " << i << " lost, log cut at " << len;
        ASSERT_EQ(values_[i], got) << "record " << i;
      } else {
        ASSERT_TRUE(s.IsNotFound())
            << "record " << i << " ending at " << ends_[i]
            << " survived a cut at " << len << ": " << s.ToString();
      }
    }
  }

  static constexpr int kRecords = 200;
  std::string log_;
  std::vector<std::string> values_;
  std::vector<uint64_t> ends_;
  FileImage image_;
};

INSTANTIATE_TEST_SUITE_P(Envs, WalCorruption,
                         testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         [](const testing::TestParamInfo<EnvKind>& info) {
                           return info.param == EnvKind::kMem ? "Mem" : "Posix";
                         });

TEST_P(WalCorruption, TruncatedTailKeepsEveryEarlierRecord) {
  Build();
  if (HasFatalFailure()) return;
  const uint64_t full = ends_.back();
  std::vector<uint64_t> cuts = {0, 1, 6, 7, 8, full, full - 1};
  for (uint64_t b = 32768; b < full && b <= 4 * 32768; b += 32768) {
    for (uint64_t d : {b - 7, b - 1, b, b + 1, b + 7, b + 8}) cuts.push_back(d);
  }
  for (int i = 0; i < kRecords; i += (GetParam() == EnvKind::kMem ? 3 : 11)) {
    cuts.push_back(ends_[i]);
    cuts.push_back(ends_[i] - 1);
    cuts.push_back(ends_[i] + 3);
  }
  Random rnd(9);
  for (int i = 0; i < 20; i++)
    cuts.push_back(rnd.Uniform(static_cast<uint32_t>(full)));
  for (uint64_t cut : cuts) {
    if (cut > full) continue;
    CheckTruncatedAt(cut, options_);
    if (HasFatalFailure()) return;
  }
  // The DB keeps working after recovering from a cut tail.
  CheckTruncatedAt(ends_[100] + 5, options_);
  ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), "after", "cut")));
  ASSERT_TRUE(IsOk(Open(options_)));
  std::string got;
  ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), "after", &got)));
  EXPECT_EQ("cut", got);
  ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(100), &got)));
  EXPECT_EQ(values_[100], got);
}

// A torn tail is what every crash leaves: even paranoid_checks opens.
TEST_P(WalCorruption, TruncatedTailOpensWithParanoidChecks) {
  Build();
  if (HasFatalFailure()) return;
  Options o = options_;
  o.paranoid_checks = true;
  for (int i : {0, 10, 57, 120, kRecords - 2}) {
    CheckTruncatedAt(ends_[i] + (ends_[i + 1] - ends_[i]) / 2, o);
    if (HasFatalFailure()) return;
  }
}

TEST_P(WalCorruption, GarbageAfterTheLastRecord) {
  Build();
  if (HasFatalFailure()) return;
  Random rnd(31);
  const std::vector<std::string> tails = {
      std::string(1, '\x01'),
      std::string(100, '\0'),
      std::string(32768, '\0'),     // preallocated space
      test::RandomString(&rnd, 5),  // shorter than a header
      test::RandomString(&rnd, 3000),
      std::string("\x12\x34\x56\x78\xff\x7f\x01", 7) +
          "payload",  // huge length
  };
  for (size_t t = 0; t < tails.size(); t++) {
    SCOPED_TRACE(std::string("tail ") + std::to_string(t));
    RestoreImage(image_);
    Overwrite(log_, image_.at(log_) + tails[t]);
    ASSERT_TRUE(IsOk(Open(options_)));
    for (int i = 0; i < kRecords; i++) {
      std::string got;
      ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(i), &got))) << i;
      ASSERT_EQ(values_[i], got) << i;
    }
  }
}

TEST_P(WalCorruption, DamageInTheMiddle) {
  Build();
  if (HasFatalFailure()) return;
  constexpr int kVictim = 120;
  std::string log = image_.at(log_);
  const uint64_t offset =
      ends_[kVictim - 1] + (ends_[kVictim] - ends_[kVictim - 1]) / 2;
  ASSERT_GT(ends_[kVictim] - ends_[kVictim - 1], 20u);
  log[offset] ^= 0x5a;

  // Paranoid: refuse to open.
  RestoreImage(image_);
  Overwrite(log_, log);
  Options paranoid = options_;
  paranoid.paranoid_checks = true;
  Status s = Open(paranoid);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  db_.reset();

  // Not paranoid: open, keep what precedes the damage, never a wrong value.
  RestoreImage(image_);
  Overwrite(log_, log);
  ASSERT_TRUE(IsOk(Open(options_)));
  int after_present = 0;
  for (int i = 0; i < kRecords; i++) {
    std::string got;
    s = db_->Get(ReadOptions(), Key(i), &got);
    if (i < kVictim) {
      ASSERT_TRUE(IsOk(s)) << "record " << i << " before the damage lost";
      ASSERT_EQ(values_[i], got);
    } else if (s.ok()) {
      ASSERT_EQ(values_[i], got) << "WRONG VALUE for record " << i;
      after_present++;
    } else {
      ASSERT_TRUE(s.IsNotFound()) << s.ToString();
    }
  }
  std::fprintf(stderr, "[corruption_test] %d records after the damage kept\n",
               after_present);
}

// ---------------------------------------------------------------- CURRENT,
// MANIFEST

class MetaCorruption : public CorruptionTest {
 protected:
  void Build() {
    ASSERT_TRUE(IsOk(Open(options_)));
    for (int i = 0; i < 2000; i++) {
      ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), Key(i), "v" + Key(i))));
    }
    db_->CompactRange(nullptr, nullptr);
    ASSERT_TRUE(IsOk(db_->Put(WriteOptions(), "in-wal", "w")));
    db_.reset();
    image_ = TakeImage();
    ASSERT_EQ(1u, image_.count("CURRENT"));
    manifest_ = image_.at("CURRENT");
    ASSERT_FALSE(manifest_.empty());
    ASSERT_EQ('\n', manifest_.back());
    manifest_.pop_back();
    ASSERT_EQ(1u, image_.count(manifest_)) << manifest_;
  }

  // Open must fail cleanly; then, with the files put back, succeed with all
  // data (a failed open must not have deleted anything).
  void ExpectOpenFailsThenRecovers(const std::string& what,
                                   bool create_if_missing) {
    SCOPED_TRACE(what);
    Options o = options_;
    o.create_if_missing = create_if_missing;
    Status s = Open(o);
    EXPECT_FALSE(s.ok()) << "Open succeeded despite: " << what;
    EXPECT_NE("OK", s.ToString());
    db_.reset();
    // Put back only CURRENT and the MANIFEST: the tables and the WAL must
    // have survived the failed open untouched.
    Overwrite("CURRENT", image_.at("CURRENT"));
    Overwrite(manifest_, image_.at(manifest_));
    ASSERT_TRUE(IsOk(Open(options_))) << "after a failed open for: " << what;
    std::string got;
    for (int i = 0; i < 2000; i += 97) {
      ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), Key(i), &got))) << Key(i);
      ASSERT_EQ("v" + Key(i), got);
    }
    ASSERT_TRUE(IsOk(db_->Get(ReadOptions(), "in-wal", &got)));
    db_.reset();
    RestoreImage(image_);  // the next case starts from the same files
  }

  FileImage image_;
  std::string manifest_;
};

INSTANTIATE_TEST_SUITE_P(Envs, MetaCorruption,
                         testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         [](const testing::TestParamInfo<EnvKind>& info) {
                           return info.param == EnvKind::kMem ? "Mem" : "Posix";
                         });

TEST_P(MetaCorruption, MissingCurrent) {
  Build();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(IsOk(env_->RemoveFile(dbname_ + "/CURRENT")));
  ExpectOpenFailsThenRecovers("CURRENT deleted", false);
}

TEST_P(MetaCorruption, BadCurrentContents) {
  Build();
  if (HasFatalFailure()) return;
  const std::vector<std::string> contents = {"",
                                             "\n",
                                             "garbage",
                                             "MANIFEST-999999\n",
                                             manifest_ /* no newline */,
                                             std::string(5000, 'x') + "\n",
                                             std::string("MANIFEST-\0\0\n", 12),
                                             "MANIFEST-000001x\n"};
  for (bool create : {false, true}) {
    for (const std::string& c : contents) {
      Overwrite("CURRENT", c);
      ExpectOpenFailsThenRecovers("CURRENT = '" + c.substr(0, 20) + "'",
                                  create);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(MetaCorruption, MissingManifest) {
  Build();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(IsOk(env_->RemoveFile(dbname_ + "/" + manifest_)));
  ExpectOpenFailsThenRecovers("MANIFEST deleted", false);
  ASSERT_TRUE(IsOk(env_->RemoveFile(dbname_ + "/" + manifest_)));
  ExpectOpenFailsThenRecovers("MANIFEST deleted", true);
}

TEST_P(MetaCorruption, DamagedManifest) {
  Build();
  if (HasFatalFailure()) return;
  const std::string m = image_.at(manifest_);
  ASSERT_GT(m.size(), 20u);
  Random rnd(3);
  std::string flipped = m;
  flipped[10] ^= 0x20;  // inside the first record
  std::string garbage = test::RandomString(&rnd, static_cast<int>(m.size()));
  std::string zeros(m.size(), '\0');
  const std::vector<std::pair<std::string, std::string>> damage = {
      {"byte flipped in first record", flipped},
      {"random garbage", garbage},
      {"all zeros", zeros},
      {"empty", ""},
      {"first 5 bytes", m.substr(0, 5)},
  };
  for (const auto& [what, data] : damage) {
    Overwrite(manifest_, data);
    ExpectOpenFailsThenRecovers("MANIFEST " + what, false);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace ldb
