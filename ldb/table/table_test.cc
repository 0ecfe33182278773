#include "table/table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ldb/cache.h"
#include "ldb/comparator.h"
#include "ldb/filter_policy.h"
#include "table/table_builder.h"
#include "table/table_testutil.h"
#include "util/random.h"

namespace ldb {
namespace {

using table_test::RandomKey;
using table_test::RandomValue;
using table_test::StringSink;
using table_test::StringSource;
using Model = std::map<std::string, std::string>;

// Larger than every key RandomKey(_, 16) makes.
const std::string kPastEnd(17, '\xff');

// prefix followed by n in decimal.
std::string Numbered(const char* prefix, int n) {
  std::string result(prefix);
  result.append(std::to_string(n));
  return result;
}

Model RandomModel(Random* rnd, int n, int max_value_len = 100) {
  Model model;
  for (int i = 0; i < n; ++i) {
    model[RandomKey(rnd, 16)] = RandomValue(rnd, max_value_len);
  }
  return model;
}

std::string BuildTable(const Options& options, const Model& model) {
  StringSink sink;
  TableBuilder builder(options, &sink);
  for (const auto& [k, v] : model) builder.Add(k, v);
  EXPECT_TRUE(builder.status().ok());
  EXPECT_TRUE(builder.Finish().ok());
  EXPECT_EQ(model.size(), builder.NumEntries());
  EXPECT_EQ(sink.contents().size(), builder.FileSize());
  return sink.contents();
}

// The entry InternalGet reports for target, if any.
std::optional<std::pair<std::string, std::string>> Get(
    const Table& table, const ReadOptions& options, const Slice& target,
    Status* status) {
  std::optional<std::pair<std::string, std::string>> result;
  int calls = 0;
  *status =
      table.InternalGet(options, target, [&](const Slice& k, const Slice& v) {
        ++calls;
        result.emplace(k.ToString(), v.ToString());
      });
  EXPECT_LE(calls, 1);
  return result;
}

void CheckTableAgainstModel(const Table& table, const Model& model,
                            const ReadOptions& options, bool has_filter,
                            Random* rnd) {
  std::unique_ptr<Iterator> iter = table.NewIterator(options);

  iter->SeekToFirst();
  for (const auto& [k, v] : model) {
    ASSERT_TRUE(iter->Valid());
    ASSERT_EQ(k, iter->key().ToString());
    ASSERT_EQ(v, iter->value().ToString());
    iter->Next();
  }
  ASSERT_FALSE(iter->Valid());
  ASSERT_TRUE(iter->status().ok());

  iter->SeekToLast();
  for (auto it = model.rbegin(); it != model.rend(); ++it) {
    ASSERT_TRUE(iter->Valid());
    ASSERT_EQ(it->first, iter->key().ToString());
    ASSERT_EQ(it->second, iter->value().ToString());
    iter->Prev();
  }
  ASSERT_FALSE(iter->Valid());

  // Seeks (random targets and exact keys) followed by random walks.
  std::vector<std::string> keys;
  for (const auto& entry : model) keys.push_back(entry.first);
  for (int i = 0; i < 100; ++i) {
    const std::string target = (keys.empty() || rnd->OneIn(2))
                                   ? RandomKey(rnd, 16)
                                   : keys[rnd->Uniform(keys.size())];
    iter->Seek(target);
    auto pos = model.lower_bound(target);
    for (int step = 0; step < 30; ++step) {
      if (pos == model.end()) {
        ASSERT_FALSE(iter->Valid());
        break;
      }
      ASSERT_TRUE(iter->Valid());
      ASSERT_EQ(pos->first, iter->key().ToString());
      ASSERT_EQ(pos->second, iter->value().ToString());
      if (rnd->OneIn(2)) {
        iter->Next();
        ++pos;
      } else {
        iter->Prev();
        if (pos == model.begin()) {
          ASSERT_FALSE(iter->Valid());
          break;
        }
        --pos;
      }
    }
  }
  ASSERT_TRUE(iter->status().ok());

  // InternalGet: every key is found with its value.
  for (const auto& [k, v] : model) {
    Status s;
    auto got = Get(table, options, k, &s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(k, got->first);
    ASSERT_EQ(v, got->second);
  }
  // Other targets: the first entry >= target, unless the filter rules the
  // target out.
  for (int i = 0; i < 200; ++i) {
    const std::string target = RandomKey(rnd, 16);
    Status s;
    auto got = Get(table, options, target, &s);
    ASSERT_TRUE(s.ok());
    auto pos = model.lower_bound(target);
    if (got.has_value()) {
      ASSERT_NE(model.end(), pos);
      ASSERT_EQ(pos->first, got->first);
      ASSERT_EQ(pos->second, got->second);
    } else if (!has_filter || (pos != model.end() && pos->first == target)) {
      ASSERT_EQ(model.end(), pos);
    }
  }

  // ApproximateOffsetOf is monotone and inside the file.
  uint64_t last = 0;
  for (const std::string& k : keys) {
    const uint64_t offset = table.ApproximateOffsetOf(k);
    ASSERT_GE(offset, last);
    last = offset;
  }
  ASSERT_GE(table.ApproximateOffsetOf(kPastEnd), last);
}

struct Config {
  CompressionType compression;
  bool bloom;
  size_t block_size;
  int restart_interval;
  bool cache;
};

TEST(TableTest, EmptyTable) {
  Options options;
  const std::string contents = BuildTable(options, {});
  StringSource source(contents);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(options, &source, contents.size(), &table).ok());
  std::unique_ptr<Iterator> iter = table->NewIterator(ReadOptions());
  iter->SeekToFirst();
  EXPECT_FALSE(iter->Valid());
  iter->SeekToLast();
  EXPECT_FALSE(iter->Valid());
  EXPECT_TRUE(iter->status().ok());
  Status s;
  EXPECT_FALSE(Get(*table, ReadOptions(), "a", &s).has_value());
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(0u, table->ApproximateOffsetOf("a"));
}

TEST(TableTest, RandomTablesMatchModel) {
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  std::unique_ptr<Cache> cache = NewLRUCache(100000);
  int config_number = 0;
  for (CompressionType compression : {kNoCompression, kSnappyCompression}) {
    for (bool use_bloom : {false, true}) {
      for (size_t block_size : {256, 1024, 4096, 65536}) {
        for (int restart_interval : {1, 16}) {
          for (bool use_cache : {false, true}) {
            ++config_number;
            SCOPED_TRACE(Numbered("config ", config_number));
            Random rnd(config_number);
            Options options;
            options.compression = compression;
            options.filter_policy = use_bloom ? bloom.get() : nullptr;
            options.block_size = block_size;
            options.block_restart_interval = restart_interval;
            options.block_cache = use_cache ? cache.get() : nullptr;
            const Model model = RandomModel(&rnd, 1 + rnd.Uniform(600));
            const std::string contents = BuildTable(options, model);
            StringSource source(contents);
            std::unique_ptr<Table> table;
            ASSERT_TRUE(
                Table::Open(options, &source, contents.size(), &table).ok());
            ReadOptions read_options;
            read_options.verify_checksums = rnd.OneIn(2);
            read_options.fill_cache = !rnd.OneIn(4);
            CheckTableAgainstModel(*table, model, read_options, use_bloom,
                                   &rnd);
          }
        }
      }
    }
  }
}

TEST(TableTest, InternalGetFindsFirstKeyAtOrAfterTarget) {
  Options options;
  options.block_size = 64;  // a block per couple of entries
  Model model;
  for (int i = 0; i < 100; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "key%03d", i * 2);
    model[key] = Numbered("value", i);
  }
  const std::string contents = BuildTable(options, model);
  StringSource source(contents);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(options, &source, contents.size(), &table).ok());
  for (int i = 0; i < 200; ++i) {
    char target[16];
    std::snprintf(target, sizeof(target), "key%03d", i);
    // Also a target just after the key, which may fall between a block's
    // last key and the index separator.
    for (std::string t : {std::string(target), std::string(target) + "z"}) {
      Status s;
      auto got = Get(*table, ReadOptions(), t, &s);
      ASSERT_TRUE(s.ok());
      auto pos = model.lower_bound(t);
      if (pos == model.end()) {
        EXPECT_FALSE(got.has_value()) << t;
      } else {
        ASSERT_TRUE(got.has_value()) << t;
        EXPECT_EQ(pos->first, got->first);
        EXPECT_EQ(pos->second, got->second);
      }
    }
  }
}

