// Env: everything ldb asks of the operating system (files, directories, locks,
// threads, the clock), so tests can swap in an in-memory or fault-injecting
// implementation and a fake clock.
//
// Env implementations are thread-safe. File objects are thread-compatible
// (RandomAccessFile: const Read is safe from many threads).
#ifndef LDB_INCLUDE_ENV_H_
#define LDB_INCLUDE_ENV_H_

#include <cstdarg>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class SequentialFile;
class RandomAccessFile;
class WritableFile;
class FileLock;
class Logger;

class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env();

  // The POSIX environment. Static lifetime; never delete it.
  static Env* Default();

  virtual Status NewSequentialFile(const std::string& fname,
                                   std::unique_ptr<SequentialFile>* result) = 0;
  virtual Status NewRandomAccessFile(
      const std::string& fname, std::unique_ptr<RandomAccessFile>* result) = 0;
  // Creates or truncates.
  virtual Status NewWritableFile(const std::string& fname,
                                 std::unique_ptr<WritableFile>* result) = 0;
  // Like NewWritableFile, for a write-ahead log: many small appends, each
  // handed to the OS by Flush(), few syncs. An implementation may keep zero
  // bytes after the last append until Close() (the log reader skips them);
  // the POSIX env writes through a memory map, so an append costs no system
  // call yet still survives a crash of the process. Wrappers that do not
  // override it get NewWritableFile (so they see every file created).
  virtual Status NewLogFile(const std::string& fname,
                            std::unique_ptr<WritableFile>* result) {
    return NewWritableFile(fname, result);
  }
  // Like NewWritableFile, for a large file written once, sequentially, and
  // read only after it is closed (a table made by DB::IngestSorted): the env
  // may write around the OS page cache, and read the file back into it in the
  // background once closed. Flush() may then keep data in the process; only
  // Sync() and Close() are sure to write it. The POSIX env uses O_DIRECT where
  // the file system allows (util/posix_direct_file.h says why). Wrappers that
  // do not override it get NewWritableFile.
  virtual Status NewUncachedWritableFile(
      const std::string& fname, std::unique_ptr<WritableFile>* result) {
    return NewWritableFile(fname, result);
  }
  // Opens for append, creating it when missing.
  virtual Status NewAppendableFile(const std::string& fname,
                                   std::unique_ptr<WritableFile>* result) = 0;

  virtual bool FileExists(const std::string& fname) = 0;
  // Names (not paths) of the entries in dir.
  virtual Status GetChildren(const std::string& dir,
                             std::vector<std::string>* result) = 0;
  virtual Status RemoveFile(const std::string& fname) = 0;
  virtual Status CreateDir(const std::string& dirname) = 0;
  virtual Status RemoveDir(const std::string& dirname) = 0;
  virtual Status GetFileSize(const std::string& fname, uint64_t* file_size) = 0;
  // Atomically replaces target with src.
  virtual Status RenameFile(const std::string& src,
                            const std::string& target) = 0;
  // Makes directory entries (creations, renames) in dir durable.
  virtual Status SyncDir(const std::string& dirname) = 0;

  // Locks fname so that no other process can lock it; fails with IOError
  // (message naming the file) when someone else holds it. Also fails when
  // this process already holds it.
  virtual Status LockFile(const std::string& fname, FileLock** lock) = 0;
  // REQUIRES: lock came from a successful LockFile and is not unlocked yet.
  virtual Status UnlockFile(FileLock* lock) = 0;

  // Runs fn once on a background thread. Jobs run one at a time, in order.
  virtual void Schedule(std::function<void()> fn) = 0;
  // Starts a new detached thread running fn.
  virtual void StartThread(std::function<void()> fn) = 0;

  // A directory for tests; the same on every call within a process.
  virtual Status GetTestDirectory(std::string* path) = 0;

  // A logger writing to fname.
  virtual Status NewLogger(const std::string& fname,
                           std::unique_ptr<Logger>* result) = 0;

  // Microseconds since some fixed point (monotone enough for durations).
  virtual uint64_t NowMicros() = 0;
  // Wall-clock seconds since the Unix epoch: the clock TTL expiry uses.
  virtual uint64_t NowSeconds();

  virtual void SleepForMicroseconds(int micros) = 0;
};

class SequentialFile {
 public:
  SequentialFile() = default;
  SequentialFile(const SequentialFile&) = delete;
  SequentialFile& operator=(const SequentialFile&) = delete;
  virtual ~SequentialFile();

