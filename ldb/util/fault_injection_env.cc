#include "util/fault_injection_env.h"

#include <cstring>
#include <utility>
#include <vector>

#include "util/mutexlock.h"

namespace ldb {

namespace {

Status InactiveError() { return Status::IOError("filesystem inactive"); }

// Directory part of a path without trailing slashes; "." for a bare name.
std::string DirName(const std::string& fname) {
  const size_t slash = fname.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  std::string dir = fname.substr(0, slash);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

std::string NormalizeDir(const std::string& dir) {
  if (dir.empty()) return ".";
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

}  // namespace

// A writable file that reports its appends and syncs to the env.
// Thread-compatible, like any WritableFile.
class FaultInjectionEnv::TrackedFile final : public WritableFile {
 public:
  // `env` must outlive the file.
  TrackedFile(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base,
              std::shared_ptr<FileState> state)
      : env_(env), base_(std::move(base)), state_(std::move(state)) {}

  Status Append(const Slice& data) override {
    Status s = env_->BeforeAppend();
    if (s.ok()) s = base_->Append(data);
    if (s.ok()) env_->AfterAppend(state_.get(), data.size());
    return s;
  }

  Status Close() override {
    Status s = env_->CheckActive();
    if (s.ok()) s = base_->Close();
    return s;
  }

  Status Flush() override {
    Status s = env_->CheckActive();
    if (s.ok()) s = base_->Flush();
    return s;
  }

  Status Sync() override {
    Status s = env_->BeforeSync();
    if (s.ok()) s = base_->Sync();
    if (s.ok()) env_->AfterSync(state_.get());
    return s;
  }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<WritableFile> base_;
  const std::shared_ptr<FileState> state_;  // Guarded by env_->mu_.
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : EnvWrapper(base) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::SetFilesystemActive(bool active) {
  MutexLock l(&mu_);
  active_ = active;
}

bool FaultInjectionEnv::IsFilesystemActive() const {
  MutexLock l(&mu_);
  return active_;
}

void FaultInjectionEnv::InjectWriteErrors(int n) {
  MutexLock l(&mu_);
  injected_write_errors_ = n < 0 ? 0 : n;
}

uint64_t FaultInjectionEnv::sync_count() const {
  MutexLock l(&mu_);
  return sync_count_;
}

void FaultInjectionEnv::ResetState() {
  MutexLock l(&mu_);
  files_.clear();
  new_files_.clear();
}

Status FaultInjectionEnv::CheckActive() const {
  MutexLock l(&mu_);
  return active_ ? Status::OK() : InactiveError();
}

Status FaultInjectionEnv::BeforeAppend() {
  MutexLock l(&mu_);
  if (!active_) return InactiveError();
  if (injected_write_errors_ > 0) {
    --injected_write_errors_;
    return Status::IOError("injected write error (append)");
  }
  return Status::OK();
}

Status FaultInjectionEnv::BeforeSync() {
  MutexLock l(&mu_);
  ++sync_count_;
  if (!active_) return InactiveError();
  if (injected_write_errors_ > 0) {
    --injected_write_errors_;
    return Status::IOError("injected write error (sync)");
  }
  return Status::OK();
}

void FaultInjectionEnv::AfterAppend(FileState* state, uint64_t n) {
  MutexLock l(&mu_);
  state->size += n;
}

void FaultInjectionEnv::AfterSync(FileState* state) {
  MutexLock l(&mu_);
  state->synced_size = state->size;
}

Status FaultInjectionEnv::OpenTracked(const std::string& fname, bool append,
                                      std::unique_ptr<WritableFile>* result) {
  result->reset();
  Status s = CheckActive();
  if (!s.ok()) return s;
  const bool existed = target()->FileExists(fname);
  uint64_t existing_size = 0;
  if (append && existed) {
    s = target()->GetFileSize(fname, &existing_size);
    if (!s.ok()) return s;
  }
  std::unique_ptr<WritableFile> base_file;
  s = append ? target()->NewAppendableFile(fname, &base_file)
             : target()->NewWritableFile(fname, &base_file);
  if (!s.ok()) return s;

  std::shared_ptr<FileState> state;
  {
    MutexLock l(&mu_);
    auto it = files_.find(fname);
    if (append && it != files_.end()) {
      state = it->second;  // Keep what is known about durability.
    } else {
      // A truncated or untracked file. Contents found at open are taken as
      // durable: they were written before tracking started.
      state = std::make_shared<FileState>();
      state->size = existing_size;
      state->synced_size = existing_size;
      files_[fname] = state;
    }
    if (!existed) new_files_.insert(fname);
  }
  *result = std::make_unique<TrackedFile>(this, std::move(base_file),
                                          std::move(state));
  return Status::OK();
}

Status FaultInjectionEnv::NewWritableFile(
    const std::string& fname, std::unique_ptr<WritableFile>* result) {
  return OpenTracked(fname, /*append=*/false, result);
}

Status FaultInjectionEnv::NewAppendableFile(
    const std::string& fname, std::unique_ptr<WritableFile>* result) {
  return OpenTracked(fname, /*append=*/true, result);
}

Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  Status s = CheckActive();
  if (!s.ok()) return s;
  s = target()->RemoveFile(fname);
  if (s.ok()) {
    MutexLock l(&mu_);
    files_.erase(fname);
    new_files_.erase(fname);
  }
  return s;
}

Status FaultInjectionEnv::RenameFile(const std::string& src,
                                     const std::string& target_name) {
  Status s = CheckActive();
  if (!s.ok()) return s;
  const bool target_existed = target()->FileExists(target_name);
  s = target()->RenameFile(src, target_name);
  if (!s.ok() || src == target_name) return s;

  MutexLock l(&mu_);
  auto it = files_.find(src);
  if (it != files_.end()) {
    std::shared_ptr<FileState> state = std::move(it->second);
    files_.erase(it);
    files_[target_name] = std::move(state);
  } else {
    files_.erase(target_name);  // Now holds untracked (durable) contents.
  }
  const bool src_was_new = new_files_.erase(src) > 0;
  const bool target_was_new = new_files_.count(target_name) > 0;
  if (src_was_new && (!target_existed || target_was_new)) {
    new_files_.insert(target_name);
  } else {
    new_files_.erase(target_name);
  }
  return s;
}

Status FaultInjectionEnv::CreateDir(const std::string& dirname) {
  Status s = CheckActive();
  if (!s.ok()) return s;
  return target()->CreateDir(dirname);
}

Status FaultInjectionEnv::SyncDir(const std::string& dirname) {
  Status s = CheckActive();
  if (!s.ok()) return s;
  s = target()->SyncDir(dirname);
  if (!s.ok()) return s;
  const std::string dir = NormalizeDir(dirname);
  MutexLock l(&mu_);
  for (auto it = new_files_.begin(); it != new_files_.end();) {
    if (DirName(*it) == dir) {
      it = new_files_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::OK();
}

Status FaultInjectionEnv::DropUnsyncedFileData() {
  std::vector<std::pair<std::string, uint64_t>> to_truncate;
  {
    MutexLock l(&mu_);
    for (const auto& [name, state] : files_) {
      to_truncate.emplace_back(name, state->synced_size);
    }
  }

  Status result;
  for (const auto& [name, synced_size] : to_truncate) {
    uint64_t actual_size = 0;
    Status s = target()->GetFileSize(name, &actual_size);
    if (s.IsNotFound()) continue;  // Removed behind our back.
    if (s.ok() && actual_size > synced_size) {
      // Env has no truncate: read the durable prefix and rewrite the file.
      std::string prefix;
      std::unique_ptr<SequentialFile> in;
      s = target()->NewSequentialFile(name, &in);
      if (s.ok() && synced_size > 0) {
        prefix.resize(static_cast<size_t>(synced_size));
        size_t done = 0;
        while (s.ok() && done < prefix.size()) {
          Slice got;
          s = in->Read(prefix.size() - done, &got, prefix.data() + done);
          if (s.ok() && got.empty()) {
            s = Status::IOError(name, "short read while dropping data");
          }
          if (s.ok()) {
            if (got.data() != prefix.data() + done) {
              std::memmove(prefix.data() + done, got.data(), got.size());
            }
            done += got.size();
          }
        }
      }
      in.reset();
      if (s.ok()) {
        std::unique_ptr<WritableFile> out;
        s = target()->NewWritableFile(name, &out);
        if (s.ok()) s = out->Append(prefix);
        if (s.ok()) s = out->Sync();
        if (s.ok()) s = out->Close();
      }
    }
    if (s.ok()) {
      MutexLock l(&mu_);
      auto it = files_.find(name);
      if (it != files_.end()) it->second->size = it->second->synced_size;
    } else if (result.ok()) {
      result = s;
    }
  }
  return result;
}

Status FaultInjectionEnv::RemoveFilesCreatedAfterLastDirSync() {
  std::set<std::string> doomed;
  {
    MutexLock l(&mu_);
    doomed = new_files_;
  }
  Status result;
  for (const std::string& name : doomed) {
    Status s = target()->RemoveFile(name);
    if (s.ok() || s.IsNotFound()) {
      MutexLock l(&mu_);
      files_.erase(name);
      new_files_.erase(name);
    } else if (result.ok()) {
      result = s;
    }
  }
  return result;
}

}  // namespace ldb
