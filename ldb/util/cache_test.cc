#include "ldb/cache.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "util/coding.h"
#include "util/hash.h"
#include "util/random.h"

namespace ldb {
namespace {

// Keys and values are ints; values are stored directly in the void*.
std::string EncodeKey(int k) {
  std::string result;
  PutFixed32(&result, static_cast<uint32_t>(k));
  return result;
}
int DecodeKey(const Slice& k) {
  EXPECT_EQ(4u, k.size());
  return static_cast<int>(DecodeFixed32(k.data()));
}
void* EncodeValue(uintptr_t v) { return reinterpret_cast<void*>(v); }
int DecodeValue(void* v) {
  return static_cast<int>(reinterpret_cast<uintptr_t>(v));
}

// Shard of a key, as the cache computes it (top 4 bits of Hash(key, 0)).
uint32_t ShardOf(const std::string& key) {
  return Hash(key.data(), key.size(), 0) >> 28;
}

// `n` keys (as ints) that all live in the same shard.
std::vector<int> SameShardKeys(int n) {
  std::vector<int> keys;
  const uint32_t shard = ShardOf(EncodeKey(0));
  for (int k = 0; static_cast<int>(keys.size()) < n; ++k) {
    if (ShardOf(EncodeKey(k)) == shard) keys.push_back(k);
  }
  return keys;
}

class CacheTest : public testing::Test {
 public:
  static void Deleter(const Slice& key, void* v) {
    current_->deleted_keys_.push_back(DecodeKey(key));
    current_->deleted_values_.push_back(DecodeValue(v));
  }

  static constexpr int kCacheSize = 1600;  // 100 per shard.

  CacheTest() : cache_(NewLRUCache(kCacheSize)) { current_ = this; }
  ~CacheTest() override {
    cache_.reset();  // Its deleters still report to this fixture.
    current_ = nullptr;
  }

  void Recreate(size_t capacity) {
    cache_.reset();
    deleted_keys_.clear();
    deleted_values_.clear();
    cache_ = NewLRUCache(capacity);
  }

  int Lookup(int key) {
    Cache::Handle* handle = cache_->Lookup(EncodeKey(key));
    const int r = (handle == nullptr) ? -1 : DecodeValue(cache_->Value(handle));
    if (handle != nullptr) cache_->Release(handle);
    return r;
  }

  void Insert(int key, int value, int charge = 1) {
    cache_->Release(InsertAndReturnHandle(key, value, charge));
  }

  Cache::Handle* InsertAndReturnHandle(int key, int value, int charge = 1) {
    return cache_->Insert(EncodeKey(key), EncodeValue(value), charge,
                          &CacheTest::Deleter);
  }

  void Erase(int key) { cache_->Erase(EncodeKey(key)); }

