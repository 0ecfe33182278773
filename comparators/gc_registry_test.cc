#include "comparators/gc_registry.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "comparators/key_codec.h"
#include "gtest/gtest.h"
#include "ldb/env.h"

namespace tessera::comparators {
namespace {

GcEntry BucketEntry(uint32_t bucket, ldb::SequenceNumber seq,
                    uint64_t file_number = 10, uint64_t created = 1000) {
  GcEntry e;
  e.kind = GcKind::kBucket;
  e.bucket = bucket;
  e.sequence = seq;
  e.file_number = file_number;
  e.created = created;
  return e;
}

GcEntry AreaEntry(uint32_t bucket, uint16_t area, ldb::SequenceNumber seq) {
  GcEntry e = BucketEntry(bucket, seq);
  e.kind = GcKind::kArea;
  e.area = area;
  return e;
}

class GcRegistryTest : public testing::Test {
 protected:
  GcRegistryTest() : env_(ldb::NewMemEnv(ldb::Env::Default())) {}

  ldb::Status Reopen() {
    registry_.reset();
    return GcRegistry::Open(env_.get(), dbname_, &registry_);
  }

  std::string LogName() const { return dbname_ + "/" + GcRegistry::kFileName; }

  std::string ReadLog() {
    std::string contents;
    EXPECT_TRUE(ldb::ReadFileToString(env_.get(), LogName(), &contents).ok());
    return contents;
  }

  void WriteLog(const ldb::Slice& contents) {
    ASSERT_TRUE(ldb::WriteStringToFile(env_.get(), contents, LogName()).ok());
  }

  std::unique_ptr<ldb::Env> env_;
  const std::string dbname_ = "/gcdb";
  std::unique_ptr<GcRegistry> registry_;
};

TEST_F(GcRegistryTest, EmptyRegistryReclaimsNothing) {
  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(0u, registry_->size());
  EXPECT_TRUE(registry_->List().empty());
  EXPECT_FALSE(registry_->Reclaims(0, 0, 0));
  EXPECT_FALSE(registry_->ReclaimsBucket(0, 0));
  EXPECT_FALSE(registry_->paused());
  EXPECT_TRUE(env_->FileExists(LogName()));
}

TEST_F(GcRegistryTest, BucketEntryReclaimsUpToItsSequence) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(7, 100)).ok());
  EXPECT_TRUE(registry_->Reclaims(7, 0, 1));
  EXPECT_TRUE(registry_->Reclaims(7, 0xffff, 100));
  EXPECT_FALSE(registry_->Reclaims(7, 3, 101));  // written after: survives
  EXPECT_FALSE(registry_->Reclaims(6, 0, 1));
  EXPECT_FALSE(registry_->Reclaims(8, 0, 1));
  EXPECT_TRUE(registry_->ReclaimsBucket(7, 100));
  EXPECT_FALSE(registry_->ReclaimsBucket(7, 101));

  ASSERT_TRUE(registry_->Remove(GcKind::kBucket, 7, 0).ok());
  EXPECT_FALSE(registry_->Reclaims(7, 0, 1));
  EXPECT_TRUE(registry_->Remove(GcKind::kBucket, 7, 0).IsNotFound());
}

TEST_F(GcRegistryTest, AreaEntryReclaimsOnlyItsArea) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(AreaEntry(7, 3, 50)).ok());
  EXPECT_TRUE(registry_->Reclaims(7, 3, 50));
  EXPECT_FALSE(registry_->Reclaims(7, 3, 51));
  EXPECT_FALSE(registry_->Reclaims(7, 2, 1));
  EXPECT_FALSE(registry_->Reclaims(7, 4, 1));
  EXPECT_FALSE(registry_->Reclaims(3, 7, 1));
  EXPECT_FALSE(registry_->ReclaimsBucket(7, 1));  // not the whole bucket
  // Bucket removal does not touch the area entry.
  EXPECT_TRUE(registry_->Remove(GcKind::kBucket, 7, 3).IsNotFound());
  ASSERT_TRUE(registry_->Remove(GcKind::kArea, 7, 3).ok());
  EXPECT_FALSE(registry_->Reclaims(7, 3, 1));
}