TEST(TableTest, CompressionShrinksCompressibleData) {
  Random rnd(3);
  Model model;
  for (int i = 0; i < 500; ++i) {
    model[RandomKey(&rnd, 16)] =
        std::string(200, static_cast<char>('a' + i % 26));
  }
  Options plain;
  plain.compression = kNoCompression;
  Options snappy;
  snappy.compression = kSnappyCompression;
  const std::string a = BuildTable(plain, model);
  const std::string b = BuildTable(snappy, model);
  EXPECT_LT(b.size() * 3, a.size());
  StringSource source(b);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(snappy, &source, b.size(), &table).ok());
  CheckTableAgainstModel(*table, model, ReadOptions(), false, &rnd);
}

TEST(TableTest, IncompressibleBlocksStayUncompressed) {
  Random rnd(4);
  Model model;
  for (int i = 0; i < 200; ++i) {
    std::string value;
    for (int j = 0; j < 100; ++j)
      value.push_back(static_cast<char>(rnd.Next()));
    model[RandomKey(&rnd, 16)] = value;
  }
  Options plain;
  plain.compression = kNoCompression;
  Options snappy;
  snappy.compression = kSnappyCompression;
  // Random bytes do not compress by 12.5 %: the files are identical.
  EXPECT_EQ(BuildTable(plain, model), BuildTable(snappy, model));
}

