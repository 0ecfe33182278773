// Tests of the Env contract, run against the POSIX Env and the in-memory Env,
// plus POSIX-only behaviour (threads, clock, cross-process locks).
#include "ldb/env.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

// Waits until pred() holds or `timeout` passes; true if it holds.
template <typename Pred>
bool WaitFor(std::mutex* mu, std::condition_variable* cv, Pred pred,
             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::unique_lock<std::mutex> lock(*mu);
  return cv->wait_for(lock, timeout, pred);
}

enum class EnvKind { kPosix, kMem };

std::string KindName(const testing::TestParamInfo<EnvKind>& info) {
  return info.param == EnvKind::kPosix ? "Posix" : "Mem";
}

// Gives each test a fresh directory in the Env under test.
class EnvTest : public testing::TestWithParam<EnvKind> {
 protected:
  void SetUp() override {
    if (GetParam() == EnvKind::kMem) {
      mem_env_ = NewMemEnv(Env::Default());
      env_ = mem_env_.get();
    } else {
      env_ = Env::Default();
    }
    std::string base;
    ASSERT_TRUE(env_->GetTestDirectory(&base).ok());
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = base + "/env_test-" + std::to_string(::getpid()) + "-" + name;
    ASSERT_TRUE(env_->CreateDir(dir_).ok());
    std::vector<std::string> stale;
    ASSERT_TRUE(env_->GetChildren(dir_, &stale).ok());
    for (const std::string& f : stale) env_->RemoveFile(Path(f)).IgnoreError();
  }

  void TearDown() override {
    std::vector<std::string> children;
    if (env_->GetChildren(dir_, &children).ok()) {
      for (const std::string& f : children) {
        env_->RemoveFile(Path(f)).IgnoreError();
      }
    }
    env_->RemoveDir(dir_).IgnoreError();
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // A log file read while still open: the bytes appended so far, then only
  // zeros (reserved space the log reader skips).
  void ExpectLogImage(const std::string& name, const std::string& expected) {
    const std::string image = Contents(name);
    ASSERT_GE(image.size(), expected.size());
    ASSERT_EQ(expected, image.substr(0, expected.size()));
    ASSERT_EQ(std::string(image.size() - expected.size(), '\0'),
              image.substr(expected.size()));
  }

  std::string Contents(const std::string& name) {
    std::string data;
    Status s = ReadFileToString(env_, Path(name), &data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return data;
  }

  std::unique_ptr<Env> mem_env_;
  Env* env_ = nullptr;
  std::string dir_;
};

TEST_P(EnvTest, WriteReadAndTruncate) {
  ASSERT_TRUE(WriteStringToFile(env_, "hello world", Path("f")).ok());
  EXPECT_TRUE(env_->FileExists(Path("f")));
  EXPECT_EQ("hello world", Contents("f"));

  // NewWritableFile truncates.
  ASSERT_TRUE(WriteStringToFileSync(env_, "bye", Path("f")).ok());
  EXPECT_EQ("bye", Contents("f"));

  ASSERT_TRUE(WriteStringToFile(env_, "", Path("empty")).ok());
  EXPECT_EQ("", Contents("empty"));
}

TEST_P(EnvTest, AppendableFileAppendsAndCreates) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewAppendableFile(Path("log"), &f).ok());
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env_->NewAppendableFile(Path("log"), &f).ok());
  ASSERT_TRUE(f->Append("def").ok());
  ASSERT_TRUE(f->Flush().ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ("abcdef", Contents("log"));
}

