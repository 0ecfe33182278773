// Clock: the config server's source of time, injected so that heartbeat timing
// (down detection, grace periods) is testable without sleeping.
//
// NowMs() is a monotonic millisecond count from an arbitrary origin; only
// differences are meaningful. SystemClock reads std::chrono::steady_clock;
// FakeClock is set by tests. Both are thread-safe.
#ifndef TESSERA_CONFIGSERVER_CLOCK_H_
#define TESSERA_CONFIGSERVER_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace tessera::cs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t NowMs() const = 0;
};

class SystemClock : public Clock {
 public:
  uint64_t NowMs() const override;
  // A process-wide instance (never destroyed).
  static Clock* Default();
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(uint64_t start_ms = 1000000) : now_ms_(start_ms) {}
  uint64_t NowMs() const override { return now_ms_.load(std::memory_order_acquire); }
  void Advance(uint64_t ms) { now_ms_.fetch_add(ms, std::memory_order_acq_rel); }
  void Set(uint64_t ms) { now_ms_.store(ms, std::memory_order_release); }

 private:
  std::atomic<uint64_t> now_ms_;
};

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_CLOCK_H_
