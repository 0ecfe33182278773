// An Env whose files live in memory, for fast and hermetic tests.
//
// Files are shared, reference-counted byte strings: a file object opened
// before a rename or a removal keeps reading (or writing) the same bytes, as
// an open descriptor does on POSIX. Directories are implicit: a file
// "a/b/c" is a child of "a/b".
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
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
#include "util/logging.h"
#include "util/mutexlock.h"

namespace ldb {

namespace {

// The bytes of one file. Thread-safe.
class MemFileData {
 public:
  uint64_t Size() const LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    return contents_.size();
  }

  // Copies up to n bytes at offset into scratch; returns how many.
  size_t Read(uint64_t offset, size_t n, char* scratch) const
      LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    if (offset >= contents_.size()) return 0;
    const size_t available = contents_.size() - static_cast<size_t>(offset);
    const size_t len = n < available ? n : available;
    std::memcpy(scratch, contents_.data() + offset, len);
    return len;
  }

  void Append(const Slice& data) LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    contents_.append(data.data(), data.size());
  }

 private:
  mutable port::Mutex mu_;
  std::string contents_ GUARDED_BY(mu_);
};

using MemFilePtr = std::shared_ptr<MemFileData>;

// Thread-compatible.
class MemSequentialFile final : public SequentialFile {
 public:
  explicit MemSequentialFile(MemFilePtr file) : file_(std::move(file)) {}

  Status Read(size_t n, Slice* result, char* scratch) override {
    const size_t len = file_->Read(pos_, n, scratch);
    pos_ += len;
    *result = Slice(scratch, len);
    return Status::OK();
  }

  Status Skip(uint64_t n) override {
    const uint64_t size = file_->Size();
    pos_ = (pos_ > size || n > size - pos_) ? size : pos_ + n;
    return Status::OK();
  }

 private:
  const MemFilePtr file_;
  uint64_t pos_ = 0;
};

// Read is safe from many threads.
class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(MemFilePtr file) : file_(std::move(file)) {}

  Status Read(uint64_t offset, size_t n, Slice* result,
              char* scratch) const override {
    *result = Slice(scratch, file_->Read(offset, n, scratch));
    return Status::OK();
  }

 private:
  const MemFilePtr file_;
};

// Thread-compatible.
class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::string fname, MemFilePtr file)
      : fname_(std::move(fname)), file_(std::move(file)) {}

  Status Append(const Slice& data) override {
    if (closed_) return Status::IOError(fname_, "append after close");
    file_->Append(data);
    return Status::OK();
  }
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  Status Flush() override {
    if (closed_) return Status::IOError(fname_, "flush after close");
    return Status::OK();
  }
  Status Sync() override {
    if (closed_) return Status::IOError(fname_, "sync after close");
    return Status::OK();
  }

 private:
  const std::string fname_;
  const MemFilePtr file_;
  bool closed_ = false;
};

// Appends "YYYY/MM/DD-HH:MM:SS.micros threadid message\n" lines to an
// in-memory file. Thread-safe (MemFileData::Append is atomic).
class MemLogger final : public Logger {
 public:
  explicit MemLogger(MemFilePtr file) : file_(std::move(file)) {}

  void Logv(const char* format, std::va_list ap) override {
    const std::string line = FormatLogLine(format, ap);
    file_->Append(line);
  }

 private:
  const MemFilePtr file_;
};

class MemFileLock final : public FileLock {
 public:
  explicit MemFileLock(std::string fname) : fname_(std::move(fname)) {}
  const std::string& fname() const { return fname_; }

 private:
  const std::string fname_;
};

// Strips trailing slashes (but keeps a lone "/").
std::string NormalizeDir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

// Thread-safe. Threads, the clock and sleeping come from the base Env.
class MemEnv final : public EnvWrapper {
 public:
  // `base` must outlive the MemEnv.
  explicit MemEnv(Env* base) : EnvWrapper(base) {}

  Status NewSequentialFile(const std::string& fname,
                           std::unique_ptr<SequentialFile>* result) override
      LOCKS_EXCLUDED(mu_) {
    MemFilePtr file = Find(fname);
    if (file == nullptr) {
      result->reset();
      return Status::NotFound(fname, "file not found");
    }
    *result = std::make_unique<MemSequentialFile>(std::move(file));
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& fname,
                             std::unique_ptr<RandomAccessFile>* result) override
      LOCKS_EXCLUDED(mu_) {
    MemFilePtr file = Find(fname);
    if (file == nullptr) {
      result->reset();
      return Status::NotFound(fname, "file not found");
    }
    *result = std::make_unique<MemRandomAccessFile>(std::move(file));
    return Status::OK();
  }

  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override
      LOCKS_EXCLUDED(mu_) {
    auto file = std::make_shared<MemFileData>();
    {
      MutexLock l(&mu_);
      files_[fname] = file;  // Replaces (truncates) any existing file.
    }
    *result = std::make_unique<MemWritableFile>(fname, std::move(file));
    return Status::OK();
  }