  static CacheTest* current_;
  std::vector<int> deleted_keys_;
  std::vector<int> deleted_values_;
  std::unique_ptr<Cache> cache_;
};
CacheTest* CacheTest::current_;

TEST_F(CacheTest, HitAndMiss) {
  ASSERT_EQ(-1, Lookup(100));

  Insert(100, 101);
  ASSERT_EQ(101, Lookup(100));
  ASSERT_EQ(-1, Lookup(200));
  ASSERT_EQ(-1, Lookup(300));

  Insert(200, 201);
  ASSERT_EQ(101, Lookup(100));
  ASSERT_EQ(201, Lookup(200));
  ASSERT_EQ(-1, Lookup(300));

  Insert(100, 102);
  ASSERT_EQ(102, Lookup(100));
  ASSERT_EQ(201, Lookup(200));
  ASSERT_EQ(-1, Lookup(300));

  ASSERT_EQ(1u, deleted_keys_.size());
  ASSERT_EQ(100, deleted_keys_[0]);
  ASSERT_EQ(101, deleted_values_[0]);
}

TEST_F(CacheTest, Erase) {
  Erase(200);
  ASSERT_EQ(0u, deleted_keys_.size());

  Insert(100, 101);
  Insert(200, 201);
  Erase(100);
  ASSERT_EQ(-1, Lookup(100));
  ASSERT_EQ(201, Lookup(200));
  ASSERT_EQ(1u, deleted_keys_.size());
  ASSERT_EQ(100, deleted_keys_[0]);
  ASSERT_EQ(101, deleted_values_[0]);

  Erase(100);
  ASSERT_EQ(-1, Lookup(100));
  ASSERT_EQ(201, Lookup(200));
  ASSERT_EQ(1u, deleted_keys_.size());
}

TEST_F(CacheTest, EntriesArePinned) {
  Insert(100, 101);
  Cache::Handle* h1 = cache_->Lookup(EncodeKey(100));
  ASSERT_EQ(101, DecodeValue(cache_->Value(h1)));

  Insert(100, 102);
  Cache::Handle* h2 = cache_->Lookup(EncodeKey(100));
  ASSERT_EQ(102, DecodeValue(cache_->Value(h2)));
  ASSERT_EQ(0u, deleted_keys_.size());

  cache_->Release(h1);
  ASSERT_EQ(1u, deleted_keys_.size());
  ASSERT_EQ(100, deleted_keys_[0]);
  ASSERT_EQ(101, deleted_values_[0]);

  Erase(100);
  ASSERT_EQ(-1, Lookup(100));
  ASSERT_EQ(1u, deleted_keys_.size());

  cache_->Release(h2);
  ASSERT_EQ(2u, deleted_keys_.size());
  ASSERT_EQ(100, deleted_keys_[1]);
  ASSERT_EQ(102, deleted_values_[1]);
}

TEST_F(CacheTest, EvictionOrderIsLRU) {
  // Three entries fit in one shard.
  Recreate(16 * 3);
  const std::vector<int> k = SameShardKeys(5);
  Insert(k[0], 0);
  Insert(k[1], 1);
  Insert(k[2], 2);
  ASSERT_EQ(0, Lookup(k[0]));  // k[0] becomes the most recent.
  Insert(k[3], 3);             // Evicts k[1], the least recently used.
  EXPECT_EQ(0, Lookup(k[0]));
  EXPECT_EQ(-1, Lookup(k[1]));
  EXPECT_EQ(2, Lookup(k[2]));
  EXPECT_EQ(3, Lookup(k[3]));
  ASSERT_EQ(std::vector<int>({k[1]}), deleted_keys_);
  // Order is now k[0], k[2], k[3] (k[3] newest): next to go is k[0].
  Insert(k[4], 4);
  EXPECT_EQ(-1, Lookup(k[0]));
  ASSERT_EQ(std::vector<int>({k[1], k[0]}), deleted_keys_);
}

TEST_F(CacheTest, EvictionPolicy) {
  Insert(100, 101);
  Insert(200, 201);
  Insert(300, 301);
  Cache::Handle* h = cache_->Lookup(EncodeKey(300));

  // Frequently used entry must be kept around, as must things that are
  // still in use.
  for (int i = 0; i < 2 * kCacheSize; i++) {
    Insert(1000 + i, 2000 + i);
    ASSERT_EQ(2000 + i, Lookup(1000 + i));
    ASSERT_EQ(101, Lookup(100));
  }
  ASSERT_EQ(101, Lookup(100));
  ASSERT_EQ(-1, Lookup(200));
  ASSERT_EQ(301, Lookup(300));
  cache_->Release(h);
}

TEST_F(CacheTest, PinnedEntriesSurviveOverflow) {
  // Hold handles to more than the capacity: none may be evicted.
  std::vector<Cache::Handle*> handles;
  for (int i = 0; i < kCacheSize + 100; i++) {
    handles.push_back(InsertAndReturnHandle(1000 + i, 2000 + i));
  }
  EXPECT_TRUE(deleted_keys_.empty());
  for (int i = 0; i < kCacheSize + 100; i++) {
    ASSERT_EQ(2000 + i, Lookup(1000 + i));
  }
  EXPECT_EQ(static_cast<size_t>(kCacheSize + 100), cache_->TotalCharge());
  for (Cache::Handle* h : handles) cache_->Release(h);
  // Released entries above the capacity are evicted on the next insert into
  // their shard; once everything is unpinned, usage returns under capacity.
  for (int i = 0; i < 200; i++) Insert(5000 + i, i);
  EXPECT_LE(cache_->TotalCharge(), static_cast<size_t>(kCacheSize));
}

TEST_F(CacheTest, UseExceedsCacheSize) {
  // Overfill the cache, keeping handles on all inserted entries.
  std::vector<Cache::Handle*> h;
  for (int i = 0; i < kCacheSize + 100; i++) {
    h.push_back(InsertAndReturnHandle(1000 + i, 2000 + i));
  }
  // Check that all the entries can be found in the cache.
  for (size_t i = 0; i < h.size(); i++) {
    ASSERT_EQ(2000 + static_cast<int>(i), Lookup(1000 + static_cast<int>(i)));
  }
  for (size_t i = 0; i < h.size(); i++) cache_->Release(h[i]);
}

TEST_F(CacheTest, HeavyEntries) {
  // Add a bunch of light and heavy entries and then count the combined
  // size of items still in the cache, which must be approximately the
  // same as the total capacity.
  const int kLight = 1;
  const int kHeavy = 10;
  int added = 0;
  int index = 0;
  while (added < 2 * kCacheSize) {
    const int weight = (index & 1) ? kLight : kHeavy;
    Insert(index, 1000 + index, weight);
    added += weight;
    index++;
  }

  int cached_weight = 0;
  for (int i = 0; i < index; i++) {
    const int weight = (i & 1 ? kLight : kHeavy);
    const int r = Lookup(i);
    if (r >= 0) {
      cached_weight += weight;
      ASSERT_EQ(1000 + i, r);
    }
  }
  ASSERT_LE(cached_weight, kCacheSize + kCacheSize / 10);
  ASSERT_EQ(static_cast<size_t>(cached_weight), cache_->TotalCharge());
}

TEST_F(CacheTest, TotalCharge) {
  EXPECT_EQ(0u, cache_->TotalCharge());
  Insert(1, 1, 5);
  Insert(2, 2, 7);
  EXPECT_EQ(12u, cache_->TotalCharge());
  Insert(1, 3, 2);  // Replaces: charge 5 leaves, 2 comes in.
  EXPECT_EQ(9u, cache_->TotalCharge());
  Erase(2);
  EXPECT_EQ(2u, cache_->TotalCharge());
  // An erased but held entry no longer counts.
  Cache::Handle* h = cache_->Lookup(EncodeKey(1));
  Erase(1);
  EXPECT_EQ(0u, cache_->TotalCharge());
  cache_->Release(h);
  EXPECT_EQ(0u, cache_->TotalCharge());
}

TEST_F(CacheTest, NewId) {
  const uint64_t a = cache_->NewId();
  const uint64_t b = cache_->NewId();
  ASSERT_NE(a, b);
}

TEST_F(CacheTest, Prune) {
  Insert(1, 100);
  Insert(2, 200);

  Cache::Handle* handle = cache_->Lookup(EncodeKey(1));
  ASSERT_TRUE(handle);
  cache_->Prune();
  cache_->Release(handle);

  ASSERT_EQ(100, Lookup(1));
  ASSERT_EQ(-1, Lookup(2));
  ASSERT_EQ(std::vector<int>({2}), deleted_keys_);
}

TEST_F(CacheTest, ZeroSizeCache) {
  Recreate(0);
  Insert(1, 100);
  ASSERT_EQ(-1, Lookup(1));
  ASSERT_EQ(std::vector<int>({1}), deleted_keys_);
}

TEST_F(CacheTest, DestructorDeletesEverything) {
  for (int i = 0; i < 50; ++i) Insert(i, i * 10);
  Insert(7, 700);  // Replaces one: its deleter already ran.
  ASSERT_EQ(1u, deleted_keys_.size());
  cache_.reset();
  ASSERT_EQ(51u, deleted_keys_.size());
  std::map<int, int> deletions;
  for (int k : deleted_keys_) deletions[k]++;
  ASSERT_EQ(50u, deletions.size());
  EXPECT_EQ(2, deletions[7]);
  EXPECT_EQ(1, deletions[0]);
  EXPECT_EQ(1, deletions[49]);
}

// Random operations checked against a model; every deleter must run exactly
// once per inserted value.
TEST_F(CacheTest, DeleterCalledExactlyOnce) {
  Recreate(16 * 8);
  Random rnd(301);
  int next_value = 0;
  std::vector<Cache::Handle*> held;
  for (int i = 0; i < 20000; ++i) {
    const int key = rnd.Uniform(300);
    switch (rnd.Uniform(5)) {
      case 0:
      case 1:
        Insert(key, next_value++, 1 + rnd.Uniform(3));
        break;
      case 2:
        if (held.size() < 50) {
          held.push_back(InsertAndReturnHandle(key, next_value++));
        }
        break;
      case 3:
        if (!held.empty()) {
          const size_t j = rnd.Uniform(held.size());
          cache_->Release(held[j]);
          held[j] = held.back();
          held.pop_back();
        }
        break;
      case 4:
        if (rnd.OneIn(2)) {
          Erase(key);
        } else {
          Lookup(key);
        }
        break;
    }
  }
  for (Cache::Handle* h : held) cache_->Release(h);
  cache_.reset();
  ASSERT_EQ(static_cast<size_t>(next_value), deleted_values_.size());
  std::vector<int> seen(next_value, 0);
  for (int v : deleted_values_) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, next_value);
    ASSERT_EQ(0, seen[v]++) << "value " << v << " deleted twice";
  }
}

