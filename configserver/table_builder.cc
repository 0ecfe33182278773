#include "configserver/table_builder.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <deque>
#include <unordered_map>
#include <utility>

namespace tessera::cs {
namespace {

// splitmix64's finalizer: a fixed, well-spread 64-bit mix.
uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over the address: stable across runs, platforms and member sets
// (unlike std::hash or an index into the sorted member list).
uint64_t HashAddress(const std::string& address) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : address) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool ValidateRequest(const BuildRequest& req, std::vector<std::string>* sorted,
                     std::string* error) {
  if (req.bucket_count == 0) {
    *error = "bucket_count must be > 0";
    return false;
  }
  if (req.copy_count == 0) {
    *error = "copy_count must be >= 1";
    return false;
  }
  *sorted = req.members;
  std::sort(sorted->begin(), sorted->end());
  for (size_t i = 0; i < sorted->size(); ++i) {
    if ((*sorted)[i].empty()) {
      *error = "empty member address";
      return false;
    }
    if (i > 0 && (*sorted)[i] == (*sorted)[i - 1]) {
      *error = "duplicate member " + (*sorted)[i];
      return false;
    }
  }
  if (sorted->size() < req.copy_count) {
    *error = std::to_string(sorted->size()) + " members cannot hold " +
             std::to_string(req.copy_count) + " distinct copies of a bucket";
    return false;
  }
  for (const std::string& d : req.down) {
    if (!std::binary_search(sorted->begin(), sorted->end(), d)) {
      *error = "down node " + d + " is not a member";
      return false;
    }
  }
  const Assignment* cur = req.current;
  if (cur == nullptr || cur->empty()) return true;
  if (cur->bucket_count != req.bucket_count ||
      cur->servers.size() != req.bucket_count) {
    *error = "current assignment has " + std::to_string(cur->bucket_count) +
             " buckets (" + std::to_string(cur->servers.size()) +
             " listed), request has " + std::to_string(req.bucket_count);
    return false;
  }
  if (cur->copy_count != req.copy_count) {
    *error = "current assignment has copy_count " +
             std::to_string(cur->copy_count) + ", request has " +
             std::to_string(req.copy_count);
    return false;
  }
  for (size_t b = 0; b < cur->servers.size(); ++b) {
    const std::vector<std::string>& list = cur->servers[b];
    if (list.size() > req.copy_count) {
      *error = "current assignment: bucket " + std::to_string(b) + " lists " +
               std::to_string(list.size()) + " nodes, copy_count is " +
               std::to_string(req.copy_count);
      return false;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].empty()) {
        *error = "current assignment: bucket " + std::to_string(b) +
                 " lists an empty address";
        return false;
      }
      if (std::find(list.begin(), list.begin() + i, list[i]) !=
          list.begin() + i) {
        *error = "current assignment: bucket " + std::to_string(b) + " lists " +
                 list[i] + " twice";
        return false;
      }
    }
  }
  return true;
}

// One build. Thread-compatible; used once by BuildTable.
//
// Nodes are indexes into names_ (the sorted member list). slots_[b] lists
// the holders of bucket b, master first; it has fewer than copies_ entries
// only between Load and FillMissing.
class Builder {
 public:
  Builder(const BuildRequest& req, std::vector<std::string> sorted_members)
      : buckets_(req.bucket_count),
        copies_(req.copy_count),
        names_(std::move(sorted_members)),
        n_(static_cast<int>(names_.size())),
        node_hash_(n_),
        up_(n_, true),
        count_(n_, 0),
        quota_(n_, 0),
        placed_(n_),
        slots_(buckets_) {
    for (int x = 0; x < n_; ++x) {
      node_hash_[x] = HashAddress(names_[x]);
      if (req.down.count(names_[x]) > 0) up_[x] = false;
      if (up_[x]) up_nodes_.push_back(x);
    }
    Load(req.current);
  }

  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  void Run() {
    PlaceForcedOnDown();
    ComputeQuotas();
    FillMissing();
    MoveSurplus();
    ImproveByExchanges();
    BalanceMasters();
  }

