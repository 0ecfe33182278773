#include "configserver/table_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/bucket_hash.h"
#include "common/bucket_table.h"

namespace tessera::cs {
namespace {

constexpr char kMagic[8] = {'T', 'S', 'C', 'S', 'S', 'T', 'A', '1'};
constexpr char kLogMagic[8] = {'T', 'S', 'C', 'S', 'L', 'O', 'G', '1'};

std::string ErrnoText(int err) { return std::strerror(err); }

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status::Internal(what + " " + path + ": " + ErrnoText(err));
}

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Internal("corrupt config server state " + path + ": " + why +
                          " (refusing to start; restore the file or move it away for a "
                          "fresh start, which restarts table versions)");
}

void PutLE(char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Header (magic, length, checksum) and payload.
std::string EncodeRecord(const char (&magic)[8], const std::string& payload) {
  std::string data(TableStore::kHeaderBytes, '\0');
  std::memcpy(data.data(), magic, sizeof(magic));
  PutLE(data.data() + 8, payload.size(), 4);
  PutLE(data.data() + 12, XxHash64(payload), 8);
  data += payload;
  return data;
}

// The payload length of an intact `magic` record at data[offset], or -1.
int64_t IntactRecordAt(std::string_view data, size_t offset, const char (&magic)[8]) {
  if (data.size() - offset < TableStore::kHeaderBytes) return -1;
  const char* h = data.data() + offset;
  if (std::memcmp(h, magic, sizeof(magic)) != 0) return -1;
  const uint64_t length = GetLE(h + 8, 4);
  if (length > TableStore::kMaxPayloadBytes ||
      length > data.size() - offset - TableStore::kHeaderBytes) {
    return -1;
  }
  if (XxHash64(data.substr(offset + TableStore::kHeaderBytes, length)) != GetLE(h + 12, 8)) {
    return -1;
  }
  return static_cast<int64_t>(length);
}

// Parses and checks a state payload of `path`.
Status ParseState(std::string_view payload, const std::string& path,
                  proto::ConfigServerState* state) {
  state->Clear();
  if (!state->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Corrupt(path, "payload does not parse");
  }
  if (state->has_table()) {
    std::shared_ptr<const BucketTable> checked;
    Status s = BucketTable::FromProto(state->table(), &checked);
    if (!s.ok()) return Corrupt(path, "invalid table: " + s.message());
    if (state->table().version() == 0) return Corrupt(path, "table version 0");
  }
  return Status::OK();
}

// Reads all of `fd` (named `path`) into *data.
Status ReadAll(int fd, const std::string& path, std::string* data) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return IoError("cannot stat", path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > 2 * (TableStore::kHeaderBytes + uint64_t{TableStore::kMaxPayloadBytes})) {
    return Corrupt(path, "file size " + std::to_string(size));
  }
  data->assign(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, data->data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", path, errno);
    if (n == 0) break;  // shrank meanwhile: what was read is the file
    done += static_cast<size_t>(n);
  }
  data->resize(done);
  return Status::OK();
}

Status PwriteAll(int fd, const std::string& data, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync", path, err);
  return Status::OK();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Status TableStore::Open(const std::string& dir, std::unique_ptr<TableStore>* out,
                        uint64_t max_log_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create data_dir " + dir + ": " + ec.message());
  const std::string lock_path = dir + "/" + kLockFileName;
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open", lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable("data_dir " + dir + " is in use by another configserver (" +
                                 lock_path + " is locked)");
    }
    return IoError("cannot lock", lock_path, err);
  }
  // A scratch file left by a crash during a checkpoint is not state: the rename never
  // happened.
  std::filesystem::remove(dir + "/" + kTempFileName, ec);
  std::unique_ptr<TableStore> store(new TableStore(dir, fd, max_log_bytes));
  Status s = store->OpenLog(/*truncate=*/false);
  if (!s.ok()) return s;
  *out = std::move(store);
  return Status::OK();
}

