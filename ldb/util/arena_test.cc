#include "util/arena.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "util/random.h"

namespace ldb {
namespace {

TEST(ArenaTest, Empty) {
  Arena arena;
  EXPECT_EQ(0u, arena.MemoryUsage());
}

TEST(ArenaTest, Simple) {
  std::vector<std::pair<size_t, char*>> allocated;
  Arena arena;
  const int kN = 100000;
  size_t bytes = 0;
  Random rnd(301);
  size_t last_usage = 0;
  for (int i = 0; i < kN; i++) {
    size_t s;
    if (i % (kN / 10) == 0) {
      s = i;
    } else {
      s = rnd.OneIn(4000)
              ? rnd.Uniform(6000)
              : (rnd.OneIn(10) ? rnd.Uniform(100) : rnd.Uniform(20));
    }
    if (s == 0) s = 1;  // Zero-byte allocations are not allowed.
    char* r = rnd.OneIn(10) ? arena.AllocateAligned(s) : arena.Allocate(s);
    for (size_t b = 0; b < s; b++) {
      r[b] = static_cast<char>(i % 256);  // Fill with a known pattern.
    }
    bytes += s;
    allocated.emplace_back(s, r);
    ASSERT_GE(arena.MemoryUsage(), bytes);
    ASSERT_GE(arena.MemoryUsage(), last_usage);  // Never shrinks.
    last_usage = arena.MemoryUsage();
    if (i > kN / 10) {
      // Overhead stays bounded once past the start.
      ASSERT_LE(arena.MemoryUsage(), bytes * 1.10);
    }
  }
  for (size_t i = 0; i < allocated.size(); i++) {
    const size_t num_bytes = allocated[i].first;
    const char* p = allocated[i].second;
    for (size_t b = 0; b < num_bytes; b++) {
      ASSERT_EQ(static_cast<int>(p[b]) & 0xff, static_cast<int>(i % 256));
    }
  }
}

TEST(ArenaTest, AlignedAllocations) {
  Arena arena;
  Random rnd(7);
  constexpr size_t kAlign = alignof(void*) > 8 ? alignof(void*) : 8;
  for (int i = 0; i < 10000; ++i) {
    // Misalign the bump pointer with odd-sized unaligned allocations.
    arena.Allocate(1 + rnd.Uniform(7));
    const size_t n = 1 + rnd.Skewed(11);
    char* p = arena.AllocateAligned(n);
    ASSERT_EQ(0u, reinterpret_cast<uintptr_t>(p) & (kAlign - 1)) << n;
  }
}

TEST(ArenaTest, AllocationsDoNotOverlap) {
  Arena arena;
  Random rnd(99);
  std::vector<std::pair<uintptr_t, size_t>> ranges;
  for (int i = 0; i < 2000; ++i) {
    const size_t n = 1 + rnd.Skewed(12);
    char* p = rnd.OneIn(2) ? arena.Allocate(n) : arena.AllocateAligned(n);
    ranges.emplace_back(reinterpret_cast<uintptr_t>(p), n);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    ASSERT_LE(ranges[i - 1].first + ranges[i - 1].second, ranges[i].first);
  }
}

TEST(ArenaTest, LargeRequestsGetOwnBlock) {
  Arena arena;
  char* small = arena.Allocate(10);
  const size_t usage_after_small = arena.MemoryUsage();
  ASSERT_GE(usage_after_small, 4096u);
  char* big = arena.Allocate(100000);
  EXPECT_GE(arena.MemoryUsage(), usage_after_small + 100000);
  // The shared block keeps serving small requests right after the first.
  char* small2 = arena.Allocate(10);
  EXPECT_EQ(small + 10, small2);
  (void)big;
}

}  // namespace
}  // namespace ldb