TEST_P(EnvTest, MissingFilesAreNotFound) {
  std::unique_ptr<SequentialFile> seq;
  std::unique_ptr<RandomAccessFile> rand;
  uint64_t size = 7;
  std::string data;
  EXPECT_FALSE(env_->FileExists(Path("nope")));
  EXPECT_TRUE(env_->NewSequentialFile(Path("nope"), &seq).IsNotFound());
  EXPECT_TRUE(env_->NewRandomAccessFile(Path("nope"), &rand).IsNotFound());
  EXPECT_TRUE(env_->GetFileSize(Path("nope"), &size).IsNotFound());
  EXPECT_TRUE(env_->RemoveFile(Path("nope")).IsNotFound());
  EXPECT_TRUE(env_->RenameFile(Path("nope"), Path("x")).IsNotFound());
  Status s = ReadFileToString(env_, Path("nope"), &data);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(std::string::npos, s.ToString().find(Path("nope")));
}

TEST_P(EnvTest, LargeFileThroughBufferBoundaries) {
  // Appends of random sizes, some larger than the 64 KiB write buffer.
  Random rnd(301);
  std::string expected;
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("big"), &f).ok());
  while (expected.size() < 700 * 1024) {
    const size_t len =
        rnd.OneIn(5) ? 64 * 1024 + rnd.Uniform(100000) : rnd.Uniform(5000);
    std::string chunk(len, '\0');
    for (char& c : chunk) c = static_cast<char>(rnd.Uniform(256));
    ASSERT_TRUE(f->Append(chunk).ok());
    expected += chunk;
  }
  ASSERT_TRUE(f->Close().ok());
  uint64_t size = 0;
  ASSERT_TRUE(env_->GetFileSize(Path("big"), &size).ok());
  EXPECT_EQ(expected.size(), size);
  EXPECT_TRUE(Contents("big") == expected);

  // Random reads at offsets, including ones running past the end.
  std::unique_ptr<RandomAccessFile> r;
  ASSERT_TRUE(env_->NewRandomAccessFile(Path("big"), &r).ok());
  std::vector<char> scratch(200000);
  for (int i = 0; i < 200; i++) {
    const uint64_t offset = rnd.Uniform(static_cast<uint32_t>(size + 10));
    const size_t n = rnd.Uniform(static_cast<uint32_t>(scratch.size()));
    Slice got;
    ASSERT_TRUE(r->Read(offset, n, &got, scratch.data()).ok());
    const size_t want =
        offset >= size ? 0 : std::min<uint64_t>(n, size - offset);
    ASSERT_EQ(want, got.size()) << "offset " << offset << " n " << n;
    if (want > 0) {
      ASSERT_TRUE(got == Slice(expected.data() + offset, want));
    }
  }
}

// NewUncachedWritableFile (O_DIRECT in the POSIX env, whole 4 KiB blocks
// through a 1 MiB buffer, the last 32 KiB or so buffered): whatever the
// append sizes and wherever Sync() falls, the file holds exactly what was
// appended, at every size around the block and buffer boundaries.
TEST_P(EnvTest, UncachedFileHoldsExactlyWhatWasAppended) {
  Random rnd(7);
  const size_t kBlock = 4096, kBuffer = 1 << 20;
  const std::vector<size_t> totals = {0,          1,          kBlock - 1,
                                      kBlock,     kBlock + 1, kBuffer - 1,
                                      kBuffer,    kBuffer + 1, 2 * kBuffer + 3 * kBlock,
                                      3 * kBuffer + 12345, 32 * kBlock - 1, 32 * kBlock,
                                      32 * kBlock + 1, kBuffer + 32 * kBlock + 1};
  for (size_t total : totals) {
    for (bool sync_midway : {false, true}) {
      SCOPED_TRACE("total " + std::to_string(total) +
                   (sync_midway ? ", synced midway" : ""));
      const std::string name = "u" + std::to_string(total) + (sync_midway ? "s" : "");
      std::unique_ptr<WritableFile> f;
      ASSERT_TRUE(env_->NewUncachedWritableFile(Path(name), &f).ok());
      std::string expected;
      bool synced = false;
      while (expected.size() < total) {
        const size_t want = rnd.OneIn(4) ? rnd.Uniform(3 * kBuffer / 2) : rnd.Uniform(9000);
        std::string chunk(std::min(want, total - expected.size()), '\0');
        for (char& c : chunk) c = static_cast<char>(rnd.Uniform(256));
        ASSERT_TRUE(f->Append(chunk).ok());
        expected += chunk;
        ASSERT_TRUE(f->Flush().ok());
        if (sync_midway && !synced && expected.size() >= total / 2) {
          // After a Sync the file is complete so far, and appends go on after it.
          ASSERT_TRUE(f->Sync().ok());
          EXPECT_TRUE(Contents(name) == expected);
          synced = true;
        }
      }
      ASSERT_TRUE(f->Sync().ok());
      ASSERT_TRUE(f->Close().ok());
      EXPECT_TRUE(f->Append("more").IsIOError());
      uint64_t size = 0;
      ASSERT_TRUE(env_->GetFileSize(Path(name), &size).ok());
      EXPECT_EQ(expected.size(), size);
      EXPECT_TRUE(Contents(name) == expected);
      ASSERT_TRUE(env_->RemoveFile(Path(name)).ok());
    }
  }
}

