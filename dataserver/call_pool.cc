#include "dataserver/call_pool.h"

#include <utility>

namespace tessera::ds {

CallPool::CallPool(int threads, size_t max_queue, Handler handler,
                   std::function<void()> on_start)
    : max_queue_(max_queue), handler_(std::move(handler)) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, on_start] {
      if (on_start) on_start();
      Run();
    });
  }
}

CallPool::~CallPool() { Stop(); }

bool CallPool::TrySubmit(std::unique_ptr<ServerCall>* call, uint32_t tag) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(Queued{std::move(*call), tag});
  }
  cv_.notify_one();
  return true;
}

void CallPool::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t CallPool::queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

void CallPool::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped and drained
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    handler_(std::move(q.call), q.tag);
    l.lock();
  }
}

}  // namespace tessera::ds