  void Output(Assignment* out) const {
    out->bucket_count = buckets_;
    out->copy_count = copies_;
    out->servers.assign(buckets_, {});
    for (uint32_t b = 0; b < buckets_; ++b) {
      out->servers[b].reserve(slots_[b].size());
      for (int x : slots_[b]) out->servers[b].push_back(names_[x]);
    }
  }

 private:
  bool Holds(uint32_t b, int x) const {
    return std::find(slots_[b].begin(), slots_[b].end(), x) != slots_[b].end();
  }
  int64_t Room(int x) const { return quota_[x] - count_[x]; }
  // Tie-break between equally good nodes for bucket b: a fixed hash, so that
  // the replicas of one node's buckets spread over the others.
  uint64_t Tie(uint32_t b, int x) const {
    return Mix64(node_hash_[x] ^ (uint64_t{b} * 0x9e3779b97f4a7c15ULL));
  }

  // Copies the current assignment, keeping members only, in order: a removed
  // master's first remaining replica becomes the master.
  void Load(const Assignment* current) {
    original_.assign(buckets_, {});
    if (current == nullptr || current->empty()) return;
    std::unordered_map<std::string, int> index;
    for (int x = 0; x < n_; ++x) index.emplace(names_[x], x);
    for (uint32_t b = 0; b < buckets_; ++b) {
      for (const std::string& name : current->servers[b]) {
        auto it = index.find(name);
        if (it == index.end()) continue;
        slots_[b].push_back(it->second);
        ++count_[it->second];
      }
    }
    original_ = slots_;
  }

  // A copy on a node that did not hold the bucket before this build.
  bool IsNew(uint32_t b, int x) const {
    const std::vector<int>& o = original_[b];
    return std::find(o.begin(), o.end(), x) == o.end();
  }

  // Copies the up nodes cannot hold (a bucket missing more copies than
  // there are up nodes lacking it) go to down nodes, before the quotas are
  // set, so that the up nodes are balanced over the rest.
  void PlaceForcedOnDown() {
    const size_t n_up = up_nodes_.size();
    for (uint32_t b = 0; b < buckets_; ++b) {
      size_t up_holders = 0;
      for (int x : slots_[b]) up_holders += up_[x] ? 1 : 0;
      const size_t room_on_up = n_up - up_holders;
      while (copies_ - slots_[b].size() > room_on_up) {
        int best = -1;
        for (int x = 0; x < n_; ++x) {
          if (up_[x] || Holds(b, x)) continue;
          if (best < 0 || count_[x] < count_[best] ||
              (count_[x] == count_[best] && Tie(b, x) > Tie(b, best))) {
            best = x;
          }
        }
        // Fewer than copies_ <= n_ nodes hold b, and every up node does.
        assert(best >= 0);
        AddCopy(b, best);
      }
    }
  }