TEST_F(GcRegistryTest, AddMergesKeepingLargerSequence) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(1, 100, 20, 5)).ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(1, 50, 10, 6)).ok());
  std::vector<GcEntry> list = registry_->List();
  ASSERT_EQ(1u, list.size());
  EXPECT_EQ(BucketEntry(1, 100, 20, 6), list[0]);
  ASSERT_TRUE(registry_->Add(BucketEntry(1, 300, 30, 7)).ok());
  EXPECT_EQ(BucketEntry(1, 300, 30, 7), registry_->List()[0]);
  EXPECT_TRUE(registry_->Reclaims(1, 0, 300));
  // The same after replay.
  ASSERT_TRUE(Reopen().ok());
  list = registry_->List();
  ASSERT_EQ(1u, list.size());
  EXPECT_EQ(BucketEntry(1, 300, 30, 7), list[0]);
}

TEST_F(GcRegistryTest, BucketEntryIgnoresArea) {
  ASSERT_TRUE(Reopen().ok());
  GcEntry e = BucketEntry(9, 10);
  e.area = 44;
  ASSERT_TRUE(registry_->Add(e).ok());
  ASSERT_EQ(1u, registry_->size());
  EXPECT_EQ(0, registry_->List()[0].area);
  EXPECT_TRUE(registry_->Reclaims(9, 1, 10));
}

TEST_F(GcRegistryTest, RemoveOnlyIfSequence) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(4, 100)).ok());
  // The bucket was reclaimed again (newer sequence) while cleanup ran.
  ASSERT_TRUE(registry_->Add(BucketEntry(4, 200)).ok());
  EXPECT_TRUE(registry_->Remove(GcKind::kBucket, 4, 0, 100).IsNotFound());
  EXPECT_TRUE(registry_->Reclaims(4, 0, 200));
  ASSERT_TRUE(registry_->Remove(GcKind::kBucket, 4, 0, 200).ok());
  EXPECT_EQ(0u, registry_->size());
}

TEST_F(GcRegistryTest, InvalidArguments) {
  ASSERT_TRUE(Reopen().ok());
  EXPECT_TRUE(
      registry_->Add(BucketEntry(kMaxBucket + 1, 1)).IsInvalidArgument());
  GcEntry bad = BucketEntry(1, 1);
  bad.kind = static_cast<GcKind>(9);
  EXPECT_TRUE(registry_->Add(bad).IsInvalidArgument());
  EXPECT_EQ(0u, registry_->size());
  ASSERT_TRUE(registry_->Add(BucketEntry(kMaxBucket, 1)).ok());
  EXPECT_TRUE(registry_->Reclaims(kMaxBucket, 0xffff, 1));
}

TEST_F(GcRegistryTest, PersistsAcrossReopen) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(1, 10, 11, 12)).ok());
  ASSERT_TRUE(registry_->Add(AreaEntry(2, 5, 20)).ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(3, 30)).ok());
  ASSERT_TRUE(registry_->Remove(GcKind::kBucket, 3, 0).ok());
  ASSERT_TRUE(registry_->Pause().ok());
  const std::vector<GcEntry> before = registry_->List();
  ASSERT_EQ(2u, before.size());

  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(before, registry_->List());
  EXPECT_TRUE(registry_->paused());
  EXPECT_TRUE(registry_->Reclaims(1, 9, 10));
  EXPECT_TRUE(registry_->Reclaims(2, 5, 20));
  EXPECT_FALSE(registry_->Reclaims(3, 0, 1));

  ASSERT_TRUE(registry_->Resume().ok());
  ASSERT_TRUE(Reopen().ok());
  EXPECT_FALSE(registry_->paused());
  EXPECT_EQ(before, registry_->List());
}

TEST_F(GcRegistryTest, PauseDoesNotStopReclaiming) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(1, 10)).ok());
  ASSERT_TRUE(registry_->Pause().ok());
  EXPECT_TRUE(registry_->paused());
  EXPECT_TRUE(registry_->Reclaims(1, 0, 10));
  ASSERT_TRUE(registry_->Resume().ok());
  EXPECT_FALSE(registry_->paused());
}

