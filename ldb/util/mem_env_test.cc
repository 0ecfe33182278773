// In-memory Env specifics; the shared contract is tested in env_test.cc.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ldb/env.h"

namespace ldb {
namespace {

class MemEnvTest : public testing::Test {
 protected:
  MemEnvTest() : env_(NewMemEnv(Env::Default())) {}

  std::string Read(const std::string& fname) {
    std::string data;
    Status s = ReadFileToString(env_.get(), fname, &data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return data;
  }

  std::unique_ptr<Env> env_;
};

TEST_F(MemEnvTest, FilesDoNotTouchTheDisk) {
  const std::string fname = "/memenv-only-" + std::to_string(::getpid());
  ASSERT_TRUE(WriteStringToFile(env_.get(), "x", fname).ok());
  EXPECT_TRUE(env_->FileExists(fname));
  EXPECT_FALSE(Env::Default()->FileExists(fname));
}

TEST_F(MemEnvTest, DirectoriesAreImplicit) {
  ASSERT_TRUE(WriteStringToFile(env_.get(), "a", "/db/a").ok());
  ASSERT_TRUE(WriteStringToFile(env_.get(), "b", "/db/b").ok());
  ASSERT_TRUE(WriteStringToFile(env_.get(), "n", "/db/sub/nested").ok());
  ASSERT_TRUE(WriteStringToFile(env_.get(), "o", "/dbx/other").ok());
  std::vector<std::string> children;
  ASSERT_TRUE(env_->GetChildren("/db", &children).ok());
  std::sort(children.begin(), children.end());
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), children);
  ASSERT_TRUE(env_->GetChildren("/db/sub/", &children).ok());
  EXPECT_EQ((std::vector<std::string>{"nested"}), children);
  ASSERT_TRUE(env_->GetChildren("/empty", &children).ok());
  EXPECT_TRUE(children.empty());
}

TEST_F(MemEnvTest, WriterSeesReadsOfItsOwnAppends) {
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile("/f", &w).ok());
  std::unique_ptr<RandomAccessFile> r;
  ASSERT_TRUE(env_->NewRandomAccessFile("/f", &r).ok());
  char scratch[8];
  Slice got;
  ASSERT_TRUE(r->Read(0, 8, &got, scratch).ok());
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(w->Append("abc").ok());
  ASSERT_TRUE(r->Read(0, 8, &got, scratch).ok());
  EXPECT_EQ("abc", got.ToString());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(w->Append("more").IsIOError());
}

TEST_F(MemEnvTest, TruncateLeavesOldReadersAlone) {
  ASSERT_TRUE(WriteStringToFile(env_.get(), "old contents", "/f").ok());
  std::unique_ptr<RandomAccessFile> r;
  ASSERT_TRUE(env_->NewRandomAccessFile("/f", &r).ok());
  ASSERT_TRUE(WriteStringToFile(env_.get(), "new", "/f").ok());
  EXPECT_EQ("new", Read("/f"));
  char scratch[32];
  Slice got;
  ASSERT_TRUE(r->Read(0, sizeof(scratch), &got, scratch).ok());
  EXPECT_EQ("old contents", got.ToString());
}

TEST_F(MemEnvTest, LocksArePerEnv) {
  FileLock* lock = nullptr;
  ASSERT_TRUE(env_->LockFile("/db/LOCK", &lock).ok());
  FileLock* again = nullptr;
  Status s = env_->LockFile("/db/LOCK", &again);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(std::string::npos, s.ToString().find("/db/LOCK"));

  // Another in-memory env is another "machine".
  std::unique_ptr<Env> other = NewMemEnv(Env::Default());
  FileLock* other_lock = nullptr;
  ASSERT_TRUE(other->LockFile("/db/LOCK", &other_lock).ok());
  ASSERT_TRUE(other->UnlockFile(other_lock).ok());

  ASSERT_TRUE(env_->UnlockFile(lock).ok());
  ASSERT_TRUE(env_->LockFile("/db/LOCK", &lock).ok());
  ASSERT_TRUE(env_->UnlockFile(lock).ok());
}

TEST_F(MemEnvTest, SkipPastEnd) {
  ASSERT_TRUE(WriteStringToFile(env_.get(), "0123", "/s").ok());
  std::unique_ptr<SequentialFile> f;
  ASSERT_TRUE(env_->NewSequentialFile("/s", &f).ok());
  ASSERT_TRUE(f->Skip(100).ok());
  char scratch[8];
  Slice got;
  ASSERT_TRUE(f->Read(8, &got, scratch).ok());
  EXPECT_TRUE(got.empty());
}

TEST_F(MemEnvTest, ConcurrentWritersToDifferentFiles) {
  constexpr int kThreads = 4;
  constexpr int kAppends = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      const std::string fname = "/c/" + std::to_string(t);
      std::unique_ptr<WritableFile> f;
      if (!env_->NewWritableFile(fname, &f).ok()) {
        failures++;
        return;
      }
      for (int i = 0; i < kAppends; i++) {
        if (!f->Append("0123456789").ok()) failures++;
        std::vector<std::string> children;
        if (!env_->GetChildren("/c", &children).ok()) failures++;
      }
      if (!f->Close().ok()) failures++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, failures.load());
  for (int t = 0; t < kThreads; t++) {
    uint64_t size = 0;
    ASSERT_TRUE(env_->GetFileSize("/c/" + std::to_string(t), &size).ok());
    EXPECT_EQ(10u * kAppends, size);
  }
}

TEST_F(MemEnvTest, ClockAndThreadsComeFromBase) {
  const uint64_t base_now = Env::Default()->NowSeconds();
  const uint64_t now = env_->NowSeconds();
  EXPECT_LE(now - base_now, 2u);
  std::string dir;
  ASSERT_TRUE(env_->GetTestDirectory(&dir).ok());
  EXPECT_FALSE(dir.empty());
}

}  // namespace
}  // namespace ldb