TEST(TableTest, BloomFilterSkipsDataBlocks) {
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  Options options;
  options.filter_policy = bloom.get();
  options.block_size = 512;
  Model model;
  for (int i = 0; i < 2000; ++i) model.emplace(Numbered("key", i * 2), "v");
  const std::string contents = BuildTable(options, model);
  StringSource source(contents);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(options, &source, contents.size(), &table).ok());
  const int reads_after_open = source.reads();
  int present_reads = 0;
  for (int i = 0; i < 2000; i += 10) {
    const int before = source.reads();
    Status s;
    ASSERT_TRUE(Get(*table, ReadOptions(), Numbered("key", i * 2), &s));
    present_reads += source.reads() - before;
  }
  EXPECT_EQ(200, present_reads);  // one data block read per lookup
  const int before_absent = source.reads();
  for (int i = 0; i < 2000; ++i) {
    Status s;
    Get(*table, ReadOptions(), Numbered("key", i * 2 + 1), &s);
    ASSERT_TRUE(s.ok());
  }
  // ~1 % false positives; allow a generous margin.
  EXPECT_LT(source.reads() - before_absent, 100);
  EXPECT_GT(reads_after_open, 0);
}

// A policy that rules out every key; its name differs from the bloom
// filter's, so a table built with bloom must ignore it.
class RejectAllPolicy : public FilterPolicy {
 public:
  const char* Name() const override { return "test.RejectAll"; }
  void CreateFilter(const Slice*, int, std::string*) const override {}
  bool KeyMayMatch(const Slice&, const Slice&) const override { return false; }
};

TEST(TableTest, FilterOfAnotherPolicyIsIgnored) {
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  Options build_options;
  build_options.filter_policy = bloom.get();
  Random rnd(9);
  const Model model = RandomModel(&rnd, 300);
  const std::string contents = BuildTable(build_options, model);
  RejectAllPolicy reject;
  Options read_options = build_options;
  read_options.filter_policy = &reject;
  StringSource source(contents);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(read_options, &source, contents.size(), &table).ok());
  CheckTableAgainstModel(*table, model, ReadOptions(), false, &rnd);
}

TEST(TableTest, BlockCacheServesRepeatedReads) {
  std::unique_ptr<Cache> cache = NewLRUCache(1 << 20);
  Options options;
  options.block_cache = cache.get();
  options.block_size = 256;
  Random rnd(11);
  const Model model = RandomModel(&rnd, 500);
  const std::string contents = BuildTable(options, model);
  StringSource source(contents);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(options, &source, contents.size(), &table).ok());

  auto scan = [&](const ReadOptions& ro) {
    std::unique_ptr<Iterator> iter = table->NewIterator(ro);
    size_t n = 0;
    for (iter->SeekToFirst(); iter->Valid(); iter->Next()) ++n;
    EXPECT_EQ(model.size(), n);
  };

  ReadOptions no_fill;
  no_fill.fill_cache = false;
  int before = source.reads();
  scan(no_fill);
  const int blocks = source.reads() - before;
  EXPECT_GT(blocks, 10);
  EXPECT_EQ(0u, cache->TotalCharge());

  before = source.reads();
  scan(ReadOptions());
  EXPECT_EQ(blocks, source.reads() - before);
  EXPECT_GT(cache->TotalCharge(), 0u);

  before = source.reads();
  scan(ReadOptions());
  EXPECT_EQ(0, source.reads() - before);  // everything came from the cache

  // Two tables sharing the cache do not see each other's blocks.
  const Model other_model = RandomModel(&rnd, 500);
  const std::string other = BuildTable(options, other_model);
  StringSource other_source(other);
  std::unique_ptr<Table> other_table;
  ASSERT_TRUE(
      Table::Open(options, &other_source, other.size(), &other_table).ok());
  CheckTableAgainstModel(*other_table, other_model, ReadOptions(), false, &rnd);
  CheckTableAgainstModel(*table, model, ReadOptions(), false, &rnd);
}

