#include "db/skiplist.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "util/arena.h"
#include "util/random.h"

namespace ldb {
namespace {

using Key = uint64_t;

struct KeyComparator {
  int operator()(const Key& a, const Key& b) const {
    if (a < b) return -1;
    if (a > b) return +1;
    return 0;
  }
};

using IntList = SkipList<Key, KeyComparator>;

TEST(SkipListTest, Empty) {
  Arena arena;
  IntList list(KeyComparator(), &arena);
  EXPECT_FALSE(list.Contains(10));

  IntList::Iterator iter(&list);
  EXPECT_FALSE(iter.Valid());
  iter.SeekToFirst();
  EXPECT_FALSE(iter.Valid());
  iter.Seek(100);
  EXPECT_FALSE(iter.Valid());
  iter.SeekToLast();
  EXPECT_FALSE(iter.Valid());
}

TEST(SkipListTest, InsertAndLookupMatchesStdSet) {
  const int kN = 2000;
  const Key kR = 5000;
  Random rnd(1000);
  std::set<Key> keys;
  Arena arena;
  IntList list(KeyComparator(), &arena);
  for (int i = 0; i < kN; i++) {
    const Key key = rnd.Next() % kR;
    if (keys.insert(key).second) {
      list.Insert(key);
    }
  }

  for (Key i = 0; i < kR; i++) {
    EXPECT_EQ(keys.count(i) == 1, list.Contains(i)) << i;
  }

  // Simple iterator tests.
  {
    IntList::Iterator iter(&list);
    iter.Seek(0);
    ASSERT_TRUE(iter.Valid());
    EXPECT_EQ(*keys.begin(), iter.key());
    iter.SeekToFirst();
    ASSERT_TRUE(iter.Valid());
    EXPECT_EQ(*keys.begin(), iter.key());
    iter.SeekToLast();
    ASSERT_TRUE(iter.Valid());
    EXPECT_EQ(*keys.rbegin(), iter.key());
    iter.Seek(kR);
    EXPECT_FALSE(iter.Valid());
  }

  // Forward iteration from every seek target.
  for (Key i = 0; i < kR; i += 7) {
    IntList::Iterator iter(&list);
    iter.Seek(i);
    auto model = keys.lower_bound(i);
    for (int j = 0; j < 3; j++) {
      if (model == keys.end()) {
        ASSERT_FALSE(iter.Valid());
        break;
      }
      ASSERT_TRUE(iter.Valid());
      EXPECT_EQ(*model, iter.key());
      ++model;
      iter.Next();
    }
  }

  // Whole list forward and backward.
  {
    IntList::Iterator iter(&list);
    std::vector<Key> seen;
    for (iter.SeekToFirst(); iter.Valid(); iter.Next())
      seen.push_back(iter.key());
    EXPECT_EQ(std::vector<Key>(keys.begin(), keys.end()), seen);

    seen.clear();
    for (iter.SeekToLast(); iter.Valid(); iter.Prev())
      seen.push_back(iter.key());
    EXPECT_EQ(std::vector<Key>(keys.rbegin(), keys.rend()), seen);
  }

  // Prev from a seek position.
  {
    IntList::Iterator iter(&list);
    iter.Seek(kR / 2);
    auto model = keys.lower_bound(kR / 2);
    ASSERT_TRUE(iter.Valid());
    ASSERT_NE(model, keys.begin());
    iter.Prev();
    --model;
    ASSERT_TRUE(iter.Valid());
    EXPECT_EQ(*model, iter.key());
  }
}

// Keys for the concurrent test carry a check value in their low bits, so a
// reader can tell a key that was read before it was fully written.
//   key := id << 16 | (mix(id) & 0xffff), id != 0
Key MakeKey(uint64_t id) {
  const uint64_t mix = (id * 0x9e3779b97f4a7c15ull) >> 48;
  return (id << 16) | (mix & 0xffff);
}
bool WellFormed(Key k) { return k != 0 && MakeKey(k >> 16) == k; }

// One writer inserts while readers iterate and seek. Every key a reader sees
// must be well formed and in order, and every key whose insertion finished
// before the reader started its pass must be seen by that pass.
TEST(SkipListTest, ConcurrentReadersWithOneWriter) {
  const int kMaxKeys = 200000;
  const auto kRunTime = std::chrono::milliseconds(800);
  Random rnd(42);
  std::vector<Key> keys;
  {
    std::set<uint64_t> ids;
    while (static_cast<int>(ids.size()) < kMaxKeys) {
      ids.insert(1 + (rnd.Next64() >> 20));
    }
    for (uint64_t id : ids) keys.push_back(MakeKey(id));
    // Insert in random order.
    for (size_t i = keys.size() - 1; i > 0; i--) {
      std::swap(keys[i], keys[rnd.Uniform(static_cast<uint32_t>(i + 1))]);
    }
  }

  Arena arena;
  IntList list(KeyComparator(), &arena);
  std::atomic<size_t> inserted{0};  // keys[0, inserted) are in the list
  std::atomic<bool> writer_done{false};
  std::atomic<int> reader_failures{0};
  std::atomic<int> reader_passes{0};

  auto reader = [&](uint64_t seed) {
    Random r(seed);
    do {
      const size_t known = inserted.load(std::memory_order_acquire);
      std::vector<Key> must_see(keys.begin(), keys.begin() + known);
      std::sort(must_see.begin(), must_see.end());

      IntList::Iterator iter(&list);
      if (r.OneIn(2)) {
        // Full pass.
        std::vector<Key> seen;
        Key prev = 0;
        for (iter.SeekToFirst(); iter.Valid(); iter.Next()) {
          const Key k = iter.key();
          if (!WellFormed(k) || k <= prev) {
            reader_failures++;
            return;
          }
          prev = k;
          seen.push_back(k);
        }
        if (!std::includes(seen.begin(), seen.end(), must_see.begin(),
                           must_see.end())) {
          reader_failures++;
          return;
        }
      } else {
        // Random seeks: the result is the first key >= target, and no
        // already-inserted key lies between target and the result.
        for (int i = 0; i < 200; i++) {
          const Key target = r.Next64() >> 4;
          iter.Seek(target);
          auto expected =
              std::lower_bound(must_see.begin(), must_see.end(), target);
          if (!iter.Valid()) {
            if (expected != must_see.end()) {
              reader_failures++;
              return;
            }
            continue;
          }
          const Key k = iter.key();
          if (!WellFormed(k) || k < target ||
              (expected != must_see.end() && k > *expected)) {
            reader_failures++;
            return;
          }
          if (expected != must_see.end() && !list.Contains(*expected)) {
            reader_failures++;
            return;
          }
        }
      }
      reader_passes++;
    } while (!writer_done.load(std::memory_order_acquire));
  };

  std::vector<std::thread> readers;
  readers.emplace_back(reader, 1);
  readers.emplace_back(reader, 2);

  const auto deadline = std::chrono::steady_clock::now() + kRunTime;
  size_t n = 0;
  while (n < keys.size() && std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 64 && n < keys.size(); batch++, n++) {
      list.Insert(keys[n]);
      inserted.store(n + 1, std::memory_order_release);
    }
  }
  writer_done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();

  EXPECT_EQ(0, reader_failures.load());
  EXPECT_GT(reader_passes.load(), 0);
  // After the writer stops, a final pass sees exactly what was inserted.
  std::vector<Key> expected(keys.begin(), keys.begin() + n);
  std::sort(expected.begin(), expected.end());
  std::vector<Key> seen;
  IntList::Iterator iter(&list);
  for (iter.SeekToFirst(); iter.Valid(); iter.Next())
    seen.push_back(iter.key());
  EXPECT_EQ(expected, seen);
  std::printf("inserted %zu keys, %d reader passes\n", n, reader_passes.load());
}

}  // namespace
}  // namespace ldb
