// CallPool: a fixed set of worker threads running a handler over queued ServerCalls,
// with a bounded queue (a full queue refuses the call instead of growing).
//
// Thread-safe. Stop() drains: every call queued before it is handled, then the
// workers exit; calls offered after Stop are refused.
#ifndef TESSERA_DATASERVER_CALL_POOL_H_
#define TESSERA_DATASERVER_CALL_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/rpc_server.h"

namespace tessera::ds {

class CallPool {
 public:
  // `tag` is the one given to TrySubmit, passed through untouched.
  using Handler = std::function<void(std::unique_ptr<ServerCall>, uint32_t tag)>;

  // REQUIRES: threads >= 1, max_queue >= 1. `handler` runs on the workers;
  // `on_start` (may be empty) runs first on each worker, e.g. to lower its priority.
  CallPool(int threads, size_t max_queue, Handler handler,
           std::function<void()> on_start = {});
  // Stops (draining) if running.
  ~CallPool();
  CallPool(const CallPool&) = delete;
  CallPool& operator=(const CallPool&) = delete;

  // Queues `*call` and returns true, or returns false leaving *call untouched when
  // the queue is full or the pool stopped.
  bool TrySubmit(std::unique_ptr<ServerCall>* call, uint32_t tag = 0);

  // Handles everything queued, then joins the workers. Idempotent.
  void Stop();

  size_t queued() const;

 private:
  void Run();

  // Constant after construction.
  const size_t max_queue_;
  const Handler handler_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Queued {
    std::unique_ptr<ServerCall> call;
    uint32_t tag;
  };
  std::deque<Queued> queue_;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_CALL_POOL_H_