TEST(TableTest, BuilderLastKeyIsTheLastAddedKey) {
  Options options;
  options.block_size = 256;  // many data blocks (index separators)
  StringSink sink;
  TableBuilder builder(options, &sink);
  EXPECT_TRUE(builder.LastKey().empty());
  for (int i = 0; i < 500; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "key%06d-with-a-long-tail", i);
    builder.Add(key, std::string(40, 'v'));
    ASSERT_EQ(std::string(key), builder.LastKey().ToString());
  }
  ASSERT_TRUE(builder.Finish().ok());
}

TEST(TableTest, ApproximateOffsets) {
  Options options;
  options.compression = kNoCompression;
  options.block_size = 1024;
  StringSink sink;
  TableBuilder builder(options, &sink);
  Random rnd(5);
  // k01..k07 with values of growing size.
  const int sizes[] = {10, 10, 10000, 200000, 300000, 6, 100000};
  for (int i = 0; i < 7; ++i) {
    std::string value;
    for (int j = 0; j < sizes[i]; ++j)
      value.push_back(static_cast<char>(rnd.Next()));
    builder.Add(Numbered("k0", i + 1), value);
  }
  ASSERT_TRUE(builder.Finish().ok());
  StringSource source(sink.contents());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(
      Table::Open(options, &source, sink.contents().size(), &table).ok());
  auto between = [&](const char* key, uint64_t low, uint64_t high) {
    const uint64_t offset = table->ApproximateOffsetOf(key);
    EXPECT_GE(offset, low) << key;
    EXPECT_LE(offset, high) << key;
  };
  between("abc", 0, 0);
  between("k01", 0, 0);
  between("k01a", 0, 0);
  between("k02", 0, 0);
  between("k03", 0, 0);
  between("k04", 10000, 11000);
  between("k04a", 210000, 211000);
  between("k05", 210000, 211000);
  between("k06", 510000, 511000);
  between("k07", 510000, 511000);
  between("xyz", 610000, 612000);
}

// Checks reads of a damaged table: no crash, and whatever is returned is the
// original data. Scans must return a prefix (suffix) of the model, and stop
// with an error when they do not return all of it.
void CheckDamagedTable(const std::string& contents, uint64_t file_size,
                       const Options& options, const Model& model,
                       bool verify_checksums, Random* rnd,
                       bool* forward_scan_failed, bool* opened = nullptr) {
  StringSource source(contents);
  std::unique_ptr<Table> table;
  Status s = Table::Open(options, &source, file_size, &table);
  *forward_scan_failed = true;
  if (opened != nullptr) *opened = s.ok();
  if (!s.ok()) {
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    return;
  }
  ReadOptions ro;
  ro.verify_checksums = verify_checksums;

  std::unique_ptr<Iterator> iter = table->NewIterator(ro);
  auto pos = model.begin();
  for (iter->SeekToFirst(); iter->Valid(); iter->Next(), ++pos) {
    ASSERT_NE(model.end(), pos);
    ASSERT_EQ(pos->first, iter->key().ToString());
    ASSERT_EQ(pos->second, iter->value().ToString());
  }
  *forward_scan_failed = !iter->status().ok();
  if (pos != model.end()) {
    ASSERT_TRUE(iter->status().IsCorruption()) << iter->status().ToString();
  }

  iter = table->NewIterator(ro);
  auto rpos = model.rbegin();
  for (iter->SeekToLast(); iter->Valid(); iter->Prev(), ++rpos) {
    ASSERT_NE(model.rend(), rpos);
    ASSERT_EQ(rpos->first, iter->key().ToString());
    ASSERT_EQ(rpos->second, iter->value().ToString());
  }
  if (rpos != model.rend()) {
    ASSERT_FALSE(iter->status().ok());
  }

  for (int i = 0; i < 20; ++i) {
    iter = table->NewIterator(ro);
    const std::string target = RandomKey(rnd, 16);
    iter->Seek(target);
    auto p = model.lower_bound(target);
    for (int step = 0; step < 10 && iter->Valid(); ++step, iter->Next(), ++p) {
      ASSERT_NE(model.end(), p);
      ASSERT_EQ(p->first, iter->key().ToString());
      ASSERT_EQ(p->second, iter->value().ToString());
    }
  }

  for (const auto& [k, v] : model) {
    Status gs;
    auto got = Get(*table, ro, k, &gs);
    if (got.has_value()) {
      ASSERT_EQ(k, got->first);
      ASSERT_EQ(v, got->second);
    } else {
      ASSERT_FALSE(gs.ok()) << "key silently missing";
    }
  }
  table->ApproximateOffsetOf(RandomKey(rnd, 16));
}