// An uncached file replaces an existing one (truncates), and a file the
// caller drops without Close() still gets everything appended.
TEST_P(EnvTest, UncachedFileTruncatesAndClosesOnDestruction) {
  ASSERT_TRUE(WriteStringToFile(env_, std::string(100000, 'x'), Path("t")).ok());
  {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_->NewUncachedWritableFile(Path("t"), &f).ok());
    ASSERT_TRUE(f->Append(std::string(5000, 'y')).ok());
  }
  EXPECT_EQ(std::string(5000, 'y'), Contents("t"));
  if (GetParam() == EnvKind::kPosix) {
    std::unique_ptr<WritableFile> f;
    EXPECT_TRUE(env_->NewUncachedWritableFile(Path("no-such-dir/t"), &f).IsNotFound());
  }
}

// A WAL opened with NewLogFile: what was appended is readable before Close
// (a process crash leaves exactly that, maybe followed by zeros the log
// reader skips), and after Close the file is exactly what was appended.
TEST_P(EnvTest, LogFileKeepsAppendsBeforeAndAfterClose) {
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(env_->NewLogFile(Path("000007.log"), &file).ok());
  Random rnd(301);
  std::string expected;
  // Crosses the 64 KiB first chunk and several 1 MiB chunks.
  while (expected.size() < 2600 * 1024) {
    std::string piece(rnd.Uniform(3) == 0 ? rnd.Uniform(200000) + 1
                                          : rnd.Uniform(300) + 1,
                      '\0');
    for (char& c : piece) c = static_cast<char>('a' + rnd.Uniform(26));
    ASSERT_TRUE(file->Append(piece).ok());
    ASSERT_TRUE(file->Flush().ok());
    expected += piece;
    if (rnd.OneIn(20)) {
      ASSERT_NO_FATAL_FAILURE(ExpectLogImage("000007.log", expected));
    }
  }
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(expected, Contents("000007.log"));
  EXPECT_FALSE(file->Append("x").ok());

  // An empty log closes to an empty file.
  ASSERT_TRUE(env_->NewLogFile(Path("000008.log"), &file).ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ("", Contents("000008.log"));
}

// Whether /proc/self/maps shows a mapping of `path` (Linux; false elsewhere).
bool IsMapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() >= path.size() &&
        line.compare(line.size() - path.size(), path.size(), path) == 0) {
      return true;
    }
  }
  return false;
}

