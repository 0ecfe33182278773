// Sharded LRU cache. See ldb/cache.h.
//
// Each shard keeps every resident entry in a hash table and on exactly one
// of two lists:
//   lru_:    entries no client holds (refs == 1, the cache's own reference),
//            oldest first; these are the eviction candidates;
//   in_use_: entries some client holds (refs > 1), in no particular order.
// An entry erased or replaced while held leaves the table and the lists
// (in_cache == false) and is destroyed when its last handle is released.
// Deleters run after the shard mutex is released, so a deleter may use the
// cache again.
#include "ldb/cache.h"

#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "port/port.h"
#include "port/thread_annotations.h"
#include "util/hash.h"
#include "util/mutexlock.h"

namespace ldb {

Cache::~Cache() = default;

namespace {

struct LRUEntry : public Cache::Handle {
  // The key's bytes follow the entry in the same allocation (NewEntry).
  Slice key() const {
    return Slice(reinterpret_cast<const char*>(this + 1), key_size);
  }

  size_t key_size = 0;
  void* value = nullptr;
  Cache::Deleter deleter = nullptr;
  size_t charge = 0;
  uint32_t hash = 0;
  uint32_t refs = 0;      // Client handles, plus one while in_cache.
  bool in_cache = false;  // In the shard's table and on one of its lists.
  // On the shard's lists: neighbours. Once dead (refs 0, unlinked), `next`
  // chains the entries a shard operation hands to DestroyEntries.
  LRUEntry* next = nullptr;
  LRUEntry* prev = nullptr;
  LRUEntry* next_in_bucket = nullptr;
};

// One allocation for the entry and its key.
LRUEntry* NewEntry(const Slice& key) {
  void* mem = ::operator new(sizeof(LRUEntry) + key.size());
  auto* e = new (mem) LRUEntry();
  if (!key.empty()) std::memcpy(e + 1, key.data(), key.size());
  e->key_size = key.size();
  return e;
}

// Runs the deleters of a chain of dead entries (linked through `next`) and
// frees them.
void DestroyEntries(LRUEntry* dead) {
  while (dead != nullptr) {
    LRUEntry* e = dead;
    dead = e->next;
    assert(e->refs == 0 && !e->in_cache);
    if (e->deleter != nullptr) e->deleter(e->key(), e->value);
    e->~LRUEntry();
    ::operator delete(e);
  }
}

// Chained hash table of entries keyed by (hash, key). Does not own entries.
// Thread-compatible.
class EntryTable {
 public:
  EntryTable() : buckets_(16, nullptr) {}

  LRUEntry* Lookup(const Slice& key, uint32_t hash) const {
    return *FindSlot(key, hash);
  }

  // Inserts e; returns the entry of the same key it replaced, or nullptr.
  LRUEntry* Insert(LRUEntry* e) {
    LRUEntry** slot = FindSlot(e->key(), e->hash);
    LRUEntry* old = *slot;
    e->next_in_bucket = old == nullptr ? nullptr : old->next_in_bucket;
    *slot = e;
    if (old == nullptr && ++size_ > buckets_.size()) Grow();
    return old;
  }

  // Removes and returns the entry for key, or nullptr.
  LRUEntry* Remove(const Slice& key, uint32_t hash) {
    LRUEntry** slot = FindSlot(key, hash);
    LRUEntry* e = *slot;
    if (e != nullptr) {
      *slot = e->next_in_bucket;
      --size_;
    }
    return e;
  }

 private:
  LRUEntry** FindSlot(const Slice& key, uint32_t hash) const {
    LRUEntry** slot =
        const_cast<LRUEntry**>(&buckets_[hash & (buckets_.size() - 1)]);
    while (*slot != nullptr &&
           ((*slot)->hash != hash || (*slot)->key() != key)) {
      slot = &(*slot)->next_in_bucket;
    }
    return slot;
  }

  void Grow() {
    std::vector<LRUEntry*> bigger(buckets_.size() * 2, nullptr);
    for (LRUEntry* head : buckets_) {
      while (head != nullptr) {
        LRUEntry* next = head->next_in_bucket;
        LRUEntry*& b = bigger[head->hash & (bigger.size() - 1)];
        head->next_in_bucket = b;
        b = head;
        head = next;
      }
    }
    buckets_.swap(bigger);
  }

  std::vector<LRUEntry*> buckets_;  // Size is a power of two.
  size_t size_ = 0;
};

// One shard of the cache. Thread-safe.
class LRUShard {
 public:
  LRUShard() {
    lru_.next = lru_.prev = &lru_;
    in_use_.next = in_use_.prev = &in_use_;
  }
  LRUShard(const LRUShard&) = delete;
  LRUShard& operator=(const LRUShard&) = delete;

  ~LRUShard() {
    assert(in_use_.next == &in_use_);  // No handle may be held.
    LRUEntry* dead = nullptr;
    for (LRUEntry* e = lru_.next; e != &lru_;) {
      LRUEntry* next = e->next;
      assert(e->in_cache && e->refs == 1);
      e->in_cache = false;
      e->refs = 0;
      e->next = dead;
      dead = e;
      e = next;
    }
    DestroyEntries(dead);
  }

  void SetCapacity(size_t capacity) { capacity_ = capacity; }

