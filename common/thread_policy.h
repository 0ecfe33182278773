// Scheduling of the calling thread: SCHED_IDLE for threads that do bulk background
// work, a short time slice for threads that answer requests.
#ifndef TESSERA_COMMON_THREAD_POLICY_H_
#define TESSERA_COMMON_THREAD_POLICY_H_

#include <cstdint>

namespace tessera {

// Moves the calling thread into Linux's SCHED_IDLE class. Such a thread runs on CPU
// time no normal thread wants, and a normal thread that wakes up on its CPU takes that
// CPU at once. A nice value only shrinks a thread's share: a request thread woken
// behind a niced thread can still wait out that thread's time slice (on this project's
// 2-vCPU VMs, a millisecond or more, which is what a client's p99 sees).
//
// The price: under a CPU-bound load of normal threads an idle thread gets almost no
// CPU, and a lock it holds then stalls whoever waits for it. Use it only on threads
// whose work can wait, and which hold no lock that normal threads take for long.
// Leaving the class again needs CAP_SYS_NICE. Returns false when the platform has no
// such class or refused. Thread-safe.
bool SetCurrentThreadIdle();

// Whether the calling thread is in the SCHED_IDLE class. Thread-safe.
bool CurrentThreadIsIdle();

// Gives the calling thread (a normal-class one) a time slice of `slice_us`
// microseconds, keeping its nice value. Linux 6.12+ (EEVDF) schedules a thread by a
// virtual deadline one slice after it becomes eligible, and lets a waking thread with
// a shorter slice than the running one preempt it at once. A request thread that sleeps
// between requests and wakes with a 100 us slice therefore runs within ~0.1 ms of its
// wake-up instead of waiting out the running thread's slice (1.4 ms by default on 2
// CPUs): measured with a thread woken every 0.5 ms against three threads that run 1.5
// ms and sleep 0.7 ms on 2 vCPUs, its lateness p90 fell from 1.19 to 0.11 ms. The
// kernel clamps the slice to [100 us, 100 ms]. In this project's benchmarks (client
// and 4 servers on those 2 vCPUs) it showed no client p99 gain (README, issue 5), so
// its users leave it off by default. Returns false when the kernel refused or ignores
// per-thread slices (before 6.12). Thread-safe.
bool SetCurrentThreadSlice(uint32_t slice_us);

// The time slice of thread `tid` (0: the calling thread) in microseconds, as the
// kernel reports it; 0 when it does not report one. Thread-safe.
uint32_t ThreadSliceMicros(int tid = 0);

}  // namespace tessera

#endif  // TESSERA_COMMON_THREAD_POLICY_H_