// The same with syncs among the appends: the POSIX env's log file writes
// with pwrite from its first sync on and unmaps the file. Every image on the
// way is the bytes appended so far, then zeros; Close leaves exactly them.
TEST_P(EnvTest, LogFileKeepsAppendsAcrossSyncs) {
  const std::string path = Path("000009.log");
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(env_->NewLogFile(path, &file).ok());
  Random rnd(17);
  std::string expected;
  bool synced = false;
  while (expected.size() < 3300 * 1024) {
    std::string piece(rnd.Uniform(4) == 0 ? rnd.Uniform(300000) + 1
                                          : rnd.Uniform(300) + 1,
                      '\0');
    for (char& c : piece) c = static_cast<char>('a' + rnd.Uniform(26));
    // A record arrives in a few appends, then one Flush (as log::Writer).
    const size_t cut = rnd.Uniform(static_cast<int>(piece.size()) + 1);
    ASSERT_TRUE(file->Append(Slice(piece.data(), cut)).ok());
    ASSERT_TRUE(file->Append(Slice(piece.data() + cut, piece.size() - cut)).ok());
    ASSERT_TRUE(file->Flush().ok());
    expected += piece;
    if (expected.size() > 100 * 1024 && rnd.OneIn(8)) {
      ASSERT_TRUE(file->Sync().ok());
      synced = true;
    }
    if (rnd.OneIn(10)) {
      ASSERT_NO_FATAL_FAILURE(ExpectLogImage("000009.log", expected));
    }
    if (GetParam() == EnvKind::kPosix) {
      // Mapped until the first sync, never after.
      ASSERT_EQ(!synced, IsMapped(path)) << "synced: " << synced;
    }
  }
  ASSERT_TRUE(synced);
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(expected, Contents("000009.log"));
  EXPECT_FALSE(file->Append("x").ok());
}

TEST_P(EnvTest, SequentialReadAndSkip) {
  ASSERT_TRUE(WriteStringToFile(env_, "0123456789", Path("seq")).ok());
  std::unique_ptr<SequentialFile> f;
  ASSERT_TRUE(env_->NewSequentialFile(Path("seq"), &f).ok());
  char scratch[16];
  Slice got;
  ASSERT_TRUE(f->Read(3, &got, scratch).ok());
  EXPECT_EQ("012", got.ToString());
  ASSERT_TRUE(f->Skip(4).ok());
  ASSERT_TRUE(f->Read(16, &got, scratch).ok());
  EXPECT_EQ("789", got.ToString());  // Short read: end of file.
  ASSERT_TRUE(f->Read(16, &got, scratch).ok());
  EXPECT_TRUE(got.empty());
}

TEST_P(EnvTest, RandomAccessReadPastEof) {
  ASSERT_TRUE(WriteStringToFile(env_, "abcdef", Path("r")).ok());
  std::unique_ptr<RandomAccessFile> f;
  ASSERT_TRUE(env_->NewRandomAccessFile(Path("r"), &f).ok());
  char scratch[16];
  Slice got;
  ASSERT_TRUE(f->Read(2, 3, &got, scratch).ok());
  EXPECT_EQ("cde", got.ToString());
  ASSERT_TRUE(f->Read(4, 10, &got, scratch).ok());
  EXPECT_EQ("ef", got.ToString());
  ASSERT_TRUE(f->Read(6, 10, &got, scratch).ok());
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(f->Read(1000, 10, &got, scratch).ok());
  EXPECT_TRUE(got.empty());
}

