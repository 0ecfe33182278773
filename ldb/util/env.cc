// The parts of the Env contract that do not depend on an implementation:
// virtual destructors, the default wall clock, and whole-file helpers.
#include "ldb/env.h"

#include <chrono>
#include <cstdarg>

#include "port/thread_priority.h"


namespace ldb {

Env::~Env() = default;

uint64_t Env::NowSeconds() {
  // Wall clock on purpose: NowMicros may be a monotonic clock with an
  // arbitrary origin, while TTLs are absolute Unix times.
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  return seconds < 0 ? 0 : static_cast<uint64_t>(seconds);
}

SequentialFile::~SequentialFile() = default;
RandomAccessFile::~RandomAccessFile() = default;
WritableFile::~WritableFile() = default;
Logger::~Logger() = default;
FileLock::~FileLock() = default;
EnvWrapper::~EnvWrapper() = default;

void Log(Logger* info_log, const char* format, ...) {
  if (info_log == nullptr) return;
  std::va_list ap;
  va_start(ap, format);
  info_log->Logv(format, ap);
  va_end(ap);
}

namespace {

Status WriteStringToFileImpl(Env* env, const Slice& data,
                             const std::string& fname, bool should_sync) {
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(fname, &file);
  if (!s.ok()) return s;
  s = file->Append(data);
  if (s.ok() && should_sync) s = file->Sync();
  if (s.ok()) s = file->Close();
  file.reset();  // Closes the file even when an earlier step failed.
  if (!s.ok()) {
    // Do not leave a partial file behind; the original error matters more.
    env->RemoveFile(fname).IgnoreError();
  }
  return s;
}

}  // namespace

Status WriteStringToFile(Env* env, const Slice& data,
                         const std::string& fname) {
  return WriteStringToFileImpl(env, data, fname, /*should_sync=*/false);
}

Status WriteStringToFileSync(Env* env, const Slice& data,
                             const std::string& fname) {
  return WriteStringToFileImpl(env, data, fname, /*should_sync=*/true);
}

Status ReadFileToString(Env* env, const std::string& fname, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  Status s = env->NewSequentialFile(fname, &file);
  if (!s.ok()) return s;
  constexpr size_t kChunkSize = 8192;
  auto scratch = std::make_unique<char[]>(kChunkSize);
  while (true) {
    Slice fragment;
    s = file->Read(kChunkSize, &fragment, scratch.get());
    if (!s.ok()) break;
    data->append(fragment.data(), fragment.size());
    if (fragment.empty()) break;
  }
  return s;
}

bool LowerCurrentThreadPriority(int nice) {
  return port::LowerCurrentThreadPriority(nice);
}

}  // namespace ldb
