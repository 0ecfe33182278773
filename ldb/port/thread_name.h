// Naming the calling thread, for `top -H`, `ps -L`, perf and debuggers.
#ifndef LDB_PORT_THREAD_NAME_H_
#define LDB_PORT_THREAD_NAME_H_

namespace ldb::port {

// Names the calling thread `name`, cut to the 15 bytes Linux keeps. Returns false
// when the platform has no thread names or refused. Thread-safe.
bool SetCurrentThreadName(const char* name);

}  // namespace ldb::port

#endif  // LDB_PORT_THREAD_NAME_H_
