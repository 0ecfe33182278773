// SkipList: an ordered set of keys whose nodes live in an Arena.
//
// Thread safety:
//   - Writes (Insert) require external synchronization: one writer at a time.
//   - Reads (Contains, Iterator) need no lock and may run concurrently with
//     the writer and with each other. A node, once linked, is never changed
//     except for its forward links, and nodes are never removed, so a reader
//     only has to see each link published with release/acquire ordering.
//   - The Arena must outlive the SkipList; the SkipList must outlive its
//     iterators.
//
// Key must be cheap to copy (the memtable uses `const char*`), and a key must
// not change after it has been inserted. Comparator is a copyable functor:
//   int operator()(const Key& a, const Key& b) const;  // <0, 0, >0
#ifndef LDB_DB_SKIPLIST_H_
#define LDB_DB_SKIPLIST_H_

#include <atomic>
#include <cassert>
#include <cstddef>
#include <new>
#include <type_traits>

#include "util/arena.h"
#include "util/random.h"

namespace ldb {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  // `arena` must outlive the list; nodes are allocated from it.
  SkipList(Comparator cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // Inserts key. REQUIRES: no equal key is in the list; external
  // synchronization with other Insert calls.
  void Insert(const Key& key);

  // True when an entry equal to key is in the list.
  bool Contains(const Key& key) const;

  // Two-step insert that stores the key's bytes inside its node, so that a
  // search touches one cache line per node visited instead of two (node,
  // then key). Only for Key = const char*: Prepare allocates a node with
  // room for `payload_bytes` after its links and returns that room; the
  // caller writes the entry there (the node's key points at it), then
  // InsertPrepared links it. REQUIRES: as Insert; one writer.
  struct Prepared {
    Node* node = nullptr;
    int height = 0;
  };
  char* Prepare(size_t payload_bytes, Prepared* prepared);
  void InsertPrepared(const Prepared& prepared);

  // Walks the list. Thread-compatible: one thread per iterator, but many
  // iterators may run concurrently with one writer.
  class Iterator {
   public:
    // `list` must outlive the iterator. Starts not Valid().
    explicit Iterator(const SkipList* list) : list_(list) {}

    bool Valid() const { return node_ != nullptr; }
    // REQUIRES: Valid()
    const Key& key() const {
      assert(Valid());
      return node_->key;
    }
    // REQUIRES: Valid()
    void Next() {
      assert(Valid());
      node_ = node_->Next(0);
      // Scans (flushes) do work per entry: load the following node
      // meanwhile (nodes are spread over the arena in insertion order).
      if (node_ != nullptr) __builtin_prefetch(node_->Next(0));
    }
    // REQUIRES: Valid()
    void Prev() {
      assert(Valid());
      node_ = list_->FindLessThan(node_->key);
      if (node_ == list_->head_) {
        node_ = nullptr;
      }
    }
    // Positions at the first entry >= target.
    void Seek(const Key& target) {
      node_ = list_->FindGreaterOrEqual(target, nullptr);
    }
    void SeekToFirst() { node_ = list_->head_->Next(0); }
    void SeekToLast() {
      node_ = list_->FindLast();
      if (node_ == list_->head_) {
        node_ = nullptr;
      }
    }

   private:
    const SkipList* list_;
    const Node* node_ = nullptr;
  };

 private:
  static constexpr int kMaxHeight = 12;
  static constexpr uint32_t kBranching = 4;

  int GetMaxHeight() const {
    return max_height_.load(std::memory_order_relaxed);
  }
  int RandomHeight();
  Node* NewNode(const Key& key, int height);
  // Links node (of the given height) in after the nodes in prev[0, height).
  void Link(Node* node, int height, Node** prev);
  bool Equal(const Key& a, const Key& b) const { return compare_(a, b) == 0; }
  // True when key sorts after n's key (null n is +infinity: false).
  bool KeyIsAfterNode(const Key& key, const Node* n) const {
    return n != nullptr && compare_(n->key, key) < 0;
  }
  // First node >= key, or null. If prev is not null, fills prev[level] with
  // the last node < key at each level in [0, GetMaxHeight()).
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const;
  // Last node < key, or head_.
  Node* FindLessThan(const Key& key) const;
  // Last node, or head_ when empty.
  Node* FindLast() const;

  // Constant after construction.
  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;

  // Height of the tallest node. Written only by the writer; readers may see a
  // stale value, which is harmless (head_'s extra links are null or valid).
  std::atomic<int> max_height_{1};

  // Used only by the writer.
  Random rnd_;
};

// A node is followed in memory by `height` forward links:
//   [Node][atomic<Node*> link 0]...[atomic<Node*> link height-1]
// The alignment makes the first link start right at sizeof(Node).
template <typename Key, class Comparator>
struct alignas(std::atomic<void*>) SkipList<Key, Comparator>::Node {
  explicit Node(const Key& k) : key(k) {}

  Key const key;

  std::atomic<Node*>* links() {
    return reinterpret_cast<std::atomic<Node*>*>(reinterpret_cast<char*>(this) +
                                                 sizeof(Node));
  }
  const std::atomic<Node*>* links() const {
    return reinterpret_cast<const std::atomic<Node*>*>(
        reinterpret_cast<const char*>(this) + sizeof(Node));
  }