TEST(TableTest, FlippedBytesNeverGiveWrongData) {
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  std::unique_ptr<Cache> cache = NewLRUCache(1 << 20);
  for (int variant = 0; variant < 4; ++variant) {
    Options options;
    options.compression =
        variant % 2 == 0 ? kNoCompression : kSnappyCompression;
    options.filter_policy = variant / 2 == 1 ? bloom.get() : nullptr;
    options.block_size = 256;
    Random rnd(1000 + variant);
    const Model model = RandomModel(&rnd, 150, 40);
    const std::string good = BuildTable(options, model);

    // Where the data blocks end (the metaindex block, or the filter block,
    // starts there).
    StringSource good_source(good);
    std::unique_ptr<Table> good_table;
    ASSERT_TRUE(
        Table::Open(options, &good_source, good.size(), &good_table).ok());
    const uint64_t data_end = good_table->ApproximateOffsetOf(kPastEnd);
    int opened_with_data_damage = 0;

    for (int seed = 0; seed < 300; ++seed) {
      for (bool verify : {false, true}) {
        SCOPED_TRACE(Numbered("variant ", variant) + Numbered(" seed ", seed) +
                     Numbered(" verify ", verify));
        Random damage(seed * 7 + variant);
        std::string bad = good;
        const int flips = 1 + static_cast<int>(damage.Uniform(3));
        bool data_damaged = false;
        for (int f = 0; f < flips; ++f) {
          // Half the flips land in the data blocks, the rest anywhere.
          const size_t at = damage.OneIn(2) ? damage.Uniform(data_end)
                                            : damage.Uniform(bad.size());
          bad[at] ^= static_cast<char>(1 + damage.Uniform(255));
          if (options.filter_policy == nullptr && at < data_end) {
            data_damaged = true;
          }
        }
        Options read_options = options;
        read_options.block_cache = seed % 3 == 0 ? cache.get() : nullptr;
        read_options.paranoid_checks = seed % 5 == 0;
        bool forward_failed = false;
        bool opened = false;
        CheckDamagedTable(bad, bad.size(), read_options, model, verify, &damage,
                          &forward_failed, &opened);
        if (HasFatalFailure()) return;
        if (data_damaged && opened) {
          // A full scan reads every data block, so it must hit the damage.
          EXPECT_TRUE(forward_failed);
          ++opened_with_data_damage;
        }
      }
    }
    // The damage must often leave the table openable, or this test would
    // prove little.
    if (options.filter_policy == nullptr) {
      EXPECT_GT(opened_with_data_damage, 150) << "variant " << variant;
    }
  }
}

TEST(TableTest, TruncatedFilesFailCleanly) {
  std::unique_ptr<const FilterPolicy> bloom = NewBloomFilterPolicy(10);
  Options options;
  options.filter_policy = bloom.get();
  options.block_size = 256;
  Random rnd(77);
  const Model model = RandomModel(&rnd, 60, 30);
  const std::string good = BuildTable(options, model);
  for (size_t len = 0; len < good.size(); ++len) {
    const std::string cut = good.substr(0, len);
    bool failed = false;
    // The caller knows the truncated size.
    CheckDamagedTable(cut, cut.size(), options, model, true, &rnd, &failed);
    if (HasFatalFailure()) return;
    // The caller believes the file is whole: reads come back short.
    CheckDamagedTable(cut, good.size(), options, model, false, &rnd, &failed);
    if (HasFatalFailure()) return;
  }
  // Sanity: the whole file reads fine.
  bool failed = true;
  CheckDamagedTable(good, good.size(), options, model, false, &rnd, &failed);
  EXPECT_FALSE(failed);
}

TEST(TableTest, OpenRejectsGarbage) {
  Options options;
  std::unique_ptr<Table> table;
  const std::string small = "tiny";
  StringSource small_source(small);
  EXPECT_TRUE(
      Table::Open(options, &small_source, small.size(), &table).IsCorruption());
  const std::string garbage(1000, 'x');
  StringSource garbage_source(garbage);
  Status s = Table::Open(options, &garbage_source, garbage.size(), &table);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("bad magic number"));
  EXPECT_EQ(nullptr, table);
}

}  // namespace
}  // namespace ldb