// A deleter may call back into the cache (deleters run outside the lock).
Cache* g_reentrant_cache = nullptr;
int g_reentrant_deletes = 0;
void ReentrantDeleter(const Slice& /*key*/, void* /*value*/) {
  ++g_reentrant_deletes;
  if (g_reentrant_cache != nullptr) {
    Cache::Handle* h = g_reentrant_cache->Lookup("other");
    if (h != nullptr) g_reentrant_cache->Release(h);
  }
}

TEST(CacheReentrancyTest, DeleterMayUseCache) {
  std::unique_ptr<Cache> cache = NewLRUCache(1000);
  g_reentrant_cache = cache.get();
  g_reentrant_deletes = 0;
  cache->Release(cache->Insert("k", nullptr, 1, &ReentrantDeleter));
  cache->Release(cache->Insert("other", nullptr, 1, &ReentrantDeleter));
  cache->Erase("k");
  EXPECT_EQ(1, g_reentrant_deletes);
  g_reentrant_cache = nullptr;
  cache.reset();
  EXPECT_EQ(2, g_reentrant_deletes);
}

std::atomic<int> g_concurrent_deletes{0};
void CountingDeleter(const Slice& key, void* value) {
  // The value is a heap copy of the key: check it still matches.
  std::string* v = static_cast<std::string*>(value);
  EXPECT_EQ(key.ToString(), *v);
  delete v;
  g_concurrent_deletes.fetch_add(1);
}

