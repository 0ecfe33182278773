#include "bulk_loader.h"

#include <chrono>
#include <string>

namespace tessera::mbench {

BulkLoader::BulkLoader(client::Client* client, const Dataset* data, uint32_t inflight)
    : client_(client), data_(data), inflight_(inflight) {}

void BulkLoader::Next() {
  uint64_t i = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (next_ >= data_->keys()) {
      if (--active_slots_ == 0) cv_.notify_all();
      return;
    }
    i = next_++;
  }
  const std::string key = Dataset::Key(i);
  const uint64_t bytes = key.size() + data_->value_size();
  client_->PutAsync(key, data_->Value(i, 0), {}, [this, bytes](const client::Status& s, uint32_t) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (s.ok()) {
        ++report_.keys;
        report_.bytes += bytes;
      } else {
        ++report_.failed;
        const size_t code = static_cast<size_t>(s.code());
        if (code < report_.errors.size()) ++report_.errors[code];
      }
    }
    Next();
  });
}

LoadReport BulkLoader::Run(uint32_t progress_ms, const std::function<void(uint64_t)>& progress) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  {
    std::lock_guard<std::mutex> l(mu_);
    next_ = 0;
    report_ = LoadReport();
    active_slots_ = inflight_;
  }
  for (uint32_t s = 0; s < inflight_; ++s) Next();
  std::unique_lock<std::mutex> l(mu_);
  while (active_slots_ > 0) {
    cv_.wait_for(l, std::chrono::milliseconds(progress_ms));
    if (active_slots_ > 0 && progress) {
      const uint64_t keys = report_.keys;
      l.unlock();
      progress(keys);
      l.lock();
    }
  }
  report_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report_;
}

}  // namespace tessera::mbench