  Status NewAppendableFile(const std::string& fname,
                           std::unique_ptr<WritableFile>* result) override
      LOCKS_EXCLUDED(mu_) {
    MemFilePtr file;
    {
      MutexLock l(&mu_);
      MemFilePtr& slot = files_[fname];
      if (slot == nullptr) slot = std::make_shared<MemFileData>();
      file = slot;
    }
    *result = std::make_unique<MemWritableFile>(fname, std::move(file));
    return Status::OK();
  }

  bool FileExists(const std::string& fname) override LOCKS_EXCLUDED(mu_) {
    return Find(fname) != nullptr;
  }

  Status GetChildren(const std::string& dir,
                     std::vector<std::string>* result) override
      LOCKS_EXCLUDED(mu_) {
    result->clear();
    std::string prefix = NormalizeDir(dir);
    if (prefix != "/") prefix.push_back('/');
    MutexLock l(&mu_);
    for (auto it = files_.lower_bound(prefix);
         it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
         ++it) {
      const std::string name = it->first.substr(prefix.size());
      if (!name.empty() && name.find('/') == std::string::npos) {
        result->push_back(name);
      }
    }
    return Status::OK();
  }

  Status RemoveFile(const std::string& fname) override LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    if (files_.erase(fname) == 0) {
      return Status::NotFound(fname, "file not found");
    }
    return Status::OK();
  }

  Status CreateDir(const std::string& /*dirname*/) override {
    return Status::OK();
  }
  Status RemoveDir(const std::string& /*dirname*/) override {
    return Status::OK();
  }

  Status GetFileSize(const std::string& fname, uint64_t* file_size) override
      LOCKS_EXCLUDED(mu_) {
    MemFilePtr file = Find(fname);
    if (file == nullptr) {
      *file_size = 0;
      return Status::NotFound(fname, "file not found");
    }
    *file_size = file->Size();
    return Status::OK();
  }

  Status RenameFile(const std::string& src, const std::string& target) override
      LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    auto it = files_.find(src);
    if (it == files_.end()) return Status::NotFound(src, "file not found");
    if (src == target) return Status::OK();
    MemFilePtr file = std::move(it->second);
    files_.erase(it);
    files_[target] = std::move(file);
    return Status::OK();
  }

  Status SyncDir(const std::string& /*dirname*/) override {
    return Status::OK();
  }

  Status LockFile(const std::string& fname, FileLock** lock) override
      LOCKS_EXCLUDED(mu_) {
    *lock = nullptr;
    MutexLock l(&mu_);
    if (!locked_.insert(fname).second) {
      return Status::IOError("lock " + fname, "already held");
    }
    // Like POSIX, locking creates the file.
    MemFilePtr& slot = files_[fname];
    if (slot == nullptr) slot = std::make_shared<MemFileData>();
    *lock = new MemFileLock(fname);  // Deleted by UnlockFile.
    return Status::OK();
  }

  Status UnlockFile(FileLock* lock) override LOCKS_EXCLUDED(mu_) {
    std::unique_ptr<MemFileLock> mem_lock(static_cast<MemFileLock*>(lock));
    MutexLock l(&mu_);
    locked_.erase(mem_lock->fname());
    return Status::OK();
  }

  Status GetTestDirectory(std::string* path) override {
    *path = "/ldb-memenv-test";
    return Status::OK();
  }

  Status NewLogger(const std::string& fname,
                   std::unique_ptr<Logger>* result) override
      LOCKS_EXCLUDED(mu_) {
    auto file = std::make_shared<MemFileData>();
    {
      MutexLock l(&mu_);
      files_[fname] = file;
    }
    *result = std::make_unique<MemLogger>(std::move(file));
    return Status::OK();
  }

 private:
  MemFilePtr Find(const std::string& fname) LOCKS_EXCLUDED(mu_) {
    MutexLock l(&mu_);
    auto it = files_.find(fname);
    return it == files_.end() ? nullptr : it->second;
  }

  port::Mutex mu_;
  std::map<std::string, MemFilePtr> files_ GUARDED_BY(mu_);
  std::set<std::string> locked_ GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Env> NewMemEnv(Env* base) {
  return std::make_unique<MemEnv>(base);
}

}  // namespace ldb