  // Down nodes keep what they hold. The up nodes share the rest: each gets
  // q or q + 1, and the q + 1 quotas go to the nodes holding the most, which
  // minimizes the copies that must leave over-full nodes.
  void ComputeQuotas() {
    int64_t up_total = int64_t{buckets_} * copies_;
    for (int x = 0; x < n_; ++x) {
      if (!up_[x]) up_total -= count_[x];
    }
    if (up_nodes_.empty()) return;
    const int64_t n_up = static_cast<int64_t>(up_nodes_.size());
    const int64_t q = up_total / n_up;
    const int64_t r = up_total % n_up;
    floor_quota_ = q;
    flexible_ = r > 0 && q + 1 <= buckets_;
    std::vector<int> order = up_nodes_;
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return count_[a] > count_[b]; });
    for (int64_t i = 0; i < n_up; ++i) {
      // A node holds at most one copy of each bucket.
      quota_[order[i]] = std::min<int64_t>(q + (i < r ? 1 : 0), buckets_);
    }
    lower_bound_ = 0;
    for (uint32_t b = 0; b < buckets_; ++b) {
      lower_bound_ += copies_ - slots_[b].size();
    }
    for (int x : up_nodes_) {
      total_room_ += std::max<int64_t>(Room(x), 0);
      lower_bound_ += std::max<int64_t>(-Room(x), 0);
    }
  }

  void AddCopy(uint32_t b, int x) {
    slots_[b].push_back(x);
    AddCount(x, 1);
    if (up_[x]) placed_[x].push_back(b);
  }
  void AddCount(int x, int64_t delta) {
    const int64_t before = std::max<int64_t>(Room(x), 0);
    count_[x] += delta;
    if (up_[x]) total_room_ += std::max<int64_t>(Room(x), 0) - before;
  }
  // Moves bucket b's copy on `from` to `to`, keeping its position.
  void Reassign(uint32_t b, int from, int to) {
    *std::find(slots_[b].begin(), slots_[b].end(), from) = to;
    AddCount(from, -1);
    AddCount(to, 1);
  }

  void FillMissing() {
    for (uint32_t b = 0; b < buckets_; ++b) {
      while (slots_[b].size() < copies_) PlaceMissing(b);
    }
  }

  void PlaceMissing(uint32_t b) {
    // The up node with the most room that lacks the bucket.
    int best = -1;
    for (int x : up_nodes_) {
      if (Room(x) <= 0 || Holds(b, x)) continue;
      if (best < 0 || Room(x) > Room(best) ||
          (Room(x) == Room(best) && Tie(b, x) > Tie(b, best))) {
        best = x;
      }
    }
    if (best >= 0) {
      AddCopy(b, best);
      return;
    }
    if (total_room_ > 0) {
      // A node at the floor quota, full, that lacks the bucket can take the
      // ceil quota of a node that does not need it.
      const int donor = FindDonor();
      if (donor >= 0) {
        for (int x : up_nodes_) {
          if (!Upgradable(x) || Holds(b, x)) continue;
          if (best < 0 || Tie(b, x) > Tie(b, best)) best = x;
        }
      }
      if (best >= 0) {
        MoveQuota(donor, best);
        AddCopy(b, best);
        return;
      }
      if (AugmentPlacement(b, donor)) return;
    }
    // Nowhere within quota: an up node over its quota; MoveSurplus then
    // sheds a copy from it, and ImproveByExchanges finds a cheaper layout if
    // there is one.
    for (int x : up_nodes_) {
      if (Holds(b, x)) continue;
      if (best < 0 || Room(x) > Room(best) ||
          (Room(x) == Room(best) && Tie(b, x) > Tie(b, best))) {
        best = x;
      }
    }
    // PlaceForcedOnDown left no bucket missing more copies than there are up
    // nodes lacking it.
    assert(best >= 0);
    AddCopy(b, best);
  }

  // The quotas are q or q + 1. A node with quota q + 1 holding at most q
  // copies can pass its extra quota to another node: the total stays, and no
  // node ends above its quota. Returns such a donor (the one with the most
  // room), or -1.
  int FindDonor() const {
    if (!flexible_) return -1;
    int donor = -1;
    for (int x : up_nodes_) {
      if (quota_[x] != floor_quota_ + 1 || count_[x] > floor_quota_) continue;
      if (donor < 0 || Room(x) > Room(donor)) donor = x;
    }
    return donor;
  }
  bool Upgradable(int x) const {
    return flexible_ && quota_[x] == floor_quota_ && count_[x] == floor_quota_;
  }
  void MoveQuota(int donor, int to) {
    total_room_ -=
        std::max<int64_t>(Room(donor), 0) + std::max<int64_t>(Room(to), 0);
    --quota_[donor];
    ++quota_[to];
    total_room_ +=
        std::max<int64_t>(Room(donor), 0) + std::max<int64_t>(Room(to), 0);
  }

  // Every node with room holds b. Breadth-first search for a path
  // y0 -> y1 -> ... -> yk where y0 lacks b, each y(i) holds a copy of some
  // bucket placed earlier in this build that y(i+1) lacks, and yk has room
  // (or, when donor >= 0, can take the donor's extra quota); then y0 takes b
  // and each y(i) passes its copy on to y(i+1). Copies placed in this build
  // hold no data yet, so re-routing them is free.
  bool AugmentPlacement(uint32_t b, int donor) {
    constexpr int kUnseen = -2;
    constexpr int kRoot = -1;
    std::vector<int> parent(n_, kUnseen);
    std::vector<uint32_t> via(n_, 0);
    std::deque<int> queue;
    for (int x : up_nodes_) {
      if (Holds(b, x)) continue;
      parent[x] = kRoot;
      queue.push_back(x);
    }
    int found = -1;
    while (!queue.empty() && found < 0) {
      const int v = queue.front();
      queue.pop_front();
      for (uint32_t b2 : placed_[v]) {
        for (int w : up_nodes_) {
          if (parent[w] != kUnseen || Holds(b2, w)) continue;
          parent[w] = v;
          via[w] = b2;
          if (Room(w) > 0 || (donor >= 0 && Upgradable(w))) {
            found = w;
            break;
          }
          queue.push_back(w);
        }
        if (found >= 0) break;
      }
    }
    if (found < 0) return false;
    if (Room(found) <= 0) MoveQuota(donor, found);
    int w = found;
    while (parent[w] != kRoot) {
      const int v = parent[w];
      const uint32_t b2 = via[w];
      Reassign(b2, v, w);
      placed_[v].erase(std::find(placed_[v].begin(), placed_[v].end(), b2));
      placed_[w].push_back(b2);
      w = v;
    }
    AddCopy(b, w);
    return true;
  }

  // Moves copies from up nodes above quota to up nodes below it. A node
  // above quota holds more buckets than a node below it (quotas differ by at
  // most one), so it always holds one the other lacks.
  void MoveSurplus() {
    std::vector<std::vector<uint32_t>> candidates(n_);
    std::vector<bool> built(n_, false), stuck(n_, false);
    for (;;) {
      int from = -1;
      for (int x : up_nodes_) {
        if (stuck[x] || Room(x) >= 0) continue;
        if (from < 0 || Room(x) < Room(from)) from = x;
      }
      if (from < 0) return;
      if (!built[from]) {
        // Replicas first (moving one changes no master), then masters.
        for (int pass = 0; pass < 2; ++pass) {
          for (uint32_t b = 0; b < buckets_; ++b) {
            const auto& s = slots_[b];
            const auto it = std::find(s.begin(), s.end(), from);
            if (it == s.end() || (it == s.begin()) != (pass == 1)) continue;
            candidates[from].push_back(b);
          }
        }
        built[from] = true;
      }
      std::vector<int> receivers;
      for (int x : up_nodes_) {
        if (Room(x) > 0) receivers.push_back(x);
      }
      std::stable_sort(receivers.begin(), receivers.end(),
                       [&](int a, int b) { return Room(a) > Room(b); });
      bool moved = false;
      for (int to : receivers) {
        std::vector<uint32_t>& list = candidates[from];
        for (size_t i = 0; i < list.size(); ++i) {
          if (Holds(list[i], to)) continue;
          Reassign(list[i], from, to);
          list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
          moved = true;
          break;
        }
        if (moved) break;
      }
      if (!moved) stuck[from] = true;
    }
  }

  // Copies on up nodes that did not hold them: what this build moves (the
  // forced copies on down nodes aside, which no choice avoids).
  int64_t PlacementCost() const {
    int64_t cost = 0;
    for (uint32_t b = 0; b < buckets_; ++b) {
      for (int x : slots_[b]) cost += (up_[x] && IsNew(b, x)) ? 1 : 0;
    }
    return cost;
  }

  // The greedy steps reach lower_bound_ unless the buckets' holders make it
  // unreachable (say, a leaving node shared most of its buckets with one
  // other node, which therefore cannot take them). The placement is a
  // min-cost flow problem, optimal when its residual graph has no negative
  // cycle; this cancels such cycles until none is left. The graph is over
  // the up nodes: an edge x -> y moves a copy of some bucket from x to y
  // (x holds it, y does not), at cost new(y) - new(x), where new(z) is 1 if
  // z did not hold the bucket before this build: +1 moves an original copy
  // away, 0 re-routes a copy placed in this build, -1 hands one back to a
  // node that held it before. A quota vertex closes paths from a node at the
  // ceil quota (which may drop) to one at the floor quota (which may rise).
  // Each cancelled cycle saves at least one move; each search costs
  // O(B * C * n + n^3).
  void ImproveByExchanges() {
    for (int x : up_nodes_) {
      if (count_[x] < floor_quota_ || count_[x] > floor_quota_ + 1) return;
    }
    int64_t cost = PlacementCost();
    while (cost > lower_bound_ && CancelNegativeCycle()) {
      const int64_t before = cost;
      cost = PlacementCost();
      if (cost >= before) return;  // cannot happen; never loop
    }
  }

  bool CancelNegativeCycle() {
    const int m = static_cast<int>(up_nodes_.size());
    const int t = m;  // the quota vertex
    const int v = m + 1;
    constexpr int kNoEdge = 100;
    std::vector<int> vertex(n_, -1);
    for (int i = 0; i < m; ++i) vertex[up_nodes_[i]] = i;
    std::vector<int> weight(static_cast<size_t>(v) * v, kNoEdge);
    std::vector<uint32_t> via(static_cast<size_t>(v) * v, 0);
    auto at = [v](int a, int b) { return static_cast<size_t>(a) * v + b; };
    std::vector<bool> in_bucket(m, false);
    for (uint32_t b = 0; b < buckets_; ++b) {
      for (int x : slots_[b]) {
        if (up_[x]) in_bucket[vertex[x]] = true;
      }
      for (int x : slots_[b]) {
        if (!up_[x]) continue;
        const int from = vertex[x];
        const int leave = IsNew(b, x) ? -1 : 0;  // taking the copy off x
        for (int to = 0; to < m; ++to) {
          if (in_bucket[to]) continue;
          const int w = leave + (IsNew(b, up_nodes_[to]) ? 1 : 0);
          if (w < weight[at(from, to)]) {
            weight[at(from, to)] = w;
            via[at(from, to)] = b;
          }
        }
      }
      for (int x : slots_[b]) {
        if (up_[x]) in_bucket[vertex[x]] = false;
      }
    }
    if (flexible_) {
      for (int i = 0; i < m; ++i) {
        const int64_t c = count_[up_nodes_[i]];
        if (c == floor_quota_) weight[at(i, t)] = 0;      // may rise
        if (c == floor_quota_ + 1) weight[at(t, i)] = 0;  // may drop
      }
    }
    // Bellman-Ford from a virtual source joined to every vertex.
    std::vector<int64_t> dist(v, 0);
    std::vector<int> parent(v, -1);
    int updated = -1;
    for (int round = 0; round < v; ++round) {
      updated = -1;
      for (int a = 0; a < v; ++a) {
        for (int b = 0; b < v; ++b) {
          const int w = weight[at(a, b)];
          if (w == kNoEdge || dist[a] + w >= dist[b]) continue;
          dist[b] = dist[a] + w;
          parent[b] = a;
          updated = b;
        }
      }
      if (updated < 0) return false;
    }
    // A vertex updated in round v is downstream of a negative cycle: walk
    // back v steps to land on the cycle, then collect it.
    int on_cycle = updated;
    for (int i = 0; i < v && on_cycle >= 0; ++i) on_cycle = parent[on_cycle];
    if (on_cycle < 0) return false;  // cannot happen
    std::vector<std::pair<int, int>> edges;
    int cur = on_cycle;
    do {
      if (parent[cur] < 0 || static_cast<int>(edges.size()) > v) return false;
      edges.emplace_back(parent[cur], cur);
      cur = parent[cur];
    } while (cur != on_cycle);
    for (const auto& [a, b] : edges) {
      if (a == t || b == t) continue;
      Reassign(via[at(a, b)], up_nodes_[a], up_nodes_[b]);
    }
    return true;
  }

  // Swaps node x into bucket b's master position.
  void Promote(uint32_t b, int x) {
    std::vector<int>& s = slots_[b];
    std::iter_swap(s.begin(), std::find(s.begin(), s.end(), x));
  }

  void BalanceMasters() {
    if (up_nodes_.empty()) return;
    // Buckets with an up holder get an up master; the others keep theirs.
    eligible_.assign(buckets_, false);
    masters_.assign(n_, 0);
    int64_t eligible_count = 0;
    for (uint32_t b = 0; b < buckets_; ++b) {
      for (int x : slots_[b]) {
        if (up_[x]) eligible_[b] = true;
      }
      if (!eligible_[b]) continue;
      ++eligible_count;
      if (up_[slots_[b][0]]) ++masters_[slots_[b][0]];
    }
    for (uint32_t b = 0; b < buckets_; ++b) {
      if (!eligible_[b] || up_[slots_[b][0]]) continue;
      int best = -1;
      for (int x : slots_[b]) {
        if (up_[x] && (best < 0 || masters_[x] < masters_[best])) best = x;
      }
      Promote(b, best);
      ++masters_[best];
    }
    const int64_t n_up = static_cast<int64_t>(up_nodes_.size());
    lo_ = eligible_count / n_up;
    hi_ = lo_ + (eligible_count % n_up != 0 ? 1 : 0);
    for (int x : up_nodes_) {
      while (masters_[x] > hi_ && ShiftMaster(x, /*shed=*/true)) {
      }
    }
    for (int x : up_nodes_) {
      while (masters_[x] < lo_ && ShiftMaster(x, /*shed=*/false)) {
      }
    }
  }

  // shed: moves one mastership away from `start` (above hi_) to the nearest
  // node below hi_; else brings one to `start` (below lo_) from the nearest
  // node above lo_. Along the shortest path x0 -> x1 -> ... -> xk, where
  // x(i) masters a bucket that x(i+1) replicates, each x(i+1) is promoted in
  // that bucket: only the two ends' master counts change, and no data moves.
  // Returns false when no such path exists.
  bool ShiftMaster(int start, bool shed) {
    // adj[v]: (bucket, node) pairs reachable from v in the search direction.
    std::vector<std::vector<std::pair<uint32_t, int>>> adj(n_);
    for (uint32_t b = 0; b < buckets_; ++b) {
      if (!eligible_[b]) continue;
      const int master = slots_[b][0];
      for (size_t s = 1; s < slots_[b].size(); ++s) {
        const int replica = slots_[b][s];
        if (!up_[replica]) continue;
        if (shed) {
          adj[master].emplace_back(b, replica);
        } else {
          adj[replica].emplace_back(b, master);
        }
      }
    }
    constexpr int kUnseen = -2;
    std::vector<int> parent(n_, kUnseen);
    std::vector<uint32_t> via(n_, 0);
    std::deque<int> queue{start};
    parent[start] = -1;
    int found = -1;
    while (!queue.empty() && found < 0) {
      const int v = queue.front();
      queue.pop_front();
      for (const auto& [b, w] : adj[v]) {
        if (parent[w] != kUnseen) continue;
        parent[w] = v;
        via[w] = b;
        if (shed ? masters_[w] < hi_ : masters_[w] > lo_) {
          found = w;
          break;
        }
        queue.push_back(w);
      }
    }
    if (found < 0) return false;
    for (int w = found; w != start; w = parent[w]) {
      // shed: parent[w] masters via[w], w takes over. Else w masters via[w]
      // and hands it to parent[w].
      Promote(via[w], shed ? w : parent[w]);
    }
    masters_[start] += shed ? -1 : 1;
    masters_[found] += shed ? 1 : -1;
    return true;
  }

  const uint32_t buckets_;
  const uint32_t copies_;
  const std::vector<std::string> names_;  // sorted
  const int n_;
  std::vector<uint64_t> node_hash_;
  std::vector<bool> up_;
  std::vector<int> up_nodes_;   // ascending
  std::vector<int64_t> count_;  // copies held
  std::vector<int64_t> quota_;  // up nodes only
  int64_t total_room_ = 0;      // sum over up nodes of max(Room, 0)
  int64_t floor_quota_ = 0;     // the up nodes' quotas are this or one more
  bool flexible_ = false;       // some quotas are floor_quota_ + 1
  // Copies that must be placed on a new node at least: the missing ones and
  // the surplus of nodes above their quota.
  int64_t lower_bound_ = 0;
  std::vector<std::vector<int>> original_;  // slots_ as loaded
  // Copies placed by FillMissing, per node (free to re-route).
  std::vector<std::vector<uint32_t>> placed_;
  std::vector<std::vector<int>> slots_;
  // BalanceMasters state.
  std::vector<bool> eligible_;
  std::vector<int64_t> masters_;
  int64_t lo_ = 0;
  int64_t hi_ = 0;
};

