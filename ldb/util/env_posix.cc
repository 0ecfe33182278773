// The POSIX Env: files through read/pread/write, fcntl locks, one background
// thread for Schedule(), a line-per-message file logger.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ldb/env.h"
#include "port/port.h"
#include "port/thread_annotations.h"
#include "port/thread_name.h"
#include "util/logging.h"
#include "util/mutexlock.h"
#include "util/posix_direct_file.h"
#include "util/posix_mmap_files.h"

namespace ldb {

namespace {

// An error for an operation on `context` (usually a path) that failed with
// `error_number`. A missing file is NotFound; everything else is IOError.
Status PosixError(const std::string& context, int error_number) {
  if (error_number == ENOENT) {
    return Status::NotFound(context, std::strerror(error_number));
  }
  return Status::IOError(context, std::strerror(error_number));
}

// Reads sequentially through read(2). Thread-compatible.
class PosixSequentialFile final : public SequentialFile {
 public:
  // Takes ownership of fd.
  PosixSequentialFile(std::string fname, int fd)
      : fname_(std::move(fname)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, Slice* result, char* scratch) override {
    while (true) {
      const ssize_t r = ::read(fd_, scratch, n);
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = Slice(scratch, 0);
        return PosixError(fname_, errno);
      }
      *result = Slice(scratch, static_cast<size_t>(r));
      return Status::OK();
    }
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) ==
        static_cast<off_t>(-1)) {
      return PosixError(fname_, errno);
    }
    return Status::OK();
  }

 private:
  const std::string fname_;
  const int fd_;
};

// Reads at offsets through pread(2), which does not move a shared file
// position, so Read is safe from many threads at once.
class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  // Takes ownership of fd.
  PosixRandomAccessFile(std::string fname, int fd)
      : fname_(std::move(fname)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, Slice* result,
              char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, scratch + done, n - done,
                                static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = Slice(scratch, 0);
        return PosixError(fname_, errno);
      }
      if (r == 0) break;  // End of file.
      done += static_cast<size_t>(r);
    }
    *result = Slice(scratch, done);
    return Status::OK();
  }

 private:
  const std::string fname_;
  const int fd_;
};

// Appends through a 64 KiB user-space buffer. Thread-compatible.
class PosixWritableFile final : public WritableFile {
 public:
  // Takes ownership of fd.
  PosixWritableFile(std::string fname, int fd)
      : fname_(std::move(fname)),
        fd_(fd),
        buf_(std::make_unique<char[]>(kBufferSize)) {}

  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      // Best effort: the caller chose not to Close() and see errors.
      Close().IgnoreError();
    }
  }

  Status Append(const Slice& data) override {
    if (fd_ < 0) return Status::IOError(fname_, "append after close");
    const char* p = data.data();
    size_t left = data.size();
    const size_t fits = std::min(left, kBufferSize - pos_);
    std::memcpy(buf_.get() + pos_, p, fits);
    pos_ += fits;
    p += fits;
    left -= fits;
    if (left == 0) return Status::OK();

    // The buffer is full and there is more.
    Status s = FlushBuffer();
    if (!s.ok()) return s;
    if (left < kBufferSize) {
      std::memcpy(buf_.get(), p, left);
      pos_ = left;
      return Status::OK();
    }
    return WriteRaw(p, left);
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = FlushBuffer();
    if (::close(fd_) < 0 && s.ok()) s = PosixError(fname_, errno);
    fd_ = -1;
    return s;
  }

  Status Flush() override {
    if (fd_ < 0) return Status::IOError(fname_, "flush after close");
    return FlushBuffer();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError(fname_, "sync after close");
    Status s = FlushBuffer();
    if (!s.ok()) return s;
    if (::fdatasync(fd_) < 0) return PosixError(fname_, errno);
    return Status::OK();
  }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;

  Status FlushBuffer() {
    Status s = WriteRaw(buf_.get(), pos_);
    pos_ = 0;
    return s;
  }

  Status WriteRaw(const char* p, size_t n) {
    while (n > 0) {
      const ssize_t r = ::write(fd_, p, n);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(fname_, errno);
      }
      p += r;
      n -= static_cast<size_t>(r);
    }
    return Status::OK();
  }

  const std::string fname_;
  int fd_;  // -1 once closed.
  std::unique_ptr<char[]> buf_;
  size_t pos_ = 0;  // Bytes of buf_ not yet written.
};

// A held lock: the open descriptor carrying the fcntl lock.
class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string fname, int fd)
      : fname_(std::move(fname)), fd_(fd) {}
  const std::string& fname() const { return fname_; }
  int fd() const { return fd_; }

 private:
  const std::string fname_;
  const int fd_;
};

