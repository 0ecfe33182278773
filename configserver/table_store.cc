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

std::string ErrnoText(int err) { return std::strerror(err); }

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status::Internal(what + " " + path + ": " + ErrnoText(err));
}

void PutLE(char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
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

}  // namespace

Status TableStore::Open(const std::string& dir, std::unique_ptr<TableStore>* out) {
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
  // A scratch file left by a crash during Save is not state: the rename never happened.
  std::filesystem::remove(dir + "/" + kTempFileName, ec);
  out->reset(new TableStore(dir, fd));
  return Status::OK();
}

TableStore::~TableStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status TableStore::Load(proto::ConfigServerState* state, bool* found) {
  state->Clear();
  *found = false;
  const std::string path = state_path();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::OK();
    return IoError("cannot open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("cannot stat", path, err);
  }
  auto corrupt = [&path](const std::string& why) {
    return Status::Internal("corrupt config server state " + path + ": " + why +
                            " (refusing to start; restore the file or move it away for a "
                            "fresh start, which restarts table versions)");
  };
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes || size > kHeaderBytes + kMaxPayloadBytes) {
    ::close(fd);
    return corrupt("file size " + std::to_string(size));
  }
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, data.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      ::close(fd);
      if (n == 0) return corrupt("file shrank while reading");
      return IoError("cannot read", path, err);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) return corrupt("bad magic");
  const uint64_t length = GetLE(data.data() + 8, 4);
  const uint64_t checksum = GetLE(data.data() + 12, 8);
  if (length != size - kHeaderBytes) {
    return corrupt("payload length " + std::to_string(length) + " but file holds " +
                   std::to_string(size - kHeaderBytes) + " bytes");
  }
  std::string_view payload(data.data() + kHeaderBytes, length);
  if (XxHash64(payload) != checksum) return corrupt("checksum mismatch");
  proto::ConfigServerState parsed;
  if (!parsed.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return corrupt("payload does not parse");
  }
  if (parsed.has_table()) {
    std::shared_ptr<const BucketTable> checked;
    Status s = BucketTable::FromProto(parsed.table(), &checked);
    if (!s.ok()) return corrupt("invalid table: " + s.message());
    if (parsed.table().version() == 0) return corrupt("table version 0");
  }
  *state = std::move(parsed);
  *found = true;
  return Status::OK();
}

Status TableStore::Save(const proto::ConfigServerState& state) {
  std::string payload;
  if (!state.SerializeToString(&payload)) return Status::Internal("cannot serialize state");
  if (payload.size() > kMaxPayloadBytes) return Status::Internal("state too large to persist");
  std::string data(kHeaderBytes, '\0');
  std::memcpy(data.data(), kMagic, sizeof(kMagic));
  PutLE(data.data() + 8, payload.size(), 4);
  PutLE(data.data() + 12, XxHash64(payload), 8);
  data += payload;

  const std::string tmp = dir_ + "/" + kTempFileName;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", tmp, errno);
  Status s = WriteAll(fd, data, tmp);
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

}  // namespace tessera::cs