TEST_F(GcRegistryTest, VolatileRegistryWorksWithoutFiles) {
  std::unique_ptr<GcRegistry> reg = GcRegistry::NewVolatile();
  ASSERT_TRUE(reg->Add(AreaEntry(1, 2, 3)).ok());
  EXPECT_TRUE(reg->Reclaims(1, 2, 3));
  ASSERT_TRUE(reg->Pause().ok());
  EXPECT_TRUE(reg->paused());
  ASSERT_TRUE(reg->Remove(GcKind::kArea, 1, 2).ok());
  EXPECT_EQ(0u, reg->size());
}

// Builds a log of several operations and remembers, after each, the log size
// and the resulting entries.
struct History {
  std::string contents;
  std::vector<size_t> ends;                  // log size after op i
  std::vector<std::vector<GcEntry>> states;  // List() after op i
  std::vector<bool> paused;                  // paused() after op i
};

History MakeHistory(ldb::Env* env, const std::string& dbname) {
  History h;
  std::unique_ptr<GcRegistry> reg;
  EXPECT_TRUE(GcRegistry::Open(env, dbname, &reg).ok());
  const std::string fname = dbname + "/" + GcRegistry::kFileName;
  auto record = [&](const ldb::Status& s) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    uint64_t size = 0;
    EXPECT_TRUE(env->GetFileSize(fname, &size).ok());
    h.ends.push_back(size);
    h.states.push_back(reg->List());
    h.paused.push_back(reg->paused());
  };
  record(reg->Add(BucketEntry(1, 10)));
  record(reg->Add(AreaEntry(2, 7, 20)));
  record(reg->Pause());
  record(reg->Add(BucketEntry(3, 30)));
  record(reg->Remove(GcKind::kBucket, 1, 0));
  record(reg->Resume());
  record(reg->Add(BucketEntry(3, 40, 99, 77)));
  reg.reset();
  EXPECT_TRUE(ldb::ReadFileToString(env, fname, &h.contents).ok());
  return h;
}

TEST_F(GcRegistryTest, TornTailAtEveryLengthIsDropped) {
  const History h = MakeHistory(env_.get(), dbname_);
  ASSERT_EQ(h.contents.size(), h.ends.back());
  for (size_t len = 0; len <= h.contents.size(); ++len) {
    WriteLog(ldb::Slice(h.contents.data(), len));
    ldb::Status s = Reopen();
    ASSERT_TRUE(s.ok()) << len << ": " << s.ToString();
    // The state after the last operation whose record is whole.
    std::vector<GcEntry> expected;
    bool expected_paused = false;
    for (size_t i = 0; i < h.ends.size(); ++i) {
      if (h.ends[i] <= len) {
        expected = h.states[i];
        expected_paused = h.paused[i];
      }
    }
    EXPECT_EQ(expected, registry_->List()) << len;
    EXPECT_EQ(expected_paused, registry_->paused()) << len;
    // The tail was cut: new records land after valid ones and replay.
    ASSERT_TRUE(registry_->Add(BucketEntry(500, 5)).ok());
    ASSERT_TRUE(Reopen().ok()) << len;
    EXPECT_TRUE(registry_->Reclaims(500, 0, 5)) << len;
    EXPECT_EQ(expected.size() + 1, registry_->size()) << len;
  }
}

TEST_F(GcRegistryTest, ZeroFilledTailIsDropped) {
  const History h = MakeHistory(env_.get(), dbname_);
  WriteLog(h.contents + std::string(4096, '\0'));
  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(h.states.back(), registry_->List());
  // Rewritten: only the live records remain.
  EXPECT_LT(ReadLog().size(), h.contents.size());
  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(h.states.back(), registry_->List());
}

TEST_F(GcRegistryTest, DamageBeforeValidRecordsIsCorruption) {
  const History h = MakeHistory(env_.get(), dbname_);
  const size_t last_start = h.ends[h.ends.size() - 2];
  for (size_t pos = 0; pos < h.contents.size(); ++pos) {
    std::string damaged = h.contents;
    damaged[pos] = static_cast<char>(damaged[pos] ^ 0x41);
    WriteLog(damaged);
    ldb::Status s = Reopen();
    if (pos < last_start) {
      EXPECT_TRUE(s.IsCorruption()) << pos << ": " << s.ToString();
      EXPECT_EQ(nullptr, registry_);
    } else {
      // Damage in the last record is a torn tail.
      ASSERT_TRUE(s.ok()) << pos << ": " << s.ToString();
      EXPECT_EQ(h.states[h.states.size() - 2], registry_->List()) << pos;
    }
  }
}

