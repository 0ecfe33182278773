// MultiCall: one MGet or MPut: the keys are split by the master of their bucket, one
// request per server goes out in parallel, and keys whose server answered "wrong
// owner" / "unavailable" (or could not be reached) are split again after a table
// refresh, within the retry budget. Every key ends with exactly one result, in
// request order.
//
// Thread-safety: per-server responses may arrive on several io threads at once; each
// touches only the results of its own keys, and the last one finishes the call.
#ifndef TESSERA_CLIENT_MULTI_CALL_H_
#define TESSERA_CLIENT_MULTI_CALL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/client_core.h"
#include "common/proto/rpc.pb.h"

namespace tessera::client {

class MultiCall : public std::enable_shared_from_this<MultiCall> {
 public:
  // Per-key outcomes, in request order (code + message + value / version / expiry).
  using Done = std::function<void(std::vector<proto::KeyResult>* results)>;

  // REQUIRES: keys / entries non-empty. `done` runs exactly once, possibly inline.
  static void StartGet(ClientCore* core, uint32_t area, std::vector<std::string> keys,
                       uint32_t timeout_ms, Done done);
  static void StartPut(ClientCore* core, uint32_t area, std::vector<proto::PutRequest> entries,
                       uint32_t timeout_ms, Done done);

  MultiCall(ClientCore* core, uint32_t area, std::vector<std::string> keys,
            std::vector<proto::PutRequest> entries, uint32_t timeout_ms, Done done);

 private:
  bool is_put() const { return !entries_.empty(); }
  const std::string& KeyAt(uint32_t i) const {
    return is_put() ? entries_[i].key() : keys_[i];
  }
  void Begin();
  // Routes `indices` with the current table and sends one request per master.
  void Dispatch(std::vector<uint32_t> indices, uint32_t round);
  void SendGroup(const ClientCore::Route& route, uint32_t server, std::vector<uint32_t> indices,
                 uint32_t round);
  void OnGroup(const std::vector<uint32_t>& indices, uint32_t round, uint64_t sent_version,
               const tessera::Status& transport, proto::Response* response);
  // Sends `indices` again after a refresh (or gives them `why` when the budget is spent).
  void Redo(std::vector<uint32_t> indices, uint32_t round, uint64_t min_version,
            uint64_t sent_version, const std::string& why);
  void SetAll(const std::vector<uint32_t>& indices, proto::Code code, const std::string& message);
  uint32_t RemainingMs() const;
  void Hold() { pending_.fetch_add(1, std::memory_order_relaxed); }
  void Release();

  // Constant after construction.
  ClientCore* const core_;
  const uint32_t area_;
  const std::vector<std::string> keys_;             // MGet
  const std::vector<proto::PutRequest> entries_;    // MPut
  const bool resend_after_loss_;                    // no CAS entry: re-sending is harmless
  const std::chrono::steady_clock::time_point deadline_;

  // Each index is written by the one group that holds it at the time.
  std::vector<proto::KeyResult> results_;
  std::atomic<int> pending_{0};
  Done done_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_MULTI_CALL_H_