TableStore::~TableStore() {
  if (log_fd_ >= 0) ::close(log_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status TableStore::OpenLog(bool truncate) {
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = -1;
  log_end_ = 0;
  const std::string path = log_path();
  const bool existed = Exists(path);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0) return IoError("cannot open", path, errno);
  // An emptied log must stay empty: records left behind a shorter new first record
  // could be read back as newer than it.
  if (truncate && ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("cannot fsync", path, err);
  }
  log_fd_ = fd;
  if (!existed) {
    // Records are durable only once the directory holds the file.
    Status s = FsyncPath(dir_, /*directory=*/true);
    if (!s.ok()) return s;
  }
  if (truncate) return Status::OK();
  std::string payload;
  bool found = false;
  Status s = ReadLog(&payload, &found);
  // A corrupt log still opens: Load reports it (and Save refuses to write over it).
  return log_corrupt_.ok() ? s : Status::OK();
}

Status TableStore::ReadLog(std::string* payload, bool* found) {
  *found = false;
  payload->clear();
  const std::string path = log_path();
  std::string data;
  Status s = ReadAll(log_fd_, path, &data);
  if (!s.ok()) return s;
  size_t offset = 0;
  size_t last = 0, last_length = 0;
  while (true) {
    const int64_t length = IntactRecordAt(data, offset, kLogMagic);
    if (length < 0) break;
    *found = true;
    last = offset;
    last_length = static_cast<size_t>(length);
    offset += kHeaderBytes + static_cast<size_t>(length);
  }
  // What follows the last intact record is the torn tail of an append that never
  // returned, unless an intact record lies beyond it: then a record in the middle of
  // the log is damaged, and its last record may not be the newest state.
  for (size_t p = data.find(kLogMagic, offset + 1, sizeof(kLogMagic)); p != std::string::npos;
       p = data.find(kLogMagic, p + 1, sizeof(kLogMagic))) {
    if (IntactRecordAt(data, p, kLogMagic) >= 0) {
      *found = false;
      log_corrupt_ = Corrupt(path, "the record at offset " + std::to_string(offset) +
                                       " is damaged, and an intact one follows at offset " +
                                       std::to_string(p));
      return log_corrupt_;
    }
  }
  log_end_ = offset;
  if (*found) payload->assign(data, last + kHeaderBytes, last_length);
  return Status::OK();
}

Status TableStore::Load(proto::ConfigServerState* state, bool* found) {
  state->Clear();
  *found = false;
  proto::ConfigServerState parsed;
  bool have = false;
  // The checkpoint is checked even when the log supersedes it.
  const std::string path = state_path();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) return IoError("cannot open", path, errno);
  if (fd >= 0) {
    std::string data;
    Status s = ReadAll(fd, path, &data);
    ::close(fd);
    if (!s.ok()) return s;
    const uint64_t size = data.size();
    if (size < kHeaderBytes || size > kHeaderBytes + kMaxPayloadBytes) {
      return Corrupt(path, "file size " + std::to_string(size));
    }
    if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) return Corrupt(path, "bad magic");
    const uint64_t length = GetLE(data.data() + 8, 4);
    if (length != size - kHeaderBytes) {
      return Corrupt(path, "payload length " + std::to_string(length) + " but file holds " +
                               std::to_string(size - kHeaderBytes) + " bytes");
    }
    if (IntactRecordAt(data, 0, kMagic) < 0) return Corrupt(path, "checksum mismatch");
    s = ParseState(std::string_view(data).substr(kHeaderBytes), path, &parsed);
    if (!s.ok()) return s;
    have = true;
  }
  if (log_fd_ < 0) {
    Status s = OpenLog(/*truncate=*/false);
    if (!s.ok()) return s;
  }
  std::string payload;
  bool logged = false;
  Status s = ReadLog(&payload, &logged);
  if (!s.ok()) return s;
  if (logged) {
    s = ParseState(payload, log_path(), &parsed);
    if (!s.ok()) return s;
    have = true;
  }
  if (have) {
    *state = std::move(parsed);
    *found = true;
  }
  return Status::OK();
}

Status TableStore::WriteCheckpoint(const std::string& record) {
  const std::string tmp = dir_ + "/" + kTempFileName;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", tmp, errno);
  Status s = PwriteAll(fd, record, 0, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = IoError("cannot fsync", tmp, errno);
  if (::close(fd) != 0 && s.ok()) s = IoError("cannot close", tmp, errno);
  if (s.ok() && ::rename(tmp.c_str(), state_path().c_str()) != 0) {
    s = IoError("cannot rename " + tmp + " to", state_path(), errno);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename is durable only once the directory is synced.
  return FsyncPath(dir_, /*directory=*/true);
}

Status TableStore::Save(const proto::ConfigServerState& state) {
  if (!log_corrupt_.ok()) return log_corrupt_;
  std::string payload;
  if (!state.SerializeToString(&payload)) return Status::Internal("cannot serialize state");
  if (payload.size() > kMaxPayloadBytes) return Status::Internal("state too large to persist");
  if (log_fd_ < 0) {
    Status s = OpenLog(/*truncate=*/false);
    if (!s.ok()) return s;
    if (!log_corrupt_.ok()) return log_corrupt_;
  }
  const std::string record = EncodeRecord(kLogMagic, payload);
  struct stat st;
  const bool log_unlinked = ::fstat(log_fd_, &st) == 0 && st.st_nlink == 0;
  const bool checkpoint =
      log_unlinked || !Exists(state_path()) || log_end_ + record.size() > max_log_bytes_;
  Status s = PwriteAll(log_fd_, record, log_end_, log_path());
  if (s.ok() && ::fdatasync(log_fd_) != 0) s = IoError("cannot fdatasync", log_path(), errno);
  if (!s.ok()) {
    // Drop what may have reached the file: the state was not saved.
    if (::ftruncate(log_fd_, static_cast<off_t>(log_end_)) != 0) {
      ::close(log_fd_);
      log_fd_ = -1;  // the next Save reopens and reads the log again
    }
    return s;
  }
  const uint64_t before = log_end_;
  log_end_ += record.size();
  if (!checkpoint) return Status::OK();
  // The state is the log's last record now: replacing the checkpoint, then emptying the
  // log, keeps it the newest state across a crash at any point.
  s = WriteCheckpoint(EncodeRecord(kMagic, payload));
  if (!s.ok()) {
    // A failed Save leaves the previous state: take the append back.
    if (::ftruncate(log_fd_, static_cast<off_t>(before)) == 0 && ::fdatasync(log_fd_) == 0) {
      log_end_ = before;
    } else {
      ::close(log_fd_);
      log_fd_ = -1;
    }
    return s;
  }
  s = OpenLog(/*truncate=*/true);
  // If emptying failed, the log still ends with this state, and the next Save reopens it.
  if (!s.ok() && log_fd_ >= 0) {
    ::close(log_fd_);
    log_fd_ = -1;
  }
  return Status::OK();
}

}  // namespace tessera::cs