  Cache::Handle* Insert(const Slice& key, uint32_t hash, void* value,
                        size_t charge, Cache::Deleter deleter) {
    LRUEntry* raw = NewEntry(key);
    raw->value = value;
    raw->deleter = deleter;
    raw->charge = charge;
    raw->hash = hash;
    raw->refs = 1;  // The returned handle.
    LRUEntry* dead = nullptr;
    {
      MutexLock l(&mu_);
      if (capacity_ > 0) {
        raw->refs++;
        raw->in_cache = true;
        Append(&in_use_, raw);
        usage_ += charge;
        LRUEntry* old = table_.Insert(raw);
        if (old != nullptr) Detach(old, &dead);
      }
      // With capacity 0 caching is off: the entry lives only as long as the
      // returned handle.
      while (usage_ > capacity_ && lru_.next != &lru_) {
        LRUEntry* victim = lru_.next;
        LRUEntry* removed = table_.Remove(victim->key(), victim->hash);
        assert(removed == victim);
        (void)removed;
        Detach(victim, &dead);
      }
    }
    DestroyEntries(dead);
    return raw;
  }

  Cache::Handle* Lookup(const Slice& key, uint32_t hash) {
    MutexLock l(&mu_);
    LRUEntry* e = table_.Lookup(key, hash);
    if (e != nullptr) Ref(e);
    return e;
  }

  void Release(Cache::Handle* handle) {
    LRUEntry* dead = nullptr;
    {
      MutexLock l(&mu_);
      Unref(static_cast<LRUEntry*>(handle), &dead);
    }
    DestroyEntries(dead);
  }

  void Erase(const Slice& key, uint32_t hash) {
    LRUEntry* dead = nullptr;
    {
      MutexLock l(&mu_);
      LRUEntry* e = table_.Remove(key, hash);
      if (e != nullptr) Detach(e, &dead);
    }
    DestroyEntries(dead);
  }

  void Prune() {
    LRUEntry* dead = nullptr;
    {
      MutexLock l(&mu_);
      while (lru_.next != &lru_) {
        LRUEntry* e = lru_.next;
        LRUEntry* removed = table_.Remove(e->key(), e->hash);
        assert(removed == e);
        (void)removed;
        Detach(e, &dead);
      }
    }
    DestroyEntries(dead);
  }

  size_t TotalCharge() {
    MutexLock l(&mu_);
    return usage_;
  }

 private:
  static void Unlink(LRUEntry* e) {
    e->next->prev = e->prev;
    e->prev->next = e->next;
    e->next = e->prev = nullptr;
  }

  // Makes e the newest entry of list.
  static void Append(LRUEntry* list, LRUEntry* e) {
    e->next = list;
    e->prev = list->prev;
    e->prev->next = e;
    e->next->prev = e;
  }

  void Ref(LRUEntry* e) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (e->refs == 1 && e->in_cache) {
      Unlink(e);
      Append(&in_use_, e);
    }
    e->refs++;
  }

  // Drops one reference; an entry reaching zero goes to *dead.
  void Unref(LRUEntry* e, LRUEntry** dead) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    assert(e->refs > 0);
    e->refs--;
    if (e->refs == 0) {
      assert(!e->in_cache);
      e->next = *dead;  // unlinked: `next` is free
      *dead = e;
    } else if (e->in_cache && e->refs == 1) {
      Unlink(e);
      Append(&lru_, e);
    }
  }

  // Takes e (already removed from table_) out of the cache.
  void Detach(LRUEntry* e, LRUEntry** dead) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    assert(e->in_cache);
    Unlink(e);
    e->in_cache = false;
    usage_ -= e->charge;
    Unref(e, dead);
  }

  // Constant after construction (set before any use).
  size_t capacity_ = 0;

  port::Mutex mu_;
  size_t usage_ GUARDED_BY(mu_) = 0;
  LRUEntry lru_ GUARDED_BY(mu_);     // Dummy head; lru_.next is the oldest.
  LRUEntry in_use_ GUARDED_BY(mu_);  // Dummy head.
  EntryTable table_ GUARDED_BY(mu_);
};

constexpr int kShardBits = 4;
constexpr int kNumShards = 1 << kShardBits;

// Thread-safe.
class ShardedLRUCache final : public Cache {
 public:
  explicit ShardedLRUCache(size_t capacity) {
    const size_t per_shard = (capacity + kNumShards - 1) / kNumShards;
    for (LRUShard& s : shards_) s.SetCapacity(per_shard);
  }

  Handle* Insert(const Slice& key, void* value, size_t charge,
                 Deleter deleter) override {
    const uint32_t hash = HashKey(key);
    return shards_[Shard(hash)].Insert(key, hash, value, charge, deleter);
  }

  Handle* Lookup(const Slice& key) override {
    const uint32_t hash = HashKey(key);
    return shards_[Shard(hash)].Lookup(key, hash);
  }

  void Release(Handle* handle) override {
    const uint32_t hash = static_cast<LRUEntry*>(handle)->hash;
    shards_[Shard(hash)].Release(handle);
  }

  void* Value(Handle* handle) override {
    return static_cast<LRUEntry*>(handle)->value;
  }

  void Erase(const Slice& key) override {
    const uint32_t hash = HashKey(key);
    shards_[Shard(hash)].Erase(key, hash);
  }

  uint64_t NewId() override {
    return last_id_.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  void Prune() override {
    for (LRUShard& s : shards_) s.Prune();
  }

  size_t TotalCharge() const override {
    size_t total = 0;
    for (LRUShard& s : shards_) total += s.TotalCharge();
    return total;
  }

 private:
  static uint32_t HashKey(const Slice& key) {
    return Hash(key.data(), key.size(), 0);
  }
  static uint32_t Shard(uint32_t hash) { return hash >> (32 - kShardBits); }

  // Shards lock internally; mutable so that TotalCharge() can be const.
  mutable LRUShard shards_[kNumShards];
  std::atomic<uint64_t> last_id_{0};
};

}  // namespace

std::unique_ptr<Cache> NewLRUCache(size_t capacity) {
  return std::make_unique<ShardedLRUCache>(capacity);
}

}  // namespace ldb