// The names this process holds locks on. fcntl locks belong to the process,
// so a second lock from the same process would succeed without this table.
// Thread-safe.
class LockTable {
 public:
  // True when fname was not held and now is.
  bool Insert(const std::string& fname) LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    return held_.insert(fname).second;
  }
  void Remove(const std::string& fname) LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    held_.erase(fname);
  }

 private:
  port::Mutex mu_;
  std::set<std::string> held_ GUARDED_BY(mu_);
};

// Takes (or, with lock == false, releases) a whole-file write lock.
int SetFcntlLock(int fd, bool lock) {
  struct ::flock f;
  std::memset(&f, 0, sizeof(f));
  f.l_type = lock ? F_WRLCK : F_UNLCK;
  f.l_whence = SEEK_SET;
  f.l_start = 0;
  f.l_len = 0;  // The whole file.
  return ::fcntl(fd, F_SETLK, &f);
}

// Writes "YYYY/MM/DD-HH:MM:SS.micros threadid message\n" lines to a file,
// one write(2) per line. Thread-safe.
class PosixLogger final : public Logger {
 public:
  // Takes ownership of fd.
  explicit PosixLogger(int fd) : fd_(fd) {}
  ~PosixLogger() override { ::close(fd_); }

  void Logv(const char* format, std::va_list ap) override {
    const std::string line = FormatLogLine(format, ap);
    MutexLock l(&mu_);
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      const ssize_t r = ::write(fd_, p, left);
      if (r < 0) {
        if (errno == EINTR) continue;
        return;  // Logging is best effort.
      }
      p += r;
      left -= static_cast<size_t>(r);
    }
  }

 private:
  port::Mutex mu_;  // Keeps lines whole.
  const int fd_;
};

// How many table files the process may map for reading: half the kernel's
// per-process map count (vm.max_map_count, 65530 by default), so thread
// stacks, malloc arenas, libraries and WAL mappings keep the other half; at
// least 1000. A data server cuts its tables at bucket boundaries, so it keeps
// thousands of small tables open: a budget of LevelDB's 1000 maps would make
// the rest hold a file descriptor each.
int MmapBudget() {
  long max_maps = 0;
  if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    if (std::fscanf(f, "%ld", &max_maps) != 1) max_maps = 0;
    std::fclose(f);
  }
  return static_cast<int>(std::clamp<long>(max_maps / 2, 1000, 1 << 20));
}

// Thread-safe.
class PosixEnv final : public Env {
 public:
  PosixEnv() = default;
  // Never runs: Env::Default() lives until the process exits.
  ~PosixEnv() override = default;

  Status NewSequentialFile(const std::string& fname,
                           std::unique_ptr<SequentialFile>* result) override {
    const int fd = ::open(fname.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result->reset();
      return PosixError(fname, errno);
    }
    *result = std::make_unique<PosixSequentialFile>(fname, fd);
    return Status::OK();
  }

  Status NewRandomAccessFile(
      const std::string& fname,
      std::unique_ptr<RandomAccessFile>* result) override {
    const int fd = ::open(fname.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result->reset();
      return PosixError(fname, errno);
    }
    // Map the file when the budget allows (a read is then a pointer, no
    // system call, no copy); otherwise read through pread.
    struct ::stat st;
    if (::fstat(fd, &st) == 0 &&
        NewPosixMmapReadableFile(fname, fd, static_cast<uint64_t>(st.st_size),
                                 &mmap_limiter_, result)
            .ok()) {
      return Status::OK();
    }
    *result = std::make_unique<PosixRandomAccessFile>(fname, fd);
    return Status::OK();
  }

  Status NewLogFile(const std::string& fname,
                    std::unique_ptr<WritableFile>* result) override {
    const int fd =
        ::open(fname.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      result->reset();
      return PosixError(fname, errno);
    }
    *result = NewPosixMmapLogFile(fname, fd);
    return Status::OK();
  }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override {
    return OpenWritable(fname, O_TRUNC, result);
  }

  Status NewUncachedWritableFile(
      const std::string& fname,
      std::unique_ptr<WritableFile>* result) override {
    return NewPosixDirectWritableFile(fname, result);
  }

  Status NewAppendableFile(const std::string& fname,
                           std::unique_ptr<WritableFile>* result) override {
    return OpenWritable(fname, O_APPEND, result);
  }

  bool FileExists(const std::string& fname) override {
    return ::access(fname.c_str(), F_OK) == 0;
  }