TEST_P(EnvTest, ConcurrentRandomReads) {
  std::string expected;
  for (int i = 0; i < 20000; i++) expected += std::to_string(i) + ",";
  ASSERT_TRUE(WriteStringToFile(env_, expected, Path("shared")).ok());
  std::unique_ptr<RandomAccessFile> f;
  ASSERT_TRUE(env_->NewRandomAccessFile(Path("shared"), &f).ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      Random rnd(100 + t);
      char scratch[512];
      for (int i = 0; i < 2000; i++) {
        const uint64_t offset = rnd.Uniform(expected.size());
        Slice got;
        if (!f->Read(offset, sizeof(scratch), &got, scratch).ok() ||
            got != Slice(expected.data() + offset,
                         std::min<size_t>(sizeof(scratch),
                                          expected.size() - offset))) {
          mismatches++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, mismatches.load());
}

TEST_P(EnvTest, RenameReplacesTarget) {
  ASSERT_TRUE(WriteStringToFile(env_, "new", Path("CURRENT.tmp")).ok());
  ASSERT_TRUE(WriteStringToFile(env_, "old", Path("CURRENT")).ok());
  ASSERT_TRUE(env_->RenameFile(Path("CURRENT.tmp"), Path("CURRENT")).ok());
  EXPECT_FALSE(env_->FileExists(Path("CURRENT.tmp")));
  EXPECT_EQ("new", Contents("CURRENT"));
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
}

TEST_P(EnvTest, OpenFileSurvivesRenameAndRemove) {
  ASSERT_TRUE(WriteStringToFile(env_, "payload", Path("a")).ok());
  std::unique_ptr<RandomAccessFile> f;
  ASSERT_TRUE(env_->NewRandomAccessFile(Path("a"), &f).ok());
  ASSERT_TRUE(env_->RenameFile(Path("a"), Path("b")).ok());
  char scratch[16];
  Slice got;
  ASSERT_TRUE(f->Read(0, 16, &got, scratch).ok());
  EXPECT_EQ("payload", got.ToString());
  ASSERT_TRUE(env_->RemoveFile(Path("b")).ok());
  EXPECT_FALSE(env_->FileExists(Path("b")));
  ASSERT_TRUE(f->Read(3, 16, &got, scratch).ok());
  EXPECT_EQ("load", got.ToString());
}

TEST_P(EnvTest, GetChildrenAndSizes) {
  ASSERT_TRUE(WriteStringToFile(env_, "1", Path("one")).ok());
  ASSERT_TRUE(WriteStringToFile(env_, "22", Path("two")).ok());
  ASSERT_TRUE(WriteStringToFile(env_, "333", Path("three")).ok());
  std::vector<std::string> children;
  ASSERT_TRUE(env_->GetChildren(dir_, &children).ok());
  std::sort(children.begin(), children.end());
  EXPECT_EQ((std::vector<std::string>{"one", "three", "two"}), children);
  uint64_t size = 0;
  ASSERT_TRUE(env_->GetFileSize(Path("three"), &size).ok());
  EXPECT_EQ(3u, size);

  ASSERT_TRUE(env_->RemoveFile(Path("two")).ok());
  ASSERT_TRUE(env_->GetChildren(dir_ + "/", &children).ok());
  std::sort(children.begin(), children.end());
  EXPECT_EQ((std::vector<std::string>{"one", "three"}), children);
}

TEST_P(EnvTest, CreateDirTwiceIsOk) {
  ASSERT_TRUE(env_->CreateDir(Path("sub")).ok());
  ASSERT_TRUE(env_->CreateDir(Path("sub")).ok());
  ASSERT_TRUE(env_->RemoveDir(Path("sub")).ok());
}

TEST_P(EnvTest, SecondLockFailsWithClearMessage) {
  const std::string lock_name = Path("LOCK");
  FileLock* lock = nullptr;
  ASSERT_TRUE(env_->LockFile(lock_name, &lock).ok());
  ASSERT_NE(nullptr, lock);
  EXPECT_TRUE(env_->FileExists(lock_name));

  FileLock* second = nullptr;
  Status s = env_->LockFile(lock_name, &second);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(nullptr, second);
  EXPECT_NE(std::string::npos, s.ToString().find(lock_name)) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("already held"))
      << s.ToString();

  // Other names are independent.
  FileLock* other = nullptr;
  ASSERT_TRUE(env_->LockFile(Path("LOCK2"), &other).ok());
  ASSERT_TRUE(env_->UnlockFile(other).ok());

  ASSERT_TRUE(env_->UnlockFile(lock).ok());
  ASSERT_TRUE(env_->LockFile(lock_name, &lock).ok());
  ASSERT_TRUE(env_->UnlockFile(lock).ok());
}

TEST_P(EnvTest, LoggerWritesTimestampedLines) {
  std::unique_ptr<Logger> logger;
  ASSERT_TRUE(env_->NewLogger(Path("LOG"), &logger).ok());
  Log(logger.get(), "opened %s with %d files", "db", 7);
  Log(logger.get(), "line already ends\n");
  Log(nullptr, "ignored %d", 1);  // No logger: no crash.
  std::string long_message(3000, 'x');
  Log(logger.get(), "%s", long_message.c_str());
  logger.reset();

  const std::string text = Contents("LOG");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    ASSERT_NE(std::string::npos, nl) << "unterminated line";
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  ASSERT_EQ(3u, lines.size());
  const std::regex header(
      R"(^\d{4}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}\.\d{6} \S+ (.*)$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, header)) << lines[0];
  EXPECT_EQ("opened db with 7 files", m[1].str());
  ASSERT_TRUE(std::regex_match(lines[1], m, header)) << lines[1];
  EXPECT_EQ("line already ends", m[1].str());
  ASSERT_TRUE(std::regex_match(lines[2], m, header));
  EXPECT_EQ(long_message, m[1].str());
}

INSTANTIATE_TEST_SUITE_P(AllEnvs, EnvTest,
                         testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         KindName);

// ---------------------------------------------------------------------------
// POSIX-only behaviour.

TEST(PosixEnvTest, ScheduleRunsJobsInFifoOrderOneAtATime) {
  Env* env = Env::Default();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; i++) {
    env->Schedule([&, i] {
      const int now = ++running;
      int prev = max_running.load();
      while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
      }
      // Everything under mu: once the test sees the last entry it returns
      // and destroys what the job touches.
      std::lock_guard<std::mutex> lock(mu);
      --running;
      order.push_back(i);
      cv.notify_all();
    });
  }
  ASSERT_TRUE(WaitFor(&mu, &cv, [&] { return order.size() == kJobs; }));
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < kJobs; i++) ASSERT_EQ(i, order[i]);
  EXPECT_EQ(1, max_running.load());
}

