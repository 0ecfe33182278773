// Lowering the CPU priority of the calling thread.
#ifndef LDB_PORT_THREAD_PRIORITY_H_
#define LDB_PORT_THREAD_PRIORITY_H_

namespace ldb::port {

// Raises the calling thread's nice value to `nice` (clipped to 1..19) when it
// is lower, so that the scheduler prefers other threads when the CPUs are
// busy. Only lowers priority: an unprivileged thread cannot take it back,
// so call it only on threads that do nothing else afterwards. Returns false
// when the platform has no per-thread nice value or refused. Thread-safe.
bool LowerCurrentThreadPriority(int nice);

}  // namespace ldb::port

#endif  // LDB_PORT_THREAD_PRIORITY_H_
