// BulkLoader: puts every key of a Dataset once, as fast as the cluster takes it, with
// `inflight` async puts outstanding (each slot issues its next put from the previous
// one's callback).
// Thread-safety: Run() from one thread at a time; the slots run on the client's io
// threads.
#ifndef TESSERA_TOOLS_MIGRATION_BENCH_BULK_LOADER_H_
#define TESSERA_TOOLS_MIGRATION_BENCH_BULK_LOADER_H_

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "dataset.h"
#include "tessera/client.h"

namespace tessera::mbench {

struct LoadReport {
  double seconds = 0;
  uint64_t keys = 0;    // acknowledged puts
  uint64_t bytes = 0;   // user bytes (key + value) of the acknowledged puts
  uint64_t failed = 0;  // puts that failed after the client's retries
  std::array<uint64_t, 16> errors{};  // failures by client::Code
};

class BulkLoader {
 public:
  // `client` and `data` must outlive the loader. REQUIRES: inflight > 0.
  BulkLoader(client::Client* client, const Dataset* data, uint32_t inflight);

  // Loads every key; `progress` (optional) is called from this thread about every
  // `progress_ms` with the keys acknowledged so far.
  LoadReport Run(uint32_t progress_ms, const std::function<void(uint64_t)>& progress);

 private:
  void Next();  // one slot: claims the next key and puts it

  client::Client* const client_;
  const Dataset* const data_;
  const uint32_t inflight_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Protected by mu_.
  uint64_t next_ = 0;
  uint32_t active_slots_ = 0;
  LoadReport report_;
};

}  // namespace tessera::mbench

#endif  // TESSERA_TOOLS_MIGRATION_BENCH_BULK_LOADER_H_