TEST_F(GcRegistryTest, GarbageBetweenRecordsIsCorruption) {
  const History h = MakeHistory(env_.get(), dbname_);
  std::string damaged = h.contents;
  damaged.insert(h.ends[0], "garbage");
  WriteLog(damaged);
  EXPECT_TRUE(Reopen().IsCorruption());
}

TEST_F(GcRegistryTest, LogIsCompactedOnOpen) {
  ASSERT_TRUE(Reopen().ok());
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(registry_->Add(BucketEntry(i % 10, i)).ok());
    if (i % 10 != 0) {
      ASSERT_TRUE(registry_->Remove(GcKind::kBucket, i % 10, 0).ok());
    }
  }
  const std::vector<GcEntry> before = registry_->List();
  const size_t big = ReadLog().size();
  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(before, registry_->List());
  EXPECT_LT(ReadLog().size(), big / 10);
  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(before, registry_->List());
}

// An Env whose appendable files start failing on demand.
class FailingEnv : public ldb::EnvWrapper {
 public:
  explicit FailingEnv(ldb::Env* target) : EnvWrapper(target) {}

  std::atomic<bool> fail{false};

  ldb::Status NewAppendableFile(
      const std::string& f, std::unique_ptr<ldb::WritableFile>* r) override {
    std::unique_ptr<ldb::WritableFile> file;
    ldb::Status s = target()->NewAppendableFile(f, &file);
    if (s.ok()) *r = std::make_unique<File>(std::move(file), &fail);
    return s;
  }

 private:
  class File : public ldb::WritableFile {
   public:
    File(std::unique_ptr<ldb::WritableFile> base, std::atomic<bool>* fail)
        : base_(std::move(base)), fail_(fail) {}
    ldb::Status Append(const ldb::Slice& data) override {
      if (*fail_) {
        // A partial write, then the error.
        base_->Append(ldb::Slice(data.data(), data.size() / 2)).IgnoreError();
        return ldb::Status::IOError("injected");
      }
      return base_->Append(data);
    }
    ldb::Status Close() override { return base_->Close(); }
    ldb::Status Flush() override { return base_->Flush(); }
    ldb::Status Sync() override { return base_->Sync(); }

   private:
    std::unique_ptr<ldb::WritableFile> base_;
    std::atomic<bool>* fail_;
  };
};

TEST_F(GcRegistryTest, WriteErrorSticksAndReopenRecovers) {
  FailingEnv env(env_.get());
  std::unique_ptr<GcRegistry> reg;
  ASSERT_TRUE(GcRegistry::Open(&env, dbname_, &reg).ok());
  ASSERT_TRUE(reg->Add(BucketEntry(1, 1)).ok());
  env.fail = true;
  EXPECT_TRUE(reg->Add(BucketEntry(2, 2)).IsIOError());
  EXPECT_FALSE(reg->Reclaims(2, 0, 1));  // not applied
  env.fail = false;
  EXPECT_TRUE(reg->Add(BucketEntry(3, 3)).IsIOError());  // sticky
  EXPECT_TRUE(reg->Pause().IsIOError());
  reg.reset();
  ASSERT_TRUE(GcRegistry::Open(&env, dbname_, &reg).ok());
  ASSERT_EQ(1u, reg->size());
  EXPECT_TRUE(reg->Reclaims(1, 0, 1));
  ASSERT_TRUE(reg->Add(BucketEntry(3, 3)).ok());
}

TEST_F(GcRegistryTest, ConcurrentReadersSeeStableEntries) {
  ASSERT_TRUE(Reopen().ok());
  ASSERT_TRUE(registry_->Add(BucketEntry(1, 1000)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (!registry_->Reclaims(1, 5, 999)) ++failures;
        if (registry_->Reclaims(1, 5, 1001)) ++failures;
        if (registry_->Reclaims(2, 0, 2000)) ++failures;  // seq above entries
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(registry_->Add(BucketEntry(2, 1000 + (i % 5))).ok());
    ASSERT_TRUE(registry_->Remove(GcKind::kBucket, 2, 0).ok());
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(0, failures.load());
}

}  // namespace
}  // namespace tessera::comparators
