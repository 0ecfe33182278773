// Randomized model test: a DB driven by random operations next to a std::map
// that says what it must contain, under several option sets, with
// snapshots, range compactions and periodic reopens.
//
// The seed is fixed and logged; set LDB_MODEL_SEED to replay another one.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ldb/cache.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/write_batch.h"
#include "util/random.h"
#include "util/testutil.h"

namespace ldb {
namespace {

using Model = std::map<std::string, std::string>;

constexpr int kSteps = 20000;
constexpr int kReopenEvery = 100;
constexpr int kNumKeys = 1000;
constexpr int kMaxSnapshots = 5;

enum class OptionSet {
  kDefault,
  kTiny,
  kNoCompressionNoFilter,
  kBloomSmallCache
};

std::string OptionSetName(OptionSet o) {
  switch (o) {
    case OptionSet::kDefault:
      return "Default";
    case OptionSet::kTiny:
      return "TinyBuffersAndFiles";
    case OptionSet::kNoCompressionNoFilter:
      return "NoCompressionNoFilter";
    case OptionSet::kBloomSmallCache:
      return "BloomRestart1SmallCache";
  }
  return "?";
}

uint64_t Seed(OptionSet o) {
  const char* env = std::getenv("LDB_MODEL_SEED");
  uint64_t base = env != nullptr ? std::strtoull(env, nullptr, 10) : 20240601;
  return base + static_cast<uint64_t>(o);
}

// The key space: mostly ordinary keys, plus edge cases (empty, NUL, 0xff,
// a long key) so that every layer sees them.
std::vector<std::string> MakeKeys() {
  std::vector<std::string> keys;
  keys.push_back("");
  keys.push_back(std::string(1, '\0'));
  keys.push_back(std::string("a\0b", 3));
  keys.push_back("\xff\xff\xff");
  keys.push_back(std::string(300, 'L'));
  for (int i = static_cast<int>(keys.size()); i < kNumKeys; i++) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "k%04d", i);
    keys.push_back(buf);
  }
  return keys;
}

// A std::map cursor with DB-iterator semantics.
class ModelCursor {
 public:
  explicit ModelCursor(const Model* m) : m_(m), it_(m->end()) {}
  bool Valid() const { return it_ != m_->end(); }
  void SeekToFirst() { it_ = m_->begin(); }
  void SeekToLast() { it_ = m_->empty() ? m_->end() : std::prev(m_->end()); }
  void Seek(const std::string& k) { it_ = m_->lower_bound(k); }
  void Next() { ++it_; }
  void Prev() { it_ = it_ == m_->begin() ? m_->end() : std::prev(it_); }
  const std::string& key() const { return it_->first; }
  const std::string& value() const { return it_->second; }

 private:
  const Model* m_;
  Model::const_iterator it_;
};

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 40)
    out += std::string("...(") + std::to_string(s.size()) + " bytes)";
  return out;
}

