// TableStore: the config server's persisted state (proto::ConfigServerState: the
// published table and the admin membership changes) in its data_dir.
//
// Files in data_dir:
//   LOCK                    flock()ed while a TableStore is open (one config server per dir)
//   CONFIGSERVER_STATE      a checkpoint of the state, replaced atomically
//   CONFIGSERVER_STATE.log  the states saved since that checkpoint, appended
//   CONFIGSERVER_STATE.tmp  the checkpoint's scratch file (a leftover one is removed)
//
// CONFIGSERVER_STATE format (little-endian):
//   8 bytes  magic "TSCSSTA1"
//   4 bytes  payload length N (at most kMaxPayloadBytes)
//   8 bytes  XXH64(payload, seed 0)
//   N bytes  payload: a serialized proto::ConfigServerState
// The file is exactly 20 + N bytes long. CONFIGSERVER_STATE.log is a sequence of
// records in the same format with the magic "TSCSLOG1", each a whole state.
//
// Why a log. A migration saves the state once per bucket it moves. Replacing the file
// each time (scratch file, fsync, rename, directory fsync) costs three device flushes
// and a new inode per save, and on ext4 without a journal (this project's test VM) a
// new inode is slow to allocate after many deletions: the kernel skips every inode
// freed in the last 60-300 s, reading each one's inode-table entry, with the CPU held
// (150-400 us per file there; see ldb/doc/new_files_after_deletions.md). So Save
// appends the state to the log and fdatasyncs it (one flush, no new inode). A failed
// Save takes its append back, also when the checkpoint after it failed. When the log
// would pass max_log_bytes, or there is no checkpoint yet, or the log file was
// unlinked, Save appends and then checkpoints: writes CONFIGSERVER_STATE (scratch
// file, fsync, rename, directory fsync) and starts an empty log. The state just saved
// is durable in the log before the checkpoint replaces anything, so a crash anywhere
// leaves the newest saved state as the log's last record or as the checkpoint with an
// empty log.
//
// Load returns the log's last record, or the checkpoint when the log holds none. A
// torn last record (a crash during an append) is ignored: its Save never returned OK,
// and the next Save overwrites it. Load refuses (Internal, "corrupt ...") a checkpoint
// with a bad magic, length, checksum, payload, or a table that BucketTable would not
// accept, and a log with a damaged record followed by an intact one: the config server
// must not start and publish a wrong or older table. A missing state is a fresh start.
// Load checks the checkpoint even when the log supersedes it.
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
  static constexpr char kLogFileName[] = "CONFIGSERVER_STATE.log";
  static constexpr char kLockFileName[] = "LOCK";
  static constexpr size_t kHeaderBytes = 20;
  static constexpr uint32_t kMaxPayloadBytes = 1u << 30;
  // A migration of 1023 buckets logs about 4 KiB per bucket moved.
  static constexpr uint64_t kDefaultMaxLogBytes = 8u << 20;

  // Creates `dir` if needed and locks it, and opens (or creates) the log. Unavailable
  // when another process (or another open TableStore) holds the lock; Internal on I/O
  // errors.
  static Status Open(const std::string& dir, std::unique_ptr<TableStore>* out,
                     uint64_t max_log_bytes = kDefaultMaxLogBytes);
  ~TableStore();
  TableStore(const TableStore&) = delete;
  TableStore& operator=(const TableStore&) = delete;

  // Reads the persisted state. *found = false (and *state cleared) when there is
  // none. Internal with a message naming the file when it is corrupt or unreadable.
  Status Load(proto::ConfigServerState* state, bool* found);

  // Persists `state` atomically and durably (see above). Internal on I/O errors (and
  // when Load found the log corrupt); the previous state is then still in place.
  Status Save(const proto::ConfigServerState& state);

  const std::string& dir() const { return dir_; }
  std::string state_path() const { return dir_ + "/" + kStateFileName; }
  std::string log_path() const { return dir_ + "/" + kLogFileName; }

 private:
  TableStore(std::string dir, int lock_fd, uint64_t max_log_bytes)
      : dir_(std::move(dir)), lock_fd_(lock_fd), max_log_bytes_(max_log_bytes) {}

  // (Re)opens the log, emptied when `truncate`, and syncs the directory when the file
  // was created. Sets log_fd_ and log_end_ (0, or the end of its last intact record).
  Status OpenLog(bool truncate);
  // Reads the log: *found / *payload is its last intact record; sets log_end_. Internal
  // ("corrupt ...") for a damaged record followed by an intact one.
  Status ReadLog(std::string* payload, bool* found);
  // Writes CONFIGSERVER_STATE holding `record` (scratch file, fsync, rename, dir fsync).
  Status WriteCheckpoint(const std::string& record);

  const std::string dir_;
  const int lock_fd_;
  const uint64_t max_log_bytes_;
  int log_fd_ = -1;
  uint64_t log_end_ = 0;    // where the next record goes
  Status log_corrupt_;      // set by ReadLog; Save refuses to write over the evidence
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_TABLE_STORE_H_
