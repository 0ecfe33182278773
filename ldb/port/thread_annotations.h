// Clang thread-safety annotations; empty under other compilers.
#ifndef LDB_PORT_THREAD_ANNOTATIONS_H_
#define LDB_PORT_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define LDB_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LDB_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) LDB_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LDB_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) LDB_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define EXCLUSIVE_LOCKS_REQUIRED(...) \
  LDB_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) LDB_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define LOCK_RETURNED(x) LDB_THREAD_ANNOTATION(lock_returned(x))
#define CAPABILITY(x) LDB_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LDB_THREAD_ANNOTATION(scoped_lockable)
#define EXCLUSIVE_LOCK_FUNCTION(...) \
  LDB_THREAD_ANNOTATION(exclusive_lock_function(__VA_ARGS__))
#define UNLOCK_FUNCTION(...) LDB_THREAD_ANNOTATION(unlock_function(__VA_ARGS__))
#define ASSERT_EXCLUSIVE_LOCK(...) \
  LDB_THREAD_ANNOTATION(assert_exclusive_lock(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS \
  LDB_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // LDB_PORT_THREAD_ANNOTATIONS_H_