  Status GetChildren(const std::string& dir,
                     std::vector<std::string>* result) override {
    result->clear();
    ::DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, errno);
    while (true) {
      errno = 0;
      const struct ::dirent* entry = ::readdir(d);
      if (entry == nullptr) break;
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) {
        continue;
      }
      result->emplace_back(name);
    }
    const int read_errno = errno;
    ::closedir(d);
    if (read_errno != 0) return PosixError(dir, read_errno);
    return Status::OK();
  }

  Status RemoveFile(const std::string& fname) override {
    if (::unlink(fname.c_str()) != 0) return PosixError(fname, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& dirname) override {
    if (::mkdir(dirname.c_str(), 0755) == 0) return Status::OK();
    const int mkdir_errno = errno;
    if (mkdir_errno == EEXIST) {
      struct ::stat st;
      if (::stat(dirname.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        return Status::OK();  // Already there.
      }
    }
    return PosixError(dirname, mkdir_errno);
  }

  Status RemoveDir(const std::string& dirname) override {
    if (::rmdir(dirname.c_str()) != 0) return PosixError(dirname, errno);
    return Status::OK();
  }

  Status GetFileSize(const std::string& fname, uint64_t* file_size) override {
    struct ::stat st;
    if (::stat(fname.c_str(), &st) != 0) {
      *file_size = 0;
      return PosixError(fname, errno);
    }
    *file_size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status RenameFile(const std::string& src,
                    const std::string& target) override {
    if (::rename(src.c_str(), target.c_str()) != 0) {
      return PosixError(src, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& dirname) override {
    const int fd = ::open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dirname, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError(dirname, errno);
    ::close(fd);
    return s;
  }

  Status LockFile(const std::string& fname, FileLock** lock) override {
    *lock = nullptr;
    const std::string context = "lock " + fname;
    // Checked first: a second fcntl lock by this process would succeed.
    if (!locks_.Insert(fname)) {
      return Status::IOError(context, "already held by this process");
    }
    const int fd = ::open(fname.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int open_errno = errno;
      locks_.Remove(fname);
      return PosixError(context, open_errno);
    }
    if (SetFcntlLock(fd, /*lock=*/true) != 0) {
      const int lock_errno = errno;
      ::close(fd);
      locks_.Remove(fname);
      if (lock_errno == EAGAIN || lock_errno == EACCES) {
        return Status::IOError(context, "already held by another process");
      }
      return PosixError(context, lock_errno);
    }
    // Released by UnlockFile.
    *lock = new PosixFileLock(fname, fd);
    return Status::OK();
  }

  Status UnlockFile(FileLock* lock) override {
    std::unique_ptr<PosixFileLock> posix_lock(
        static_cast<PosixFileLock*>(lock));
    Status s;
    if (SetFcntlLock(posix_lock->fd(), /*lock=*/false) != 0) {
      s = PosixError("unlock " + posix_lock->fname(), errno);
    }
    ::close(posix_lock->fd());
    locks_.Remove(posix_lock->fname());
    return s;
  }

  void Schedule(std::function<void()> fn) override LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    if (!background_started_) {
      background_started_ = true;
      // Detached: the Env is never destroyed, so the thread never has to stop.
      std::thread([this] {
        port::SetCurrentThreadName("ldb-bg");
        BackgroundLoop();
      }).detach();
    }
    queue_.push_back(std::move(fn));
    cv_.Signal();
  }

  void StartThread(std::function<void()> fn) override {
    std::thread(std::move(fn)).detach();
  }

  Status GetTestDirectory(std::string* path) override {
    const char* env_dir = std::getenv("TEST_TMPDIR");
    if (env_dir != nullptr && env_dir[0] != '\0') {
      *path = env_dir;
    } else {
      *path = "/tmp/ldbtest-" + std::to_string(::geteuid());
    }
    return CreateDir(*path);
  }

  Status NewLogger(const std::string& fname,
                   std::unique_ptr<Logger>* result) override {
    const int fd =
        ::open(fname.c_str(),
               O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      result->reset();
      return PosixError(fname, errno);
    }
    *result = std::make_unique<PosixLogger>(fd);
    return Status::OK();
  }

  uint64_t NowMicros() override {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

  void SleepForMicroseconds(int micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }

 private:
  Status OpenWritable(const std::string& fname, int mode_flag,
                      std::unique_ptr<WritableFile>* result) {
    const int fd =
        ::open(fname.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode_flag, 0644);
    if (fd < 0) {
      result->reset();
      return PosixError(fname, errno);
    }
    *result = std::make_unique<PosixWritableFile>(fname, fd);
    return Status::OK();
  }

  // Runs queued jobs one at a time, in the order they were scheduled.
  void BackgroundLoop() LOCKS_EXCLUDED(mu_) {
    while (true) {
      std::function<void()> job;
      {
        MutexLock l(&mu_);
        while (queue_.empty()) cv_.Wait();
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  LockTable locks_;
  // At most this many table files are mapped at once; the rest are read with
  // pread, which holds a file descriptor per open table (see MmapBudget).
  MmapLimiter mmap_limiter_{MmapBudget()};

  port::Mutex mu_;
  port::CondVar cv_{&mu_};  // Signalled when a job is queued.
  bool background_started_ GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
};

}  // namespace

Env* Env::Default() {
  // Allocated once and never freed, so that background threads and detached
  // threads can use it during process exit.
  static Env* const default_env = new PosixEnv();
  return default_env;
}

}  // namespace ldb