TEST(CacheConcurrencyTest, FourThreads) {
  std::unique_ptr<Cache> cache = NewLRUCache(16 * 20);
  g_concurrent_deletes = 0;
  std::atomic<int> inserts{0};
  constexpr int kThreads = 4;
  constexpr int kOps = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cache, &inserts, t] {
      Random rnd(1000 + t);
      std::vector<Cache::Handle*> held;
      for (int i = 0; i < kOps; ++i) {
        std::string key = "key";
        key.append(std::to_string(rnd.Uniform(500)));
        const uint32_t op = rnd.Uniform(10);
        if (op < 4) {
          Cache::Handle* h = cache->Insert(
              key, new std::string(key), 1 + rnd.Uniform(2), &CountingDeleter);
          inserts.fetch_add(1);
          if (held.size() < 8 && rnd.OneIn(2)) {
            held.push_back(h);
          } else {
            cache->Release(h);
          }
        } else if (op < 8) {
          Cache::Handle* h = cache->Lookup(key);
          if (h != nullptr) {
            ASSERT_EQ(key, *static_cast<std::string*>(cache->Value(h)));
            cache->Release(h);
          }
        } else if (op == 8) {
          cache->Erase(key);
        } else if (!held.empty()) {
          // Values of held handles stay valid even if evicted or erased.
          Cache::Handle* h = held.back();
          held.pop_back();
          EXPECT_FALSE(static_cast<std::string*>(cache->Value(h))->empty());
          cache->Release(h);
        }
        if (i % 5000 == 0) {
          cache->NewId();
          (void)cache->TotalCharge();
        }
      }
      for (Cache::Handle* h : held) cache->Release(h);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(cache->TotalCharge(), 16u * 20);
  cache.reset();
  EXPECT_EQ(inserts.load(), g_concurrent_deletes.load());
}

}  // namespace
}  // namespace ldb
