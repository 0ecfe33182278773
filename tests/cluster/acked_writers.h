// AckedWriters: threads that put unique values to a fixed key set through the SDK
// and remember, per key, the last acknowledged value and any later value whose outcome
// is unknown (a timeout), so a test can check afterwards that no acknowledged write
// was lost. Thread-safe: the writers run on their own threads; Check() after Stop().
#ifndef TESSERA_TESTS_CLUSTER_ACKED_WRITERS_H_
#define TESSERA_TESTS_CLUSTER_ACKED_WRITERS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tessera/client.h"

namespace tessera::testing {

class AckedWriters {
 public:
  // Starts `threads` writers over keys "w<thread>-<0..keys_per_thread-1>".
  // `client` must outlive this object.
  AckedWriters(client::Client* client, int threads, int keys_per_thread);
  ~AckedWriters();

  void Stop();
  uint64_t acked() const { return acked_; }

  // REQUIRES: Stop() was called. Every key's value must be its last acknowledged
  // value, or one written after it whose outcome was unknown. Returns the number of
  // violations; *first_error describes the first.
  int Check(client::Client* client, std::string* first_error);

 private:
  struct KeyState {
    std::string acked;
    std::set<std::string> maybe;
  };

  void Run(int t);

  client::Client* const client_;
  const int keys_per_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::mutex mu_;
  std::map<std::string, KeyState> expect_;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_CLUSTER_ACKED_WRITERS_H_
