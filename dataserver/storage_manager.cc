#include "dataserver/storage_manager.h"

#include <glog/logging.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <unordered_map>

#include "common/bucket_hash.h"
#include "comparators/bitcmp_comparator.h"
#include "comparators/expire_bloom_policy.h"
#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "ldb/cache.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/write_batch.h"
#include "migration/bulk_thread.h"

namespace tessera::ds {

namespace cmp = tessera::comparators;

namespace {

// Parses a whole decimal int64 ("-12", "7"); false for anything else.
bool ParseCounter(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (*begin == '+') return false;
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end;
}

uint64_t Clamp(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }

// Calls `fn(area)` for every area whose bit is set in `touched`
// (StorageManager::touched_), in order.
template <typename Fn>
void ForEachTouched(const std::atomic<uint64_t>* touched, Fn fn) {
  for (uint32_t w = 0; w < StorageManager::kAreaCount / 64; ++w) {
    uint64_t bits = touched[w].load(std::memory_order_relaxed);
    while (bits != 0) {
      const int b = __builtin_ctzll(bits);
      bits &= bits - 1;
      fn(w * 64 + static_cast<uint32_t>(b));
    }
  }
}

}  // namespace

StorageManager::StorageManager(const StorageOptions& options) : options_(options) {}

StorageManager::~StorageManager() { Close().IgnoreError(); }

Status StorageManager::Open(const StorageOptions& options,
                            std::unique_ptr<StorageManager>* out) {
  if (options.data_dir.empty()) return Status::InvalidArgument("data_dir is empty");
  if (options.write_buffer_bytes < (64u << 10)) {
    return Status::InvalidArgument("write_buffer_bytes below 64 KiB");
  }
  if (options.lock_stripes == 0) return Status::InvalidArgument("lock_stripes is 0");
  std::unique_ptr<StorageManager> sm(new StorageManager(options));
  for (int i = 0; i < options.migrate_ingest_idle_builders; ++i) {
    sm->ingest_builders_.push_back(std::make_unique<migration::BulkThread>(
        [] { migration::StartBulkWorkOnCurrentThread("mig-build", /*idle=*/true, 0); }));
  }
  Status s = sm->OpenDb();
  if (!s.ok()) return s;
  *out = std::move(sm);
  return Status::OK();
}

Status StorageManager::OpenDb() {
  env_ = options_.env != nullptr ? options_.env : ldb::Env::Default();
  ldb::Status ls = env_->CreateDir(options_.data_dir);
  if (!ls.ok() && !env_->FileExists(options_.data_dir)) {
    return FromLdb(ls, "create " + options_.data_dir);
  }
  ls = cmp::GcRegistry::Open(env_, options_.data_dir, &registry_);
  if (!ls.ok()) return FromLdb(ls, "open GC registry");
  comparator_ = std::make_unique<cmp::BitcmpComparator>(registry_.get());
  filter_ = cmp::NewExpireBloomFilterPolicy(options_.bloom_bits_per_key);
  cache_ = ldb::NewLRUCache(options_.block_cache_bytes);

  ldb::Options o;
  o.env = env_;
  o.create_if_missing = true;
  o.comparator = comparator_.get();
  o.filter_policy = filter_.get();
  o.block_cache = cache_.get();
  o.write_buffer_size = options_.write_buffer_bytes;
  o.max_open_files = options_.max_open_files;
  o.compaction_nice = options_.compaction_nice;
  o.compression = options_.snappy ? ldb::kSnappyCompression : ldb::kNoCompression;
  // Flushes are cut at bucket boundaries once a file holds 256 KiB (by default,
  // --flush_cut_bytes): client writes
  // (a little of every bucket) still flush to a few level-0 files, but a bucket
  // migrating in flushes to a file of its own, which goes straight below level 0
  // when nothing overlaps it there instead of being rewritten by a level-0
  // compaction (migration/README.md).
  o.cut_flush_at_stop_before = options_.flush_cut_bytes > 0;
  o.flush_cut_min_bytes = options_.flush_cut_bytes;
  ls = ldb::DB::Open(o, options_.data_dir, &db_);
  if (!ls.ok()) return FromLdb(ls, "open DB " + options_.data_dir);

  size_t n = 1;
  while (n < options_.lock_stripes) n <<= 1;
  stripes_ = std::make_unique<std::mutex[]>(n);
  stripe_mask_ = n - 1;
  areas_ = std::make_unique<AreaCounters[]>(kAreaCount);
  touched_ = std::make_unique<std::atomic<uint64_t>[]>(kAreaCount / 64);

  if (options_.count_on_open) {
    const auto start = std::chrono::steady_clock::now();
    Status s = Recount();
    if (!s.ok()) return s;
    uint64_t keys = 0, bytes = 0;
    for (const AreaStat& a : AreaStats()) {
      keys += a.keys;
      bytes += a.bytes;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    LOG(INFO) << "storage " << options_.data_dir << " open: " << keys << " keys, " << bytes
              << " bytes (counted in " << ms << " ms)";
  } else {
    LOG(INFO) << "storage " << options_.data_dir << " open (not counted)";
  }
  return Status::OK();
}

uint32_t StorageManager::NowSeconds() const {
  return static_cast<uint32_t>(env_->NowSeconds());
}

Status StorageManager::Check(uint32_t area, std::string_view key, uint32_t bucket) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  if (area >= kAreaCount) return Status::InvalidArgument("area out of range");
  if (bucket > cmp::kMaxBucket) return Status::InvalidArgument("bucket out of range");
  if (key.empty()) return Status::InvalidArgument("empty key");
  Area(area).ops.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

std::mutex& StorageManager::StripeFor(uint32_t area, std::string_view key) {
  return stripes_[XxHash64(key, area) & stripe_mask_];
}

Status StorageManager::FromLdb(const ldb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound();
  return Status::Internal(std::string(what) + ": " + s.ToString());
}

Status StorageManager::ComputeWriteExpire(const Expiry& expiry, uint32_t now,
                                          uint32_t* expire) {
  Status s = ComputeExpire(expiry, now, expire);
  if (s.ok() && *expire != 0 && *expire <= now) {
    return Status::InvalidArgument("expire_at is in the past");
  }
  return s;
}

Status StorageManager::CheckVersion(const Existing& old, uint32_t version) {
  if (version == 0 || (old.found && old.version == version)) return Status::OK();
  return Status::VersionMismatch(old.found ? "stored version is " + std::to_string(old.version)
                                           : "key not found");
}

Status StorageManager::ComputeExpire(const Expiry& expiry, uint32_t now, uint32_t* expire) {
  if (expiry.ttl_seconds != 0 && expiry.expire_at != 0) {
    return Status::InvalidArgument("both ttl_seconds and expire_at are set");
  }
  if (expiry.ttl_seconds != 0) {
    const uint64_t at = static_cast<uint64_t>(now) + expiry.ttl_seconds;
    if (at > std::numeric_limits<uint32_t>::max()) {
      return Status::InvalidArgument("ttl_seconds too large");
    }
    *expire = static_cast<uint32_t>(at);
  } else {
    *expire = expiry.expire_at;
  }
  return Status::OK();
}

uint32_t StorageManager::NextVersion(const Existing& old) {
  if (!old.found) return 1;
  return old.version == std::numeric_limits<uint32_t>::max() ? 1 : old.version + 1;
}

Status StorageManager::ReadExisting(const std::string& stored_key, Existing* existing) {
  std::string stored;
  ldb::Status ls = db_->Get(ldb::ReadOptions(), stored_key, &stored);
  if (ls.IsNotFound()) {
    existing->found = false;
    return Status::OK();
  }
  if (!ls.ok()) return FromLdb(ls, "read");
  cmp::ValueMeta meta;
  ldb::Slice user_value;
  if (!cmp::DecodeStoredValue(stored, &meta, &user_value)) {
    return Status::Internal("undecodable stored value");
  }
  if (meta.expire != 0 && meta.expire <= NowSeconds()) {
    existing->found = false;  // ldb judged the key's prefix; the header agrees
    return Status::OK();
  }
  existing->found = true;
  existing->version = meta.version;
  existing->created = meta.created;
  existing->modified = meta.modified;
  existing->expire = meta.expire;
  existing->value.assign(user_value.data(), user_value.size());
  return Status::OK();
}

Status StorageManager::Get(uint32_t area, std::string_view key, uint32_t bucket,
                           GetResult* result) {
  Status s = Check(area, key, bucket);
  if (!s.ok()) return s;
  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  Existing e;
  s = ReadExisting(stored_key, &e);
  if (!s.ok()) return s;
  if (!e.found) return Status::NotFound();
  result->value = std::move(e.value);
  result->version = e.version;
  result->expire_at = e.expire;
  result->ttl_seconds =
      e.expire == 0 ? -1 : static_cast<int64_t>(e.expire) - static_cast<int64_t>(NowSeconds());
  if (result->ttl_seconds == 0) result->ttl_seconds = 1;  // expires within the second
  return Status::OK();
}

Status StorageManager::WriteLocked(uint32_t area, std::string_view key, uint32_t bucket,
                                   const Existing& old, uint32_t version, uint32_t expire,
                                   std::string_view value) {
  const uint32_t now = NowSeconds();
  return WriteMetaLocked(area, key, bucket, old, version, old.found ? old.created : now, now,
                         expire, value, /*enforce_quota=*/true, options_.sync_writes);
}

Status StorageManager::WriteMetaLocked(uint32_t area, std::string_view key, uint32_t bucket,
                                       const Existing& old, uint32_t version,
                                       uint32_t created, uint32_t modified, uint32_t expire,
                                       std::string_view value, bool enforce_quota,
                                       bool sync) {
  AreaCounters& ac = Area(area);
  const int64_t new_bytes = static_cast<int64_t>(key.size() + value.size());
  const int64_t old_bytes = old.found ? static_cast<int64_t>(key.size() + old.value.size()) : 0;
  const int64_t delta = new_bytes - old_bytes;
  const uint64_t quota = ac.quota.load(std::memory_order_relaxed);
  const int64_t after = ac.bytes.fetch_add(delta, std::memory_order_relaxed) + delta;
  if (enforce_quota && delta > 0 && quota != 0 && after > 0 &&
      static_cast<uint64_t>(after) > quota) {
    ac.bytes.fetch_sub(delta, std::memory_order_relaxed);
    return Status::QuotaExceeded("area " + std::to_string(area) + " over its quota of " +
                                 std::to_string(quota) + " bytes");
  }

  std::string stored_key;
  std::string stored_value;
  EncodeRecord(area, key, bucket, version, created, modified, expire, value, &stored_key,
               &stored_value);
  ldb::WriteOptions wo;
  wo.sync = sync;
  ldb::Status ls = db_->Put(wo, stored_key, stored_value);
  if (!ls.ok()) {
    ac.bytes.fetch_sub(delta, std::memory_order_relaxed);
    return FromLdb(ls, "write");
  }
  if (!old.found) ac.keys.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

void StorageManager::EncodeRecord(uint32_t area, std::string_view key, uint32_t bucket,
                                  uint32_t version, uint32_t created, uint32_t modified,
                                  uint32_t expire, std::string_view value,
                                  std::string* stored_key, std::string* stored_value) {
  cmp::ValueMeta meta;
  meta.version = version;
  meta.created = created;
  meta.modified = modified;
  meta.expire = expire;
  stored_key->clear();
  stored_key->reserve(cmp::kKeyHeaderSize + key.size());
  cmp::AppendStoredKey(stored_key, expire, bucket, static_cast<uint16_t>(area), key);
  stored_value->clear();
  stored_value->reserve(cmp::kValueMetaSize + value.size());
  cmp::AppendStoredValue(stored_value, meta, value);
}

Status StorageManager::DeleteLocked(uint32_t area, std::string_view key, uint32_t bucket,
                                    const Existing& old) {
  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  ldb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  ldb::Status ls = db_->Delete(wo, stored_key);
  if (!ls.ok()) return FromLdb(ls, "delete");
  if (old.found) {
    AreaCounters& ac = Area(area);
    ac.keys.fetch_sub(1, std::memory_order_relaxed);
    ac.bytes.fetch_sub(static_cast<int64_t>(key.size() + old.value.size()),
                       std::memory_order_relaxed);
  }
  return Status::OK();
}

Status StorageManager::Put(uint32_t area, std::string_view key, uint32_t bucket,
                           std::string_view value, uint32_t version, const Expiry& expiry,
                           uint32_t* new_version) {
  Status s = Check(area, key, bucket);
  if (!s.ok()) return s;
  const uint32_t now = NowSeconds();
  uint32_t expire = 0;
  s = ComputeWriteExpire(expiry, now, &expire);
  if (!s.ok()) return s;

  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  std::lock_guard<std::mutex> l(StripeFor(area, key));
  s = CheckFence(bucket);
  if (!s.ok()) return s;
  Existing old;
  s = ReadExisting(stored_key, &old);
  if (!s.ok()) return s;
  s = CheckVersion(old, version);
  if (!s.ok()) return s;
  const uint32_t v = NextVersion(old);
  s = WriteLocked(area, key, bucket, old, v, expire, value);
  if (!s.ok()) return s;
  RecordChange(bucket, area, key);
  *new_version = v;
  return Status::OK();
}

Status StorageManager::Remove(uint32_t area, std::string_view key, uint32_t bucket,
                              uint32_t version) {
  Status s = Check(area, key, bucket);
  if (!s.ok()) return s;
  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  std::lock_guard<std::mutex> l(StripeFor(area, key));
  s = CheckFence(bucket);
  if (!s.ok()) return s;
  Existing old;
  s = ReadExisting(stored_key, &old);
  if (!s.ok()) return s;
  if (!old.found) return Status::NotFound();
  s = CheckVersion(old, version);
  if (!s.ok()) return s;
  s = DeleteLocked(area, key, bucket, old);
  if (s.ok()) RecordChange(bucket, area, key);
  return s;
}

Status StorageManager::Incr(uint32_t area, std::string_view key, uint32_t bucket,
                            int64_t delta, int64_t initial_value, const Expiry& expiry,
                            uint32_t version, int64_t* value, uint32_t* new_version) {
  Status s = Check(area, key, bucket);
  if (!s.ok()) return s;
  const uint32_t now = NowSeconds();
  uint32_t create_expire = 0;
  s = ComputeWriteExpire(expiry, now, &create_expire);
  if (!s.ok()) return s;

  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  std::lock_guard<std::mutex> l(StripeFor(area, key));
  s = CheckFence(bucket);
  if (!s.ok()) return s;
  Existing old;
  s = ReadExisting(stored_key, &old);
  if (!s.ok()) return s;
  s = CheckVersion(old, version);
  if (!s.ok()) return s;
  int64_t base = initial_value;
  uint32_t expire = create_expire;
  if (old.found) {
    if (!ParseCounter(old.value, &base)) {
      return Status::InvalidArgument("stored value is not a decimal integer");
    }
    expire = old.expire;
  }
  int64_t result = 0;
  if (__builtin_add_overflow(base, delta, &result)) {
    return Status::InvalidArgument("counter overflow");
  }
  const std::string text = std::to_string(result);
  const uint32_t v = NextVersion(old);
  s = WriteLocked(area, key, bucket, old, v, expire, text);
  if (!s.ok()) return s;
  RecordChange(bucket, area, key);
  *value = result;
  *new_version = v;
  return Status::OK();
}

Status StorageManager::Expire(uint32_t area, std::string_view key, uint32_t bucket,
                              const Expiry& expiry, uint32_t* expire_at) {
  Status s = Check(area, key, bucket);
  if (!s.ok()) return s;
  const uint32_t now = NowSeconds();
  uint32_t expire = 0;
  s = ComputeExpire(expiry, now, &expire);
  if (!s.ok()) return s;

  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  std::lock_guard<std::mutex> l(StripeFor(area, key));
  s = CheckFence(bucket);
  if (!s.ok()) return s;
  Existing old;
  s = ReadExisting(stored_key, &old);
  if (!s.ok()) return s;
  if (!old.found) return Status::NotFound();
  if (expire != 0 && expire <= now) {
    s = DeleteLocked(area, key, bucket, old);
  } else {
    s = WriteLocked(area, key, bucket, old, NextVersion(old), expire, old.value);
  }
  if (!s.ok()) return s;
  RecordChange(bucket, area, key);
  *expire_at = expire;
  return Status::OK();
}

StorageManager::AreaCounters& StorageManager::Area(uint32_t area) {
  std::atomic<uint64_t>& word = touched_[area / 64];
  const uint64_t bit = uint64_t{1} << (area % 64);
  // A plain load first: after an area's first use this is all it costs.
  if ((word.load(std::memory_order_relaxed) & bit) == 0) {
    word.fetch_or(bit, std::memory_order_relaxed);
  }
  return areas_[area];
}

void StorageManager::SetAreaQuotas(const std::vector<std::pair<uint32_t, uint64_t>>& quotas) {
  std::unordered_map<uint32_t, uint64_t> next;
  for (const auto& [area, bytes] : quotas) {
    if (area < kAreaCount && bytes != 0) next[area] = bytes;
  }
  for (const auto& [area, bytes] : next) Area(area);  // so the walk below sees it
  ForEachTouched(touched_.get(), [&](uint32_t a) {
    const auto it = next.find(a);
    const uint64_t quota = it == next.end() ? 0 : it->second;
    if (areas_[a].quota.load(std::memory_order_relaxed) != quota) {
      areas_[a].quota.store(quota, std::memory_order_relaxed);
      LOG(INFO) << "area " << a << " quota "
                << (quota == 0 ? std::string("unlimited") : std::to_string(quota) + " bytes");
    }
  });
}

std::vector<AreaStat> StorageManager::AreaStats() const {
  std::vector<AreaStat> out;
  ForEachTouched(touched_.get(), [&](uint32_t a) {
    const AreaCounters& ac = areas_[a];
    AreaStat st;
    st.area = a;
    st.ops = ac.ops.load(std::memory_order_relaxed);
    st.keys = Clamp(ac.keys.load(std::memory_order_relaxed));
    st.bytes = Clamp(ac.bytes.load(std::memory_order_relaxed));
    st.quota_bytes = ac.quota.load(std::memory_order_relaxed);
    if (st.ops != 0 || st.keys != 0 || st.bytes != 0 || st.quota_bytes != 0) out.push_back(st);
  });
  return out;
}

Status StorageManager::Recount() {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  std::lock_guard<std::mutex> recount(recount_mu_);
  // A consistent cut: no read-modify-write is between its read and its accounting
  // while every stripe is held, so the snapshot matches the counters read here.
  std::vector<std::pair<int64_t, int64_t>> base(kAreaCount);
  const ldb::Snapshot* snap = nullptr;
  {
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(stripe_mask_ + 1);
    for (size_t i = 0; i <= stripe_mask_; ++i) locks.emplace_back(stripes_[i]);
    snap = db_->GetSnapshot();
    for (uint32_t a = 0; a < kAreaCount; ++a) {
      base[a] = {areas_[a].keys.load(std::memory_order_relaxed),
                 areas_[a].bytes.load(std::memory_order_relaxed)};
    }
  }
  std::unordered_map<uint32_t, std::pair<int64_t, int64_t>> counted;
  ldb::ReadOptions ro;
  ro.snapshot = snap;
  ro.fill_cache = false;
  ldb::Status ls;
  {
    std::unique_ptr<ldb::Iterator> it = db_->NewIterator(ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      cmp::KeyParts parts;
      if (!cmp::DecodeStoredKey(it->key(), &parts)) continue;
      const size_t value_bytes =
          it->value().size() > cmp::kValueMetaSize ? it->value().size() - cmp::kValueMetaSize : 0;
      auto& c = counted[parts.area];
      c.first += 1;
      c.second += static_cast<int64_t>(parts.user_key.size() + value_bytes);
    }
    ls = it->status();
  }
  db_->ReleaseSnapshot(snap);
  if (!ls.ok()) return FromLdb(ls, "scan");
  for (uint32_t a = 0; a < kAreaCount; ++a) {
    const auto found = counted.find(a);
    const int64_t keys = found == counted.end() ? 0 : found->second.first;
    const int64_t bytes = found == counted.end() ? 0 : found->second.second;
    if (keys == base[a].first && bytes == base[a].second) continue;
    Area(a).keys.fetch_add(keys - base[a].first, std::memory_order_relaxed);
    Area(a).bytes.fetch_add(bytes - base[a].second, std::memory_order_relaxed);
  }
  return Status::OK();
}

uint64_t StorageManager::ApproximateDiskBytes() {
  if (closed_.load(std::memory_order_acquire)) return 0;
  const std::string start;  // the smallest key
  const std::string limit(cmp::kKeyHeaderSize + 8, '\xff');
  const ldb::Range range(start, limit);
  uint64_t size = 0;
  db_->GetApproximateSizes(&range, 1, &size);
  return size;
}

std::string StorageManager::Property(const std::string& name) {
  std::string value;
  if (closed_.load(std::memory_order_acquire) || !db_->GetProperty(name, &value)) return "";
  return value;
}

Status StorageManager::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return Status::OK();
  if (db_ == nullptr) return Status::OK();
  Status result;
  if (!options_.sync_writes) {
    // Make every acknowledged write durable before closing: an empty synced batch
    // syncs the WAL.
    ldb::WriteBatch empty;
    ldb::WriteOptions wo;
    wo.sync = true;
    ldb::Status ls = db_->Write(wo, &empty);
    if (!ls.ok()) result = FromLdb(ls, "sync on close");
  }
  db_.reset();  // waits for background work
  LOG(INFO) << "storage " << options_.data_dir << " closed";
  return result;
}

}  // namespace tessera::ds
