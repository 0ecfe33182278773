// SingleCall: one single-key request (put / get / remove / incr / expire) on its way
// through the cluster: routing, sending, table refreshes and bounded retries.
//
// Thread-safety: each step runs on one thread at a time (the caller's, then io
// threads one after another); owned through shared_ptr by its pending callbacks.
#ifndef TESSERA_CLIENT_SINGLE_CALL_H_
#define TESSERA_CLIENT_SINGLE_CALL_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/client_core.h"
#include "common/proto/rpc.pb.h"

namespace tessera::client {

class SingleCall : public std::enable_shared_from_this<SingleCall> {
 public:
  // What may be re-sent after a transport failure (see tessera/client.h).
  enum class Kind {
    kRead,             // re-sent after any failure
    kIdempotentWrite,  // re-sent unless the answer timed out
    kWrite,            // re-sent only when it surely was not sent
  };

  // `status` is the call's outcome; `response` is the server's final answer when one
  // arrived (also for NotFound etc.), else null.
  using Done = std::function<void(const Status& status, proto::Response* response)>;

  // Sends `request` (its body set) for `key`. `done` runs exactly once, possibly inline.
  // `core` must outlive the call (it does: CloseAndDrain waits for it).
  static void Start(ClientCore* core, Kind kind, std::string key, proto::Request request,
                    uint32_t timeout_ms, Done done);

  SingleCall(ClientCore* core, Kind kind, std::string key, proto::Request request,
             uint32_t timeout_ms, Done done);

 private:
  void Send();
  void OnResponse(const tessera::Status& transport, proto::Response* response);
  // Refreshes the table (to at least min_version) and sends again, after a pause
  // when the table did not change; finishes with last_error_ when the budget is spent.
  void Retry(uint64_t min_version, bool force);
  void AfterRefresh();
  void Finish(const Status& status, proto::Response* response);
  uint32_t RemainingMs() const;

  // Constant after construction.
  ClientCore* const core_;
  const Kind kind_;
  const std::string key_;
  const std::chrono::steady_clock::time_point deadline_;

  // Touched by one step at a time.
  proto::Request request_;
  Done done_;
  uint32_t attempts_ = 0;        // sends so far
  uint32_t refreshes_ = 0;       // refresh rounds so far
  uint64_t sent_version_ = 0;    // table version of the last send
  bool down_refreshed_ = false;  // refreshed once because the master was down
  Status last_error_ = Status::Unavailable("no route");
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_SINGLE_CALL_H_