class ModelTest : public testing::TestWithParam<OptionSet> {
 protected:
  void SetUp() override {
    env_ = NewMemEnv(Env::Default());
    bloom_ = NewBloomFilterPolicy(10);
    cache_ = NewLRUCache(32 * 1024);
    options_.env = env_.get();
    options_.create_if_missing = true;
    switch (GetParam()) {
      case OptionSet::kDefault:
        break;
      case OptionSet::kTiny:
        options_.write_buffer_size = 10 * 1024;
        options_.max_file_size = 8 * 1024;
        options_.block_size = 256;
        options_.max_bytes_for_level_base = 64 * 1024;
        options_.compaction_nice = 5;  // merges on threads of their own
        break;
      case OptionSet::kNoCompressionNoFilter:
        options_.compression = kNoCompression;
        options_.filter_policy = nullptr;
        options_.write_buffer_size = 64 * 1024;
        break;
      case OptionSet::kBloomSmallCache:
        options_.filter_policy = bloom_.get();
        options_.block_restart_interval = 1;
        options_.block_cache = cache_.get();
        options_.write_buffer_size = 32 * 1024;
        options_.max_file_size = 64 * 1024;
        break;
    }
    Status s = DB::Open(options_, dbname_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void TearDown() override {
    ReleaseAllSnapshots();
    db_.reset();
  }

  void ReleaseAllSnapshots() {
    for (auto& snap : snapshots_) db_->ReleaseSnapshot(snap.handle);
    snapshots_.clear();
  }

  std::string RandomValue() {
    int len =
        rnd_->OneIn(100) ? 10 * 1024 : static_cast<int>(rnd_->Uniform(201));
    return test::RandomString(rnd_.get(), len);
  }
  const std::string& RandomKey() { return keys_[rnd_->Uniform(kNumKeys)]; }

  // Get of key at snap (nullptr: latest) agrees with model.
  void CheckGet(const std::string& key, const Snapshot* snap,
                const Model& model) {
    ReadOptions ro;
    ro.snapshot = snap;
    ro.verify_checksums = rnd_->OneIn(2);
    std::string value;
    Status s = db_->Get(ro, key, &value);
    auto it = model.find(key);
    if (it == model.end()) {
      ASSERT_TRUE(s.IsNotFound())
          << "key " << Printable(key) << " should be absent, got "
          << s.ToString() << " value " << Printable(value);
    } else {
      ASSERT_TRUE(s.ok()) << "key " << Printable(key) << ": " << s.ToString();
      ASSERT_EQ(it->second, value) << "key " << Printable(key);
    }
  }

  // A random walk over a random range of the DB (at snap) next to the model.
  void CheckIteration(const Snapshot* snap, const Model& model) {
    ReadOptions ro;
    ro.snapshot = snap;
    ro.fill_cache = !rnd_->OneIn(4);
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    ModelCursor m(&model);
    const bool forward = rnd_->OneIn(2);
    const std::string start =
        rnd_->OneIn(5) ? test::RandomString(rnd_.get(), 3) : RandomKey();
    std::string what;
    if (forward) {
      it->Seek(start);
      m.Seek(start);
      what = "Seek(" + Printable(start) + ")";
    } else {
      // The last key < start (or the very last one).
      it->Seek(start);
      m.Seek(start);
      if (it->Valid()) {
        it->Prev();
      } else {
        it->SeekToLast();
      }
      if (m.Valid()) {
        m.Prev();
      } else {
        m.SeekToLast();
      }
      what = "LastBefore(" + Printable(start) + ")";
    }
    const int steps = static_cast<int>(rnd_->Uniform(40));
    const bool switch_direction = rnd_->OneIn(4);
    for (int i = 0; i <= steps; i++) {
      ASSERT_EQ(m.Valid(), it->Valid()) << "after " << what;
      if (!m.Valid()) break;
      ASSERT_EQ(m.key(), it->key().ToString()) << "after " << what;
      ASSERT_EQ(m.value(), it->value().ToString())
          << "key " << Printable(m.key()) << " after " << what;
      bool next = forward;
      if (switch_direction && i >= steps / 2) next = !next;
      if (next) {
        it->Next();
        m.Next();
        what += " Next";
      } else {
        it->Prev();
        m.Prev();
        what += " Prev";
      }
      if (what.size() > 300) what = "..." + what.substr(what.size() - 200);
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }

  struct LiveSnapshot {
    const Snapshot* handle;
    Model model;
    int taken_at_step;
  };

  std::unique_ptr<Env> env_;
  std::unique_ptr<const FilterPolicy> bloom_;
  std::unique_ptr<Cache> cache_;
  const std::string dbname_ = "/mem/model_test";
  Options options_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<Random> rnd_;
  const std::vector<std::string> keys_ = MakeKeys();
  std::vector<LiveSnapshot> snapshots_;
};

TEST_P(ModelTest, RandomOperationsMatchModel) {
  const uint64_t seed = Seed(GetParam());
  std::fprintf(
      stderr, "[model_test] %s seed=%llu (LDB_MODEL_SEED=%llu replays)\n",
      OptionSetName(GetParam()).c_str(), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed -
                                      static_cast<uint64_t>(GetParam())));
  rnd_ = std::make_unique<Random>(seed);
  Model model;
  int reopens = 0;
  int compactions = 0;
  int snapshot_checks = 0;

  for (int step = 1; step <= kSteps; step++) {
    SCOPED_TRACE(std::string("seed ") + std::to_string(seed) +
                 std::string(" step ") + std::to_string(step));
    const uint32_t op = rnd_->Uniform(100);
    if (op < 30) {
      const std::string& k = RandomKey();
      std::string v = RandomValue();
      WriteOptions wo;
      wo.sync = rnd_->OneIn(50);
      Status s = db_->Put(wo, k, v);
      ASSERT_TRUE(s.ok()) << s.ToString();
      model[k] = v;
    } else if (op < 40) {
      const std::string& k = RandomKey();
      Status s = db_->Delete(WriteOptions(), k);
      ASSERT_TRUE(s.ok()) << s.ToString();
      model.erase(k);
    } else if (op < 50) {
      WriteBatch batch;
      const int n = 1 + static_cast<int>(rnd_->Uniform(10));
      Model after = model;
      for (int i = 0; i < n; i++) {
        const std::string& k = RandomKey();
        if (rnd_->OneIn(3)) {
          batch.Delete(k);
          after.erase(k);
        } else {
          std::string v = RandomValue();
          batch.Put(k, v);
          after[k] = v;
        }
      }
      Status s = db_->Write(WriteOptions(), &batch);
      ASSERT_TRUE(s.ok()) << s.ToString();
      model = std::move(after);
    } else if (op < 70) {
      CheckGet(RandomKey(), nullptr, model);
    } else if (op < 80) {
      CheckIteration(nullptr, model);
    } else if (op < 86) {
      if (snapshots_.size() < kMaxSnapshots && !rnd_->OneIn(3)) {
        snapshots_.push_back({db_->GetSnapshot(), model, step});
      } else if (!snapshots_.empty()) {
        size_t i = rnd_->Uniform(static_cast<uint32_t>(snapshots_.size()));
        db_->ReleaseSnapshot(snapshots_[i].handle);
        snapshots_.erase(snapshots_.begin() + static_cast<long>(i));
      }
    } else if (op < 97) {
      if (!snapshots_.empty()) {
        const LiveSnapshot& snap =
            snapshots_[rnd_->Uniform(static_cast<uint32_t>(snapshots_.size()))];
        SCOPED_TRACE("snapshot taken at step " +
                     std::to_string(snap.taken_at_step));
        for (int i = 0; i < 5; i++)
          CheckGet(RandomKey(), snap.handle, snap.model);
        if (HasFatalFailure()) return;
        CheckIteration(snap.handle, snap.model);
        snapshot_checks++;
      }
    } else {
      std::string a = RandomKey();
      std::string b = RandomKey();
      if (b < a) std::swap(a, b);
      Slice begin(a);
      Slice end(b);
      const int bounds = static_cast<int>(rnd_->Uniform(4));
      db_->CompactRange(bounds & 1 ? &begin : nullptr,
                        bounds & 2 ? &end : nullptr);
      compactions++;
    }
    if (HasFatalFailure()) return;

    if (step % kReopenEvery == 0) {
      ReleaseAllSnapshots();
      db_.reset();
      Status s = DB::Open(options_, dbname_, &db_);
      ASSERT_TRUE(s.ok()) << s.ToString();
      reopens++;
      // A few checks right after recovery.
      for (int i = 0; i < 20; i++) CheckGet(RandomKey(), nullptr, model);
      if (HasFatalFailure()) return;
    }
  }

  // Finally everything, both directions.
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(model.end(), m)
        << "extra key " << Printable(it->key().ToString());
    ASSERT_EQ(m->first, it->key().ToString());
    ASSERT_EQ(m->second, it->value().ToString());
  }
  ASSERT_EQ(model.end(), m);
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
    ASSERT_NE(model.rend(), r);
    ASSERT_EQ(r->first, it->key().ToString());
  }
  ASSERT_EQ(model.rend(), r);
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  it.reset();
  std::fprintf(stderr,
               "[model_test] %s: %d steps, %zu live keys, %d reopens, %d "
               "range compactions, %d snapshot checks\n",
               OptionSetName(GetParam()).c_str(), kSteps, model.size(), reopens,
               compactions, snapshot_checks);
}

INSTANTIATE_TEST_SUITE_P(OptionSets, ModelTest,
                         testing::Values(OptionSet::kDefault, OptionSet::kTiny,
                                         OptionSet::kNoCompressionNoFilter,
                                         OptionSet::kBloomSmallCache),
                         [](const testing::TestParamInfo<OptionSet>& info) {
                           return OptionSetName(info.param);
                         });

}  // namespace
}  // namespace ldb