TEST(PosixEnvTest, StartThreadRunsConcurrently) {
  Env* env = Env::Default();
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  bool release = false;
  constexpr int kThreads = 3;
  int finished = 0;
  for (int i = 0; i < kThreads; i++) {
    env->StartThread([&] {
      std::unique_lock<std::mutex> lock(mu);
      started++;
      cv.notify_all();
      // Every thread waits for the others: they must run at the same time.
      cv.wait(lock, [&] { return release; });
      finished++;
      cv.notify_all();
    });
  }
  ASSERT_TRUE(WaitFor(&mu, &cv, [&] { return started == kThreads; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor(&mu, &cv, [&] { return finished == kThreads; }));
}

TEST(PosixEnvTest, Clocks) {
  Env* env = Env::Default();
  const uint64_t now = env->NowSeconds();
  const uint64_t expected = static_cast<uint64_t>(std::time(nullptr));
  EXPECT_LE(now > expected ? now - expected : expected - now, 2u);

  const uint64_t t1 = env->NowMicros();
  env->SleepForMicroseconds(2000);
  const uint64_t t2 = env->NowMicros();
  EXPECT_GE(t2 - t1, 2000u);
}

TEST(PosixEnvTest, TestDirectoryIsStableAndExists) {
  Env* env = Env::Default();
  std::string a, b;
  ASSERT_TRUE(env->GetTestDirectory(&a).ok());
  ASSERT_TRUE(env->GetTestDirectory(&b).ok());
  EXPECT_EQ(a, b);
  EXPECT_TRUE(env->FileExists(a));
}

TEST(PosixEnvTest, SyncDirOfMissingDirFails) {
  Env* env = Env::Default();
  std::string dir;
  ASSERT_TRUE(env->GetTestDirectory(&dir).ok());
  EXPECT_TRUE(env->SyncDir(dir).ok());
  EXPECT_FALSE(
      env->SyncDir(dir + "/no-such-dir-" + std::to_string(::getpid())).ok());
}

TEST(PosixEnvTest, CreateDirOverFileFails) {
  Env* env = Env::Default();
  std::string dir;
  ASSERT_TRUE(env->GetTestDirectory(&dir).ok());
  const std::string f = dir + "/plain-file-" + std::to_string(::getpid());
  ASSERT_TRUE(WriteStringToFile(env, "x", f).ok());
  EXPECT_TRUE(env->CreateDir(f).IsIOError());
  ASSERT_TRUE(env->RemoveFile(f).ok());
}

// Which pages of the first `size` bytes of fname are in the page cache.
std::vector<bool> ResidentPages(const std::string& fname, size_t size) {
  const size_t kPage = 4096;
  std::vector<bool> out;
  const int fd = ::open(fname.c_str(), O_RDONLY);
  if (fd < 0) return out;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return out;
  std::vector<unsigned char> resident((size + kPage - 1) / kPage);
  if (::mincore(map, size, resident.data()) == 0) {
    for (unsigned char r : resident) out.push_back(r & 1);
  }
  ::munmap(map, size);
  return out;
}

// An uncached file (a table built by IngestSorted) ends in the page cache. Its
// last 32 KiB (where a table keeps its index, filter and footer, which the open
// after the build reads at once) are written through it, so they are there as
// soon as Close() returns; what was written around it (O_DIRECT) is read back
// in the background after Close(), since the table is served soon.
TEST(PosixEnvTest, UncachedFileEndsInThePageCache) {
  Env* env = Env::Default();
  std::string dir;
  ASSERT_TRUE(env->GetTestDirectory(&dir).ok());
  const std::string f = dir + "/uncached-tail-" + std::to_string(::getpid());
  const size_t kPage = 4096, kTail = 32 << 10;
  const size_t total = (1 << 20) + 100 * kPage + 123;
  {
    std::unique_ptr<WritableFile> w;
    ASSERT_TRUE(env->NewUncachedWritableFile(f, &w).ok());
    ASSERT_TRUE(w->Append(std::string(total, 'x')).ok());
    ASSERT_TRUE(w->Sync().ok());
    ASSERT_TRUE(w->Close().ok());
  }
  std::vector<bool> resident = ResidentPages(f, total);
  const size_t pages = (total + kPage - 1) / kPage;
  ASSERT_EQ(resident.size(), pages);
  for (size_t p = (total - kTail) / kPage; p < pages; p++) {
    EXPECT_TRUE(resident[p]) << "page " << p << " of " << pages;
  }
  // The read-back is asynchronous: wait for it (a generous bound, not a timing
  // check; it takes milliseconds).
  auto missing = [&resident] {
    return std::count(resident.begin(), resident.end(), false);
  };
  const uint64_t deadline = env->NowMicros() + 30 * 1000 * 1000;
  while (missing() > 0 && env->NowMicros() < deadline) {
    env->SleepForMicroseconds(10 * 1000);
    resident = ResidentPages(f, total);
    // An empty answer (mmap or mincore failed) must not pass for "all read".
    ASSERT_EQ(resident.size(), pages);
  }
  EXPECT_EQ(0, missing()) << "of " << pages << " pages, not read back";
  ASSERT_TRUE(env->RemoveFile(f).ok());
}

// Descriptors this process has open (entries of /proc/self/fd).
int OpenDescriptors() {
  int n = 0;
  std::vector<std::string> fds;
  if (Env::Default()->GetChildren("/proc/self/fd", &fds).ok()) {
    for (const std::string& f : fds) n += f != "." && f != "..";
  }
  return n;
}

// A data server keeps thousands of small tables open (they are cut at bucket
// boundaries). Files opened for random reads are mapped, up to half of the
// kernel's vm.max_map_count, and a mapped file holds no descriptor: 1,500 open
// files (more than LevelDB's budget of 1,000 maps) cost no descriptors on a
// kernel with the default 65530. Past the budget they are read through pread,
// and still read right.
TEST(PosixEnvTest, ThousandsOfRandomAccessFilesHoldNoDescriptors) {
  Env* env = Env::Default();
  std::string dir;
  ASSERT_TRUE(env->GetTestDirectory(&dir).ok());
  dir += "/mapped-" + std::to_string(::getpid());
  ASSERT_TRUE(env->CreateDir(dir).ok());
  constexpr int kFiles = 1500;
  for (int i = 0; i < kFiles; i++) {
    ASSERT_TRUE(WriteStringToFile(env, "file " + std::to_string(i),
                                  dir + "/" + std::to_string(i))
                    .ok());
  }
  long max_maps = 0;
  if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    if (std::fscanf(f, "%ld", &max_maps) != 1) max_maps = 0;
    std::fclose(f);
  }
  const int budget = static_cast<int>(std::max<long>(max_maps / 2, 1000));

  const int before = OpenDescriptors();
  std::vector<std::unique_ptr<RandomAccessFile>> files(kFiles);
  for (int i = 0; i < kFiles; i++) {
    ASSERT_TRUE(env->NewRandomAccessFile(dir + "/" + std::to_string(i),
                                         &files[i])
                    .ok());
  }
  const int held = OpenDescriptors() - before;
  // Other tests of this process may still map a few files.
  EXPECT_LE(held, std::max(0, kFiles - budget) + 20)
      << "budget " << budget << " maps";
  for (int i = 0; i < kFiles; i++) {
    char scratch[32];
    Slice got;
    ASSERT_TRUE(files[i]->Read(0, sizeof(scratch), &got, scratch).ok());
    ASSERT_EQ("file " + std::to_string(i), got.ToString());
  }
  files.clear();
  for (int i = 0; i < kFiles; i++) {
    ASSERT_TRUE(env->RemoveFile(dir + "/" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(env->RemoveDir(dir).ok());
}

TEST(PosixEnvTest, WriteErrorsSurface) {
  Env* env = Env::Default();
  // /dev/full (every write fails with ENOSPC) is the only portable way to make a real
  // file's writes fail; a system without it cannot run this check (the fault-injecting
  // Env covers write errors everywhere else).
  if (!env->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewAppendableFile("/dev/full", &f).ok());
  ASSERT_TRUE(f->Append("buffered").ok());
  Status s = f->Flush();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("/dev/full"));
}

// A lock held by another process: the child takes an fcntl lock and the
// parent's LockFile must fail with a message naming the file.
TEST(PosixEnvTest, LockHeldByAnotherProcess) {
  Env* env = Env::Default();
  std::string dir;
  ASSERT_TRUE(env->GetTestDirectory(&dir).ok());
  const std::string lock_name =
      dir + "/xproc-LOCK-" + std::to_string(::getpid());
  int to_parent[2];
  int to_child[2];
  ASSERT_EQ(0, ::pipe(to_parent));
  ASSERT_EQ(0, ::pipe(to_child));
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::close(to_parent[0]);
    ::close(to_child[1]);
    const int fd = ::open(lock_name.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock fl;
    std::memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
    if (::write(to_parent[1], &ok, 1) != 1) ::_exit(2);
    char c;
    while (::read(to_child[0], &c, 1) > 0) {
    }
    ::_exit(0);  // Exiting releases the lock.
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  char ok = 0;
  ASSERT_EQ(1, ::read(to_parent[0], &ok, 1));
  ASSERT_EQ('y', ok);

  FileLock* lock = nullptr;
  Status s = env->LockFile(lock_name, &lock);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(lock_name)) << s.ToString();
  EXPECT_NE(std::string::npos,
            s.ToString().find("already held by another process"))
      << s.ToString();

  ::close(to_child[1]);  // Lets the child exit.
  int status = 0;
  ASSERT_EQ(pid, ::waitpid(pid, &status, 0));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(to_parent[0]);

  // With the child gone the lock is free again.
  ASSERT_TRUE(env->LockFile(lock_name, &lock).ok());
  ASSERT_TRUE(env->UnlockFile(lock).ok());
  ASSERT_TRUE(env->RemoveFile(lock_name).ok());
}

}  // namespace
}  // namespace ldb
