// Cache: a map from keys to values with a capacity in "charge" units; entries
// past the capacity are evicted least-recently-used first, but never while a
// handle to them is held.
//
// Thread-safe.
#ifndef LDB_INCLUDE_CACHE_H_
#define LDB_INCLUDE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ldb/slice.h"

namespace ldb {

class Cache {
 public:
  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  // Destroys every entry with its deleter. REQUIRES: no handle is held.
  virtual ~Cache();

  struct Handle {};
  using Deleter = void (*)(const Slice& key, void* value);

  // Inserts key -> value, replacing any older entry of that key (which is
  // destroyed when its last handle is released). Returns a handle the caller
  // must Release(). `deleter` is called once the entry leaves the cache.
  virtual Handle* Insert(const Slice& key, void* value, size_t charge,
                         Deleter deleter) = 0;

  // Returns a handle to the entry for key, or nullptr. The caller must
  // Release() a non-null handle.
  virtual Handle* Lookup(const Slice& key) = 0;

  // REQUIRES: handle came from this cache and was not released yet.
  virtual void Release(Handle* handle) = 0;

  // REQUIRES: handle is live. Returns the value stored with Insert.
  virtual void* Value(Handle* handle) = 0;

  // Removes the entry for key, if any (held handles keep it alive).
  virtual void Erase(const Slice& key) = 0;

  // A fresh id, for clients sharing one cache to partition their keys.
  virtual uint64_t NewId() = 0;

  // Drops every entry that no handle holds.
  virtual void Prune() = 0;

  // Sum of the charges of the entries in the cache.
  virtual size_t TotalCharge() const = 0;
};

// A sharded LRU cache holding at most `capacity` charge units.
std::unique_ptr<Cache> NewLRUCache(size_t capacity);

}  // namespace ldb

#endif  // LDB_INCLUDE_CACHE_H_
