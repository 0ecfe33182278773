// The scheduling class of the calling thread, for threads that do bulk background work.
#ifndef TESSERA_COMMON_THREAD_POLICY_H_
#define TESSERA_COMMON_THREAD_POLICY_H_

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

}  // namespace tessera

#endif  // TESSERA_COMMON_THREAD_POLICY_H_