  // Acquire: the node we get back is fully initialized.
  Node* Next(int level) const {
    assert(level >= 0);
    return links()[level].load(std::memory_order_acquire);
  }
  // Release: everything written to x before is visible to a reader that
  // loads the link.
  void SetNext(int level, Node* x) {
    assert(level >= 0);
    links()[level].store(x, std::memory_order_release);
  }
  // For the writer, where no ordering is needed.
  Node* NextRelaxed(int level) const {
    return links()[level].load(std::memory_order_relaxed);
  }
  void SetNextRelaxed(int level, Node* x) {
    links()[level].store(x, std::memory_order_relaxed);
  }
};

template <typename Key, class Comparator>
SkipList<Key, Comparator>::SkipList(Comparator cmp, Arena* arena)
    : compare_(cmp),
      arena_(arena),
      head_(NewNode(Key(), kMaxHeight)),
      rnd_(0x5eed5eedull) {}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::NewNode(
    const Key& key, int height) {
  static_assert(sizeof(Node) % alignof(std::atomic<Node*>) == 0);
  const size_t bytes = sizeof(Node) + sizeof(std::atomic<Node*>) * height;
  char* mem = arena_->AllocateAligned(bytes);
  Node* node = new (mem) Node(key);
  std::atomic<Node*>* links =
      reinterpret_cast<std::atomic<Node*>*>(mem + sizeof(Node));
  for (int i = 0; i < height; i++) {
    new (&links[i]) std::atomic<Node*>(nullptr);
  }
  return node;
}

template <typename Key, class Comparator>
int SkipList<Key, Comparator>::RandomHeight() {
  int height = 1;
  while (height < kMaxHeight && rnd_.OneIn(kBranching)) {
    height++;
  }
  return height;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node*
SkipList<Key, Comparator>::FindGreaterOrEqual(const Key& key,
                                              Node** prev) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  // The last node known to be >= key: met again one level down (often),
  // it needs no second comparison.
  const Node* known_not_before = nullptr;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr && next != known_not_before) {
      // Start loading where the search goes after this comparison (right
      // along this level, or down from x) while the comparison waits for
      // next's key: the misses overlap instead of following each other.
      __builtin_prefetch(next->Next(level));
      if (level > 0) __builtin_prefetch(x->Next(level - 1));
      if (compare_(next->key, key) < 0) {
        x = next;  // keep moving right on this level
        continue;
      }
    }
    if (prev != nullptr) {
      prev[level] = x;
    }
    if (level == 0) {
      return next;
    }
    known_not_before = next;
    level--;
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node*
SkipList<Key, Comparator>::FindLessThan(const Key& key) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    assert(x == head_ || compare_(x->key, key) < 0);
    Node* next = x->Next(level);
    if (next != nullptr && compare_(next->key, key) < 0) {
      x = next;
      continue;
    }
    if (level == 0) {
      return x;
    }
    level--;
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLast()
    const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr) {
      x = next;
      continue;
    }
    if (level == 0) {
      return x;
    }
    level--;
  }
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::Insert(const Key& key) {
  Node* prev[kMaxHeight];
  Node* x = FindGreaterOrEqual(key, prev);
  assert(x == nullptr || !Equal(key, x->key));
  (void)x;
  const int height = RandomHeight();
  Link(NewNode(key, height), height, prev);
}

template <typename Key, class Comparator>
char* SkipList<Key, Comparator>::Prepare(size_t payload_bytes,
                                         Prepared* prepared) {
  static_assert(std::is_same_v<Key, const char*>,
                "Prepare stores the key bytes in the node");
  const int height = RandomHeight();
  const size_t node_bytes =
      sizeof(Node) + sizeof(std::atomic<Node*>) * height;
  char* mem = arena_->AllocateAligned(node_bytes + payload_bytes);
  char* payload = mem + node_bytes;
  Node* node = new (mem) Node(payload);
  std::atomic<Node*>* links =
      reinterpret_cast<std::atomic<Node*>*>(mem + sizeof(Node));
  for (int i = 0; i < height; i++) {
    new (&links[i]) std::atomic<Node*>(nullptr);
  }
  prepared->node = node;
  prepared->height = height;
  return payload;
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::InsertPrepared(const Prepared& prepared) {
  Node* prev[kMaxHeight];
  Node* x = FindGreaterOrEqual(prepared.node->key, prev);
  assert(x == nullptr || !Equal(prepared.node->key, x->key));
  (void)x;
  Link(prepared.node, prepared.height, prev);
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::Link(Node* node, int height, Node** prev) {
  const int old_height = GetMaxHeight();
  if (height > old_height) {
    for (int level = old_height; level < height; level++) {
      prev[level] = head_;
    }
    // A reader that sees the new height before the node is linked finds null
    // links in head_ at the new levels and simply drops down a level.
    max_height_.store(height, std::memory_order_relaxed);
  }

  for (int level = 0; level < height; level++) {
    // The new node is not reachable yet, so its own links need no ordering;
    // publishing it through prev[level] does (release).
    node->SetNextRelaxed(level, prev[level]->NextRelaxed(level));
    prev[level]->SetNext(level, node);
  }
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && Equal(key, x->key);
}

}  // namespace ldb

#endif  // LDB_DB_SKIPLIST_H_
