// tessera::client::Client: the C++ SDK of a Tessera cluster.
//
// Public header: includes only the standard library and tessera/status.h.
//
//   std::unique_ptr<tessera::client::Client> client;
//   tessera::client::Status s = tessera::client::Client::Open({}, &client);
//   s = client->Put("k", "v");
//   tessera::client::Value v;
//   s = client->Get("k", &v);        // s.IsNotFound() when absent
//
// How a call is served: Open() fetches the bucket table from one of the config servers
// and caches it. Each key goes to the master of its bucket (XXH64(key) % bucket_count;
// the area is not hashed), over one pipelined connection per server shared by all
// threads. A response stamped with a newer table version refreshes the table in the
// background; a "wrong owner" answer or an unreachable owner refreshes it first and
// then retries. Retries are bounded by CallOptions::timeout_ms (the whole call's
// deadline) and Options::max_attempts. Retries never change a call's meaning: a read
// (Get, MGet) is retried after any transport failure; an unconditional Put / MPut and
// Expire are retried after a lost connection (applying them twice leaves the same
// state); Remove, Incr / Decr and CAS writes are retried only when the request surely
// did not reach a server (connect failure, or the server refused it). A call whose
// answer did not arrive in time reports Timeout: the write may or may not be applied.
// A bucket whose master the table marks down fails at once with Unavailable (after one
// table refresh in case a newer table moved it), never with NotFound.
//
// Limits are checked before anything is sent (InvalidArgument): key 1..1024 bytes, value
// at most Options::max_value_bytes, area 0..65535, at most 1024 keys per MGet / MPut,
// not both ttl_seconds and expire_at.
//
// Thread-safety: thread-safe; one Client is meant to be shared by all threads.
// Async callbacks run on the client's io threads: they must not block and must not call
// the blocking methods (they may start more async calls). REQUIRES: the Client is not
// destroyed from one of its own callbacks.
#ifndef TESSERA_CLIENT_INCLUDE_TESSERA_CLIENT_H_
#define TESSERA_CLIENT_INCLUDE_TESSERA_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::client {

struct Options {
  // "host:port" of the config servers, tried in order until one answers.
  std::vector<std::string> config_servers = {"127.0.0.1:7100"};
  // Default deadline of one call, retries included (CallOptions::timeout_ms overrides).
  uint32_t timeout_ms = 2000;
  // Sends of one request at most (1 = no retry).
  uint32_t max_attempts = 6;
  // Threads running the network loop and the async callbacks.
  uint32_t io_threads = 1;
  // Their time slice in microseconds (Linux 6.12+; 0 keeps the kernel's default). A
  // short slice (100) lets a thread woken by a response preempt a busy thread of the
  // same process or machine at once instead of waiting out its slice (1.4 ms by
  // default on 2 CPUs). Off by default: it showed no latency gain in this project's
  // benchmarks, where client and servers share 2 vCPUs.
  uint32_t io_thread_slice_us = 0;
  // TCP connections to each data server (1..64). A call goes on the connection of its
  // key's bucket, so one key's calls keep their order on the wire. The data server
  // serves each connection on one of its network threads, so a single connection uses
  // at most one of them: with 2, gets from one client thread to one data server on 2
  // vCPUs went from ~65 k to ~180 k ops/s (README "Performance"). Connections open on
  // first use.
  uint32_t connections_per_server = 2;
  uint32_t connect_timeout_ms = 500;
  // A forced table refresh (after an error) contacts the config server at most this often.
  uint32_t min_refresh_interval_ms = 50;
  // Largest value accepted (the server may have a lower limit).
  size_t max_value_bytes = 1u << 20;
};

// Options of one call. Fields a call does not use are ignored.
struct CallOptions {
  uint32_t area = 0;             // namespace, 0..65535
  uint32_t ttl_seconds = 0;      // writes: expire this many seconds from now (0 = never)
  uint32_t expire_at = 0;        // writes: expire at this unix time (0 = never)
  uint32_t version = 0;          // CAS for Put / Remove / Incr: 0 = unconditional
  int64_t initial_value = 0;     // Incr / Decr: the value a missing key starts from
  uint32_t timeout_ms = 0;       // 0 = Options::timeout_ms
};