const std::vector<std::string>& BucketList(const Assignment& a, size_t b) {
  static const std::vector<std::string> kNone;
  return b < a.servers.size() ? a.servers[b] : kNone;
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

bool BuildTable(const BuildRequest& req, Assignment* out, std::string* error) {
  std::vector<std::string> sorted;
  if (!ValidateRequest(req, &sorted, error)) return false;
  Builder builder(req, std::move(sorted));
  builder.Run();
  builder.Output(out);
  return true;
}

bool CheckAssignment(const Assignment& a, std::string* error) {
  if (a.bucket_count == 0 || a.copy_count == 0) {
    *error = "bucket_count and copy_count must be > 0";
    return false;
  }
  if (a.servers.size() != a.bucket_count) {
    *error = "bucket_count is " + std::to_string(a.bucket_count) + " but " +
             std::to_string(a.servers.size()) + " buckets are listed";
    return false;
  }
  for (size_t b = 0; b < a.servers.size(); ++b) {
    const std::vector<std::string>& list = a.servers[b];
    if (list.size() != a.copy_count) {
      *error = "bucket " + std::to_string(b) + " lists " +
               std::to_string(list.size()) + " nodes, copy_count is " +
               std::to_string(a.copy_count);
      return false;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].empty()) {
        *error = "bucket " + std::to_string(b) + " lists an empty address";
        return false;
      }
      if (std::find(list.begin(), list.begin() + i, list[i]) !=
          list.begin() + i) {
        *error = "bucket " + std::to_string(b) + " lists " + list[i] + " twice";
        return false;
      }
    }
  }
  return true;
}

