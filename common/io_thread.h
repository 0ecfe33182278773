// IoThread: an io_context run by its own background threads until Stop() or
// destruction. Thread-safe.
#ifndef TESSERA_COMMON_IO_THREAD_H_
#define TESSERA_COMMON_IO_THREAD_H_

#include <optional>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/thread_name.h"
#include "common/thread_policy.h"

namespace tessera {

class IoThread {
 public:
  // `name` names the threads (for top -H and perf; at most 15 bytes are kept).
  // `slice_us` > 0 gives them that time slice (tessera::SetCurrentThreadSlice; where
  // the kernel has none, they keep the default).
  explicit IoThread(int threads = 1, const char* name = "io", uint32_t slice_us = 0)
      : guard_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, name, slice_us] {
        SetCurrentThreadName(name);
        if (slice_us > 0) SetCurrentThreadSlice(slice_us);
        io_.run();
      });
    }
  }
  ~IoThread() { Stop(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context* io() { return &io_; }

  // Stops the loop (handlers still queued are abandoned) and joins. Idempotent.
  void Stop() {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_IO_THREAD_H_