struct Value {
  std::string data;
  uint32_t version = 0;
  uint32_t expire_at = 0;    // unix seconds, 0 = never
  int64_t ttl_seconds = -1;  // remaining, -1 = never expires
};

struct MGetItem {
  Status status;  // OK, NotFound, or why this key has no answer
  Value value;    // when status is OK
};

struct MPutEntry {
  std::string key;
  std::string value;
  uint32_t version = 0;  // CAS per entry
};

struct MPutItem {
  Status status;
  uint32_t version = 0;  // the new version when status is OK
};

// Summary of the cached bucket table (for tools and tests).
struct TableInfo {
  uint64_t version = 0;
  uint32_t bucket_count = 0;
  uint32_t copy_count = 0;
  std::vector<std::string> servers;
};

class Client {
 public:
  // Connects to the config servers and fetches the table. Errors: InvalidArgument
  // (bad options), Unavailable (no config server served a valid table).
  static Status Open(const Options& options, std::unique_ptr<Client>* out);

  // Waits for the calls in flight to finish (they fail fast: connections are closed).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- blocking calls (REQUIRES: not on one of the client's io threads) ----

  // Writes key = value in opts.area with opts' expiry; CAS when opts.version != 0.
  // *new_version (optional) receives the version the write created.
  Status Put(std::string_view key, std::string_view value, const CallOptions& opts = {},
             uint32_t* new_version = nullptr);
  // NotFound when the key is absent or expired.
  Status Get(std::string_view key, Value* out, const CallOptions& opts = {});
  // NotFound when the key was absent. CAS when opts.version != 0.
  Status Remove(std::string_view key, const CallOptions& opts = {});
  // Adds delta to the decimal counter at key (created from opts.initial_value with opts'
  // expiry when missing). *value receives the new value; InvalidArgument when the
  // stored value is not a counter.
  Status Incr(std::string_view key, int64_t delta, int64_t* value, const CallOptions& opts = {},
              uint32_t* new_version = nullptr);
  Status Decr(std::string_view key, int64_t delta, int64_t* value, const CallOptions& opts = {},
              uint32_t* new_version = nullptr);
  // Sets the key's expiry from opts.ttl_seconds / opts.expire_at (both 0: never
  // expires). *expire_at (optional) receives the resulting unix time (0 = never).
  Status Expire(std::string_view key, const CallOptions& opts, uint32_t* expire_at = nullptr);

  // One item per key, in the order of `keys`. The keys are split by owner and the
  // per-server requests run in parallel. Returns OK when every key has an answer (OK
  // or NotFound in its item), else the first other per-key error (the items are
  // still filled).
  Status MGet(const std::vector<std::string>& keys, std::vector<MGetItem>* out,
              const CallOptions& opts = {});
  // As MGet, for writes; opts' area and expiry apply to every entry.
  Status MPut(const std::vector<MPutEntry>& entries, std::vector<MPutItem>* out,
              const CallOptions& opts = {});

  // ---- asynchronous calls: `done` runs exactly once, possibly before the call returns
  // (validation errors) and otherwise on an io thread ----

  using GetCallback = std::function<void(const Status&, Value&&)>;
  using WriteCallback = std::function<void(const Status&, uint32_t new_version)>;
  void GetAsync(std::string_view key, const CallOptions& opts, GetCallback done);
  void PutAsync(std::string_view key, std::string_view value, const CallOptions& opts,
                WriteCallback done);
  void RemoveAsync(std::string_view key, const CallOptions& opts, WriteCallback done);

  // The cached table.
  TableInfo table() const;
  uint64_t table_version() const;
  // Fetches the table from the config servers now (blocking).
  Status RefreshTable();

  class Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_INCLUDE_TESSERA_CLIENT_H_