std::vector<BucketMove> DiffAssignments(const Assignment& from,
                                        const Assignment& to) {
  std::vector<BucketMove> moves;
  const size_t n = std::max(from.servers.size(), to.servers.size());
  for (size_t b = 0; b < n; ++b) {
    const std::vector<std::string>& old_list = BucketList(from, b);
    const std::vector<std::string>& new_list = BucketList(to, b);
    std::vector<const std::string*> gone, came;
    for (const std::string& s : old_list) {
      if (!Contains(new_list, s)) gone.push_back(&s);
    }
    for (const std::string& s : new_list) {
      if (!Contains(old_list, s)) came.push_back(&s);
    }
    for (size_t i = 0; i < std::max(gone.size(), came.size()); ++i) {
      BucketMove m;
      m.bucket = static_cast<uint32_t>(b);
      if (i < gone.size()) m.from = *gone[i];
      if (i < came.size()) m.to = *came[i];
      moves.push_back(std::move(m));
    }
  }
  return moves;
}

uint32_t CountChangedBuckets(const Assignment& from, const Assignment& to) {
  uint32_t changed = 0;
  const size_t n = std::max(from.servers.size(), to.servers.size());
  for (size_t b = 0; b < n; ++b) {
    const std::vector<std::string>& old_list = BucketList(from, b);
    const std::vector<std::string>& new_list = BucketList(to, b);
    bool same = old_list.size() == new_list.size();
    for (size_t i = 0; same && i < old_list.size(); ++i) {
      same = Contains(new_list, old_list[i]);
    }
    if (!same) ++changed;
  }
  return changed;
}

uint32_t CountMasterChanges(const Assignment& from, const Assignment& to) {
  uint32_t changed = 0;
  const size_t n = std::max(from.servers.size(), to.servers.size());
  for (size_t b = 0; b < n; ++b) {
    const std::vector<std::string>& old_list = BucketList(from, b);
    const std::vector<std::string>& new_list = BucketList(to, b);
    if (old_list.empty() != new_list.empty() ||
        (!old_list.empty() && old_list[0] != new_list[0])) {
      ++changed;
    }
  }
  return changed;
}

}  // namespace tessera::cs
