// OrphanSweeper: reclaims buckets whose keys a data server still stores although the
// bucket table gives the bucket to other servers, and no GC registry entry hides them
// ("orphans"; migration/README.md "Orphan sweep"). They appear when a source crashes
// after the config server flipped a bucket away but before the source added the
// bucket's GC entry (a restarted server compares no old table with its first one),
// and when a destination's migration attempt was abandoned (the plan was rebuilt
// elsewhere) after some batches were applied.
//
// Conservative by construction. A table is swept only when DecideOrphanSweep says
// kSweep: no migration is planned in it at all, this node is listed in it, and its
// version is newer than the last one swept. Then, on the sweeper's thread, for each
// bucket of the decision (neither mastered nor replicated here, some holder UP):
// if the bucket has a live key (has_live_key: a Seek into its range, so data already
// hidden by a GC entry does not count), reclaim_if_current adds the GC entry and
// queues the cleanup compaction, after checking -- under the data server's
// table-install lock -- that the installed table is still the swept one. A newer
// table (OnTable), a changed table at the check, a storage error or Stop ends the
// sweep early; the version then does not count as swept. Sweeping is off for the
// whole run when the options say so, or when the table file found at start names
// another identity (the directory served another address: its data may be the only
// copy of that address's buckets) or a table of another cluster or bucket_count.
//
// Thread-safe. OnTable never blocks on a sweep in progress (it may be called under
// the lock reclaim_if_current takes). Callbacks run on the sweeper's thread.
//
// Cost. A check walks the bucket's range up to its first live key, so a bucket whose
// keys are all hidden by a GC entry (one that just moved away) is read to its end. A
// sweep therefore waits while `defer` says so -- the data server defers while cleanup
// compactions are pending, which purge exactly that hidden data -- and runs at
// `nice`. Right after a migration the table without a plan arrives while the moved
// buckets still await their cleanup; sweeping them then read every moved key once
// more (about 3 CPU-seconds per source node per 85 MiB moved, competing with the
// cleanup and the clients; see migration/README.md).
#ifndef TESSERA_DATASERVER_ORPHAN_SWEEPER_H_
#define TESSERA_DATASERVER_ORPHAN_SWEEPER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/bucket_table.h"
#include "common/status.h"

namespace tessera::ds {

struct OrphanSweepDecision {
  enum class Verdict {
    kSweep,          // check `buckets`
    kMigrating,      // the table plans a migration (destination owners are set)
    kNotMember,      // this node is not listed in the table
    kAlreadySwept,   // the version is not newer than the last one swept
    kDisabled,       // OrphanSweeperOptions::enabled is false
    kOtherIdentity,  // the data directory was used under another identity or cluster
  };
  Verdict verdict = Verdict::kNotMember;
  // kSweep: the buckets to check, ascending.
  std::vector<uint32_t> buckets;
  uint32_t held = 0;          // buckets this node holds (any copy)
  uint32_t holders_down = 0;  // held elsewhere, but no holder is UP: never swept
};

const char* VerdictName(OrphanSweepDecision::Verdict verdict);

// The pure decision for one table (see the file comment). `self` is this node's
// identity; `last_swept_version` the version of the last table swept (0 = none). A
// bucket is a candidate when no copy of it (master or replica) is on `self` and at
// least one of its holders is UP: a bucket whose holders are all DOWN keeps its data
// here (a down node's copies are away, not gone; this directory could even have
// served under that node's address).
OrphanSweepDecision DecideOrphanSweep(const BucketTable& table, std::string_view self,
                                      uint64_t last_swept_version);

struct OrphanSweeperOptions {
  std::string self_address;  // this node's identity in tables
  bool enabled = true;
  // From the table file found in the data directory at start (TableFile), or empty
  // / 0 when there was none. See the file comment.
  std::string remembered_address;
  std::string remembered_cluster;
  uint32_t remembered_bucket_count = 0;
  int nice = 0;                   // CPU niceness of the sweeper's thread (0 = unchanged)
  uint32_t defer_poll_ms = 200;   // how often a deferred sweep asks `defer` again
};

struct OrphanSweeperCallbacks {
  // *live = whether `bucket` has a live (visible, unexpired) key.
  std::function<Status(uint32_t bucket, bool* live)> has_live_key;
  // Under the lock that serializes table installs: when the installed table's version
  // is `table_version`, adds a GC registry entry for `bucket`, queues its cleanup and
  // sets *current = true; otherwise does nothing and sets *current = false.
  std::function<Status(uint32_t bucket, uint64_t table_version, bool* current)> reclaim_if_current;
  // Optional: true while a sweep should wait before its first check (see the file
  // comment). Asked every defer_poll_ms; a newer table or Stop ends the wait.
  std::function<bool()> defer;
};

class OrphanSweeper {
 public:
  OrphanSweeper(OrphanSweeperOptions options, OrphanSweeperCallbacks callbacks);
  ~OrphanSweeper();  // Stops
  OrphanSweeper(const OrphanSweeper&) = delete;
  OrphanSweeper& operator=(const OrphanSweeper&) = delete;

  void Start();
  // Ends a sweep in progress after its current bucket and joins. Idempotent.
  void Stop();

  // A table was installed (newer than every earlier one). Decides at once; a sweep
  // runs later on the sweeper's thread. Non-blocking.
  void OnTable(std::shared_ptr<const BucketTable> table);

  struct Stats {
    uint64_t considered_version = 0;  // the last table OnTable saw
    OrphanSweepDecision::Verdict verdict = OrphanSweepDecision::Verdict::kNotMember;
    uint64_t swept_version = 0;  // the last table swept to the end
    uint64_t sweeps = 0;         // finished sweeps
    uint64_t buckets_checked = 0;
    uint64_t buckets_reclaimed = 0;
    bool busy = false;      // a sweep queued or running
    bool deferred = false;  // the sweep waits for `defer`
  };
  Stats stats() const;

  // Waits until no sweep is queued or running (or timeout); true when idle. Tests.
  bool WaitIdle(uint32_t timeout_ms);

 private:
  struct Job {
    std::shared_ptr<const BucketTable> table;
    std::vector<uint32_t> buckets;
  };

  void Run();
  // Sweeps one table; true when it ran to the end.
  bool Sweep(const Job& job);
  // Waits while callbacks_.defer() is true; false when Stop or a newer table came.
  bool WaitUntilNotDeferred(uint64_t version);
  bool Foreign(const BucketTable& table) const;
  std::string Prefix() const;

  // Constant after construction.
  const OrphanSweeperOptions options_;
  const OrphanSweeperCallbacks callbacks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<Job> pending_;  // guarded by mu_
  bool running_ = false;          // guarded by mu_
  bool stop_ = false;             // guarded by mu_
  Stats stats_;                   // guarded by mu_ (busy computed on read)
  std::thread thread_;

  std::atomic<uint64_t> latest_version_{0};  // newest table seen by OnTable
  std::atomic<bool> stopping_{false};
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_ORPHAN_SWEEPER_H_
