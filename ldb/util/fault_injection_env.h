// FaultInjectionEnv: an Env wrapper for crash-style tests.
//
// It remembers, for every file written through it, how many bytes were
// appended and how many were made durable by the last Sync(), and which new
// files have not had their directory synced (Env::SyncDir) since they were
// created. A test then simulates a machine crash:
//
//   env.SetFilesystemActive(false);   // The "machine" stops: writes fail.
//   db.reset();                       // Close whatever is still open.
//   env.DropUnsyncedFileData();       // The page cache is lost...
//   env.RemoveFilesCreatedAfterLastDirSync();  // ...and unsynced entries.
//   env.ResetState();
//   env.SetFilesystemActive(true);
//   // Reopen and check that everything acknowledged as durable is there.
//
// Crash model for renames: the tracking state moves from src to target. A
// renamed new file stays "created after the last dir sync" under its new
// name until its directory is synced, unless target already existed durably
// (then the directory entry survives a crash either way, and the synced
// contents of src are what it holds).
//
// Thread-safe (one mutex guards all tracking).
#ifndef LDB_UTIL_FAULT_INJECTION_ENV_H_
#define LDB_UTIL_FAULT_INJECTION_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "ldb/env.h"
#include "port/port.h"
#include "port/thread_annotations.h"

namespace ldb {

class FaultInjectionEnv : public EnvWrapper {
 public:
  // `base` (posix or in-memory) must outlive this Env and every file opened
  // through it.
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;

  // While false, Append/Sync/Flush/Close of writable files, file creation,
  // renames, removals, CreateDir and SyncDir fail with
  // IOError("filesystem inactive"). Reads keep working.
  void SetFilesystemActive(bool active) LOCKS_EXCLUDED(mu_);
  bool IsFilesystemActive() const LOCKS_EXCLUDED(mu_);

  // Simulates losing the OS page cache: truncates every tracked file to its
  // size at its last Sync() (0 if never synced). Works even while the
  // filesystem is inactive. REQUIRES: no writable file of a tracked name is
  // still being written.
  Status DropUnsyncedFileData() LOCKS_EXCLUDED(mu_);

  // Deletes the files created since the last SyncDir of their directory
  // (their directory entry was never made durable).
  Status RemoveFilesCreatedAfterLastDirSync() LOCKS_EXCLUDED(mu_);

  // Forgets all tracking (e.g. after reopening).
  void ResetState() LOCKS_EXCLUDED(mu_);

  // Makes the next `n` Append or Sync calls on writable files fail with
  // IOError, then succeed again. 0 disables.
  void InjectWriteErrors(int n) LOCKS_EXCLUDED(mu_);

  // Number of WritableFile::Sync() calls seen (successful or not).
  uint64_t sync_count() const LOCKS_EXCLUDED(mu_);

  // Env overrides.
  Status NewWritableFile(const std::string& fname,
                         std::unique_ptr<WritableFile>* result) override;
  Status NewAppendableFile(const std::string& fname,
                           std::unique_ptr<WritableFile>* result) override;
  Status RemoveFile(const std::string& fname) override;
  Status RenameFile(const std::string& src,
                    const std::string& target_name) override;
  Status CreateDir(const std::string& dirname) override;
  Status SyncDir(const std::string& dirname) override;

 private:
  class TrackedFile;

  // What is known about one file name. Shared with the open writable file,
  // which keeps updating it until the name is removed or tracking is reset.
  struct FileState {
    uint64_t size = 0;         // Bytes appended (or found at open).
    uint64_t synced_size = 0;  // Bytes durable as of the last Sync().
  };

  // Returns an error status when the filesystem is inactive.
  Status CheckActive() const LOCKS_EXCLUDED(mu_);
  // Called by TrackedFile.
  Status BeforeAppend() LOCKS_EXCLUDED(mu_);
  Status BeforeSync() LOCKS_EXCLUDED(mu_);
  void AfterAppend(FileState* state, uint64_t n) LOCKS_EXCLUDED(mu_);
  void AfterSync(FileState* state) LOCKS_EXCLUDED(mu_);

  // Opens fname through `base` and wraps it.
  Status OpenTracked(const std::string& fname, bool append,
                     std::unique_ptr<WritableFile>* result) LOCKS_EXCLUDED(mu_);

  mutable port::Mutex mu_;
  bool active_ GUARDED_BY(mu_) = true;
  int injected_write_errors_ GUARDED_BY(mu_) = 0;
  uint64_t sync_count_ GUARDED_BY(mu_) = 0;
  std::map<std::string, std::shared_ptr<FileState>> files_ GUARDED_BY(mu_);
  // Files created since the last SyncDir of their directory.
  std::set<std::string> new_files_ GUARDED_BY(mu_);
};

}  // namespace ldb

#endif  // LDB_UTIL_FAULT_INJECTION_ENV_H_