  // Reads up to n bytes; *result may point into scratch[0, n). A short read
  // means end of file.
  virtual Status Read(size_t n, Slice* result, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  virtual ~RandomAccessFile();

  // Reads up to n bytes at offset; *result may point into scratch[0, n).
  // Safe to call from many threads at once.
  virtual Status Read(uint64_t offset, size_t n, Slice* result,
                      char* scratch) const = 0;
};

class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile();

  virtual Status Append(const Slice& data) = 0;
  virtual Status Close() = 0;
  // Hands buffered data to the operating system.
  virtual Status Flush() = 0;
  // Makes everything appended so far durable (fdatasync). A new file's
  // directory entry is made durable by Env::SyncDir.
  virtual Status Sync() = 0;
};

// printf-style info log. Thread-safe.
class Logger {
 public:
  Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  virtual ~Logger();

  virtual void Logv(const char* format, std::va_list ap) = 0;
};

class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  virtual ~FileLock();
};

// Logs to info_log when it is not null.
void Log(Logger* info_log, const char* format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((__format__(__printf__, 2, 3)))
#endif
    ;

// Whole-file helpers.
Status WriteStringToFile(Env* env, const Slice& data, const std::string& fname);
// Also syncs the file before closing it.
Status WriteStringToFileSync(Env* env, const Slice& data,
                             const std::string& fname);
Status ReadFileToString(Env* env, const std::string& fname, std::string* data);

// Forwards every call to another Env; subclass it to override a few calls.
class EnvWrapper : public Env {
 public:
  // `target` must outlive the wrapper.
  explicit EnvWrapper(Env* target) : target_(target) {}
  ~EnvWrapper() override;

  Env* target() const { return target_; }

  Status NewSequentialFile(const std::string& f,
                           std::unique_ptr<SequentialFile>* r) override {
    return target_->NewSequentialFile(f, r);
  }
  Status NewRandomAccessFile(const std::string& f,
                             std::unique_ptr<RandomAccessFile>* r) override {
    return target_->NewRandomAccessFile(f, r);
  }
  Status NewWritableFile(const std::string& f,
                         std::unique_ptr<WritableFile>* r) override {
    return target_->NewWritableFile(f, r);
  }
  Status NewAppendableFile(const std::string& f,
                           std::unique_ptr<WritableFile>* r) override {
    return target_->NewAppendableFile(f, r);
  }
  bool FileExists(const std::string& f) override {
    return target_->FileExists(f);
  }
  Status GetChildren(const std::string& dir,
                     std::vector<std::string>* r) override {
    return target_->GetChildren(dir, r);
  }
  Status RemoveFile(const std::string& f) override {
    return target_->RemoveFile(f);
  }
  Status CreateDir(const std::string& d) override {
    return target_->CreateDir(d);
  }
  Status RemoveDir(const std::string& d) override {
    return target_->RemoveDir(d);
  }
  Status GetFileSize(const std::string& f, uint64_t* s) override {
    return target_->GetFileSize(f, s);
  }
  Status RenameFile(const std::string& s, const std::string& t) override {
    return target_->RenameFile(s, t);
  }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Status LockFile(const std::string& f, FileLock** l) override {
    return target_->LockFile(f, l);
  }
  Status UnlockFile(FileLock* l) override { return target_->UnlockFile(l); }
  void Schedule(std::function<void()> fn) override {
    target_->Schedule(std::move(fn));
  }
  void StartThread(std::function<void()> fn) override {
    target_->StartThread(std::move(fn));
  }
  Status GetTestDirectory(std::string* path) override {
    return target_->GetTestDirectory(path);
  }
  Status NewLogger(const std::string& fname,
                   std::unique_ptr<Logger>* result) override {
    return target_->NewLogger(fname, result);
  }
  uint64_t NowMicros() override { return target_->NowMicros(); }
  uint64_t NowSeconds() override { return target_->NowSeconds(); }
  void SleepForMicroseconds(int micros) override {
    target_->SleepForMicroseconds(micros);
  }

 private:
  Env* target_;
};

// An Env that keeps every file in memory (directories are implicit) and uses
// `base` for threads and the clock. `base` must outlive the result.
std::unique_ptr<Env> NewMemEnv(Env* base);

// Raises the calling thread's nice value to `nice` (clipped to 1..19) when it
// is lower, so that the scheduler prefers other threads when the CPUs are
// busy (Linux keeps a nice value per thread). It cannot be undone without
// privileges: use it on threads dedicated to background work. Returns false
// when the platform cannot or refused. Thread-safe.
bool LowerCurrentThreadPriority(int nice);

}  // namespace ldb

#endif  // LDB_INCLUDE_ENV_H_
