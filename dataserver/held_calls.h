// HeldCalls: requests parked until the event they wait for, or until a deadline.
//
// Around a bucket's flip a request can reach a data server a moment before that server
// can serve it: the client already has the table that names this server the bucket's
// master while the server still has the one before (it learns the flip by a fetch), or
// the bucket is fenced for the last step of its migration (a few milliseconds). Refused,
// the client pays a table refresh and a 5-20 ms back-off; held here, the request runs
// again as soon as the table arrives or the fence is lifted (README "Performance",
// migration). A held request is run again once, by `resume`:
//   - HoldForTable(version): on TableInstalled(v) with v >= version;
//   - HoldForBucket(bucket): on BucketUnfenced(bucket);
//   - either: when its hold_ms have passed (it is then answered as it would have been
//     before: the caller's resume routes it again against whatever it has then), and
//     on ReleaseAll (shutdown).
// At most `limit` calls are held at once (at least 1); a hold beyond that (or after
// ReleaseAll) is refused and the caller answers the request at once.
//
// `resume` runs on the HeldCalls' own thread ("ds-held"), one call after another, never
// under a lock of this class: TableInstalled / BucketUnfenced only hand the calls over,
// so the heartbeat and migration threads that report those events never run request
// work (an ldb write stall must not delay a heartbeat or a fence). It must not block
// for long.
//
// Race-free use: hold first, then check the condition again and release when it holds
// already (the event may have fired between the first check and the hold).
//
// Thread-safe.
#ifndef TESSERA_DATASERVER_HELD_CALLS_H_
#define TESSERA_DATASERVER_HELD_CALLS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/rpc_server.h"

namespace tessera::ds {

class HeldCalls {
 public:
  using Resume = std::function<void(std::unique_ptr<ServerCall>)>;

  HeldCalls(size_t limit, Resume resume);
  ~HeldCalls();  // ReleaseAll
  HeldCalls(const HeldCalls&) = delete;
  HeldCalls& operator=(const HeldCalls&) = delete;

  // Each takes *call and returns true, or returns false leaving *call untouched (full,
  // or released for good).
  bool HoldForTable(uint64_t version, uint32_t hold_ms, std::unique_ptr<ServerCall>* call);
  bool HoldForBucket(uint32_t bucket, uint32_t hold_ms, std::unique_ptr<ServerCall>* call);

  // Resumes (soon, on the HeldCalls' thread) the calls waiting for a table version
  // <= `version`.
  void TableInstalled(uint64_t version);
  // Resumes (soon) the calls waiting for `bucket`'s fence to lift.
  void BucketUnfenced(uint32_t bucket);
  // Refuses holds from now on, resumes every held call and returns once all of them
  // have been resumed. Idempotent. REQUIRES: not called from `resume`.
  void ReleaseAll();

  // Calls still waiting for their event or deadline (not those handed over to resume).
  size_t held() const;
  // Calls resumed because their deadline passed, since construction.
  uint64_t expired() const;

 private:
  using Clock = std::chrono::steady_clock;
  enum class Wait { kTable, kBucket };
  struct Held {
    Wait wait;
    uint64_t value;  // the table version, or the bucket
    Clock::time_point deadline;
    std::unique_ptr<ServerCall> call;
  };

  bool Hold(Wait wait, uint64_t value, uint32_t hold_ms, std::unique_ptr<ServerCall>* call);
  // Moves the held calls `pred` selects to ready_. REQUIRES: mu_ held.
  template <typename Pred>
  void ReadyLocked(Pred pred);
  // ReadyLocked under mu_, and wakes the thread when it moved any.
  template <typename Pred>
  void Release(Pred pred);
  // Resumes ready calls and expired ones until ReleaseAll; then resumes the rest.
  void Run();

  // Constant after construction.
  const size_t limit_;
  const Resume resume_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // a call ready, a new earliest deadline, or stop
  std::vector<Held> held_;      // guarded by mu_
  std::vector<std::unique_ptr<ServerCall>> ready_;  // guarded by mu_: to resume now
  bool stopped_ = false;  // guarded by mu_
  uint64_t expired_ = 0;  // guarded by mu_
  std::mutex join_mu_;    // one ReleaseAll joins thread_
  std::thread thread_;
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_HELD_CALLS_H_
