#include "tests/cluster/acked_writers.h"

namespace tessera::testing {

namespace cl = tessera::client;

AckedWriters::AckedWriters(cl::Client* client, int threads, int keys_per_thread)
    : client_(client), keys_per_thread_(keys_per_thread) {
  for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t] { Run(t); });
}

AckedWriters::~AckedWriters() { Stop(); }

void AckedWriters::Stop() {
  stop_ = true;
  for (auto& th : threads_) {
    if (th.joinable()) th.join();
  }
}

int AckedWriters::Check(cl::Client* client, std::string* first_error) {
  std::lock_guard<std::mutex> l(mu_);
  int bad = 0;
  for (const auto& [key, state] : expect_) {
    cl::Value v;
    cl::Status s = client->Get(key, &v);
    bool ok = false;
    if (s.ok()) ok = v.data == state.acked || state.maybe.count(v.data) > 0;
    if (s.code() == cl::Code::kNotFound) ok = state.acked.empty();
    if (!ok && bad++ == 0) {
      *first_error =
          key + ": got " + (s.ok() ? v.data : s.ToString()) + ", acked " + state.acked;
    }
  }
  return bad;
}

void AckedWriters::Run(int t) {
  for (uint64_t i = 0; !stop_; ++i) {
    std::string key = "w" + std::to_string(t) + "-" + std::to_string(i % keys_per_thread_);
    std::string value = std::to_string(t) + ":" + std::to_string(i);
    cl::Status s = client_->Put(key, value);
    std::lock_guard<std::mutex> l(mu_);
    KeyState& k = expect_[key];
    if (s.ok()) {
      k.acked = value;
      k.maybe.clear();
      ++acked_;
    } else if (s.code() == cl::Code::kTimeout || s.code() == cl::Code::kInternal) {
      k.maybe.insert(value);  // may or may not have been applied
    }
    // Unavailable / wrong owner: refused, not applied.
  }
}

}  // namespace tessera::testing
