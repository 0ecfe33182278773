// TableStore: the config server's persisted state (proto::ConfigServerState: the
// published table and the admin membership changes) in its data_dir.
//
// Files in data_dir:
//   LOCK                 flock()ed while a TableStore is open (one config server per dir)
//   CONFIGSERVER_STATE   the state, replaced atomically by Save
//   CONFIGSERVER_STATE.tmp  Save's scratch file (a leftover one is ignored and removed)
//
// CONFIGSERVER_STATE format (little-endian):
//   8 bytes  magic "TSCSSTA1"
//   4 bytes  payload length N (at most kMaxPayloadBytes)
//   8 bytes  XXH64(payload, seed 0)
//   N bytes  payload: a serialized proto::ConfigServerState
// The file is exactly 20 + N bytes long.
//
// Save writes the scratch file, fsyncs it, renames it over CONFIGSERVER_STATE and
// fsyncs the directory, so after a crash the file holds either the old or the new
// state, never a mix. Load refuses (Internal, "corrupt ...") a file with a bad magic,
// length, checksum, payload, or a table that BucketTable would not accept: the config
// server must not start and publish a wrong table. A missing file is a fresh start.
//
// Thread-compatible.
#ifndef TESSERA_CONFIGSERVER_TABLE_STORE_H_
#define TESSERA_CONFIGSERVER_TABLE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/proto/cluster.pb.h"
#include "common/status.h"

namespace tessera::cs {

class TableStore {
 public:
  static constexpr char kStateFileName[] = "CONFIGSERVER_STATE";
  static constexpr char kTempFileName[] = "CONFIGSERVER_STATE.tmp";
  static constexpr char kLockFileName[] = "LOCK";
  static constexpr size_t kHeaderBytes = 20;
  static constexpr uint32_t kMaxPayloadBytes = 1u << 30;

  // Creates `dir` if needed and locks it. Unavailable when another process (or
  // another open TableStore) holds the lock; Internal on I/O errors.
  static Status Open(const std::string& dir, std::unique_ptr<TableStore>* out);
  ~TableStore();
  TableStore(const TableStore&) = delete;
  TableStore& operator=(const TableStore&) = delete;

  // Reads the persisted state. *found = false (and *state cleared) when there is
  // none. Internal with a message naming the file when it is corrupt or unreadable.
  Status Load(proto::ConfigServerState* state, bool* found);

  // Persists `state` atomically and durably (see above). Internal on I/O errors; the
  // previous state is then still in place.
  Status Save(const proto::ConfigServerState& state);

  const std::string& dir() const { return dir_; }
  std::string state_path() const { return dir_ + "/" + kStateFileName; }

 private:
  TableStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

  const std::string dir_;
  const int lock_fd_;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_TABLE_STORE_H_
