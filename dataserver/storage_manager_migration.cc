// StorageManager's migration::BucketStore side: change recording, fences, applying
// migrated batches, bucket reclaims and their cleanup compactions.
#include <glog/logging.h>

#include <charconv>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "comparators/gc_registry.h"
#include "comparators/key_codec.h"
#include "dataserver/storage_manager.h"
#include "ldb/db.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/write_batch.h"
#include "migration/bulk_thread.h"

namespace tessera::ds {

namespace cmp = tessera::comparators;

namespace {

// The largest ldb write ApplyMigrated makes (see there).
constexpr size_t kMaxMigrateWriteBytes = 128 << 10;

std::string ChangeKey(uint32_t area, std::string_view key) {
  std::string out;
  out.reserve(2 + key.size());
  out.push_back(static_cast<char>((area >> 8) & 0xff));
  out.push_back(static_cast<char>(area & 0xff));
  out.append(key);
  return out;
}

uint64_t ParseU64(const std::string& text) {
  uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

}  // namespace

Status StorageManager::CheckFence(uint32_t bucket) const {
  if (Fenced(bucket)) {
    return Status::Unavailable("bucket " + std::to_string(bucket) + " is migrating");
  }
  return Status::OK();
}

void StorageManager::RecordChange(uint32_t bucket, uint32_t area, std::string_view key) {
  if (recording_count_.load(std::memory_order_acquire) == 0) return;
  std::lock_guard<std::mutex> l(migrate_mu_);
  auto it = changes_.find(bucket);
  if (it != changes_.end()) it->second.insert(ChangeKey(area, key));
}

void StorageManager::StartRecording(uint32_t bucket) {
  std::lock_guard<std::mutex> l(migrate_mu_);
  auto [it, inserted] = changes_.try_emplace(bucket);
  if (inserted) {
    recording_count_.fetch_add(1);
  } else {
    it->second.clear();
  }
}

std::vector<migration::ChangedKey> StorageManager::TakeChanges(uint32_t bucket) {
  std::unordered_set<std::string> taken;
  {
    std::lock_guard<std::mutex> l(migrate_mu_);
    auto it = changes_.find(bucket);
    if (it == changes_.end()) return {};
    taken.swap(it->second);
  }
  std::vector<migration::ChangedKey> out;
  out.reserve(taken.size());
  for (const std::string& k : taken) {
    const uint32_t area = (static_cast<uint32_t>(static_cast<uint8_t>(k[0])) << 8) |
                          static_cast<uint8_t>(k[1]);
    out.emplace_back(area, k.substr(2));
  }
  return out;
}

void StorageManager::StopRecording(uint32_t bucket) {
  std::lock_guard<std::mutex> l(migrate_mu_);
  if (changes_.erase(bucket) != 0) recording_count_.fetch_sub(1);
}

void StorageManager::Fence(uint32_t bucket) {
  {
    std::lock_guard<std::mutex> l(migrate_mu_);
    if (!fenced_.insert(bucket).second) return;
    fenced_count_.fetch_add(1);
  }
  // A write that passed the fence check holds its stripe until it is applied and
  // recorded: taking every stripe once waits for all of them.
  for (size_t i = 0; i <= stripe_mask_; ++i) {
    std::lock_guard<std::mutex> l(stripes_[i]);
  }
}

void StorageManager::Unfence(uint32_t bucket) {
  {
    std::lock_guard<std::mutex> l(migrate_mu_);
    if (fenced_.erase(bucket) == 0) return;
    fenced_count_.fetch_sub(1);
  }
  if (unfence_listener_) unfence_listener_(bucket);
}

bool StorageManager::Fenced(uint32_t bucket) const {
  if (fenced_count_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard<std::mutex> l(migrate_mu_);
  return fenced_.count(bucket) != 0;
}

void StorageManager::SetUnfenceListener(std::function<void(uint32_t bucket)> listener) {
  unfence_listener_ = std::move(listener);
}

Status StorageManager::ScanBucket(
    uint32_t bucket, const std::function<bool(const migration::MigratedEntryView& entry)>& emit) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  if (bucket > cmp::kMaxBucket) return Status::InvalidArgument("bucket out of range");
  const ldb::Snapshot* snap = db_->GetSnapshot();
  ldb::ReadOptions ro;
  ro.snapshot = snap;
  ro.fill_cache = false;
  const cmp::StoredKeyRange range = cmp::BucketKeyRange(bucket);
  const uint32_t now = NowSeconds();
  ldb::Status ls;
  {
    std::unique_ptr<ldb::Iterator> it = db_->NewIterator(ro);
    for (it->Seek(range.start); it->Valid(); it->Next()) {
      cmp::KeyParts parts;
      if (!cmp::DecodeStoredKey(it->key(), &parts)) continue;
      if (parts.bucket != bucket) break;
      cmp::ValueMeta meta;
      ldb::Slice user_value;
      if (!cmp::DecodeStoredValue(it->value(), &meta, &user_value)) continue;
      if (meta.expire != 0 && meta.expire <= now) continue;  // expired: not sent
      migration::MigratedEntryView e;
      e.area = parts.area;
      e.key = std::string_view(parts.user_key.data(), parts.user_key.size());
      e.value = std::string_view(user_value.data(), user_value.size());
      e.version = meta.version;
      e.expire_at = meta.expire;
      e.created = meta.created;
      e.modified = meta.modified;
      if (!emit(e)) break;
    }
    ls = it->status();
  }
  db_->ReleaseSnapshot(snap);
  return FromLdb(ls, "scan bucket");
}

Status StorageManager::ReadEntry(uint32_t bucket, uint32_t area, std::string_view key,
                                 migration::EntryBatch* out) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  if (area >= kAreaCount || bucket > cmp::kMaxBucket || key.empty()) {
    return Status::InvalidArgument("bad key");
  }
  const std::string stored_key =
      cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area), key);
  Existing e;
  Status s = ReadExisting(stored_key, &e);
  if (!s.ok()) return s;
  migration::MigratedEntryView entry;
  entry.area = area;
  entry.key = key;
  if (!e.found) {
    entry.removed = true;
  } else {
    entry.value = e.value;
    entry.version = e.version;
    entry.expire_at = e.expire;
    entry.created = e.created;
    entry.modified = e.modified;
  }
  out->Add(entry);
  return Status::OK();
}

// A few ldb writes per batch rather than one per entry: a write of up to
// kMaxMigrateWriteBytes is one WAL record and one group commit. Not one write for
// the whole batch: a client write queued behind a 1 MiB group waits for all of it.
// Each entry's existing value is read under its stripe (for the per-area
// counters), but the stripe is not held until the entry is written: before the
// flip no client write reaches a bucket this node is receiving (it does not own
// it), and a source sends one bucket's batches one after another. A key seen twice
// in one batch (a catch-up batch may repeat a key) first writes what came before
// it, so its second read sees the first. A batch of fresh keys (the snapshot scan
// after the first batch's reclaim) skips the reads: nothing of the bucket is
// visible here but what this attempt sent, once per key. That was most of a
// batch's cost (a Get per key through every level).
Status StorageManager::ApplyMigrated(uint32_t bucket,
                                     std::span<const migration::MigratedEntryView> entries,
                                     bool fresh_keys) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  if (bucket > cmp::kMaxBucket) return Status::InvalidArgument("bucket out of range");
  size_t batch_bytes = 0;
  for (const migration::MigratedEntryView& e : entries) {
    if (e.area >= kAreaCount || e.key.empty()) {
      return Status::InvalidArgument("bad migrated key");
    }
    batch_bytes += e.key.size() + e.value.size();
  }
  if (fresh_keys && batch_bytes >= options_.migrate_ingest_min_bytes) {
    bool ingested = false;
    Status s = IngestMigrated(bucket, entries, &ingested);
    if (!s.ok() || ingested) return s;
  }
  const uint32_t now = NowSeconds();
  std::vector<AreaDelta> deltas;
  ldb::WriteBatch batch;
  bool batch_empty = true;
  std::unordered_set<std::string> in_batch;  // stored keys (no expire) in `batch`
  auto commit = [&]() -> Status {
    if (batch_empty) return Status::OK();
    ldb::WriteOptions wo;
    wo.sync = options_.sync_writes;
    // Migrated data yields to client writes: it waits (outside the write queue)
    // instead of filling the memtable while the previous one is still flushed,
    // which would stall every client write behind that flush.
    wo.low_priority = true;
    ldb::Status ls = db_->Write(wo, &batch);
    if (!ls.ok()) return FromLdb(ls, "write migrated entries");
    ApplyAreaDeltas(deltas);
    batch.Clear();
    batch_empty = true;
    deltas.clear();
    in_batch.clear();
    return Status::OK();
  };

  std::string stored_key;
  std::string stored_value;
  for (const migration::MigratedEntryView& e : entries) {
    const uint32_t area = e.area;
    const bool expired = e.expire_at != 0 && e.expire_at <= now;
    Existing old;  // fresh keys: nothing visible (old.found stays false)
    std::string probe;
    if (!fresh_keys) {
      probe = cmp::EncodeStoredKey(cmp::kNeverExpire, bucket, static_cast<uint16_t>(area),
                                   e.key);
      if (in_batch.count(probe) != 0) {
        Status s = commit();
        if (!s.ok()) return s;
      }
      std::lock_guard<std::mutex> l(StripeFor(area, e.key));
      Status s = ReadExisting(probe, &old);
      if (!s.ok()) return s;
    }
    const int64_t old_bytes =
        old.found ? static_cast<int64_t>(e.key.size() + old.value.size()) : 0;
    if (e.removed || expired) {
      if (!old.found) continue;
      batch.Delete(probe);
      AddAreaDelta(&deltas, area, -1, -old_bytes);
    } else {
      EncodeRecord(area, e.key, bucket, e.version, e.created, e.modified, e.expire_at, e.value,
                   &stored_key, &stored_value);
      batch.Put(stored_key, stored_value);
      AddAreaDelta(&deltas, area, old.found ? 0 : 1,
                   static_cast<int64_t>(e.key.size() + e.value.size()) - old_bytes);
    }
    batch_empty = false;
    if (!fresh_keys) in_batch.insert(std::move(probe));
    if (batch.ApproximateSize() >= kMaxMigrateWriteBytes) {
      Status s = commit();
      if (!s.ok()) return s;
    }
  }
  return commit();
}

// A scan batch as ldb tables. The source scans the bucket in stored-key order,
// so the batch is sorted and later batches of the attempt come after it; the
// first batch's reclaim is below the sequence number IngestSorted takes, so
// what an earlier attempt or owner left stays hidden. IngestSorted refuses
// (NotSupported) when the memtable holds a key of the batch's range (what an
// abandoned attempt's catch-up wrote, still hidden by the reclaim, would hide
// the tables below it); InvalidArgument when the keys are not in order (a
// source that scans differently). Either way *ingested stays false and the
// caller writes the batch instead.
Status StorageManager::IngestMigrated(uint32_t bucket,
                                      std::span<const migration::MigratedEntryView> entries,
                                      bool* ingested) {
  *ingested = false;
  const uint32_t now = NowSeconds();
  // The encoding below and ldb's table build run on a builder thread when there are
  // builders (StorageOptions::migrate_ingest_idle_builders), the rest here.
  migration::BulkThread* builder =
      ingest_builders_.empty() ? nullptr
                               : ingest_builders_[bucket % ingest_builders_.size()].get();
  auto run = [builder](const std::function<void()>& fn) {
    if (builder != nullptr) {
      builder->Run(fn);
    } else {
      fn();
    }
  };
  // Every stored key and value of the batch in one buffer (kept by the calling
  // thread, whose batches are alike): two heap blocks per entry freed again at once
  // were a good part of this call. First the offsets, then the slices, once the
  // buffer is done moving. Bound here: a thread_local named in the closure would be
  // the builder's, which serves other apply threads too.
  thread_local std::string thread_records;
  thread_local std::vector<size_t> thread_ends;  // key end, value end, key end, ...
  std::string& records = thread_records;
  std::vector<size_t>& ends = thread_ends;
  std::vector<AreaDelta> deltas;
  std::vector<std::pair<ldb::Slice, ldb::Slice>> sorted;
  run([&] {
    records.clear();
    ends.clear();
    cmp::ValueMeta meta;
    for (const migration::MigratedEntryView& e : entries) {
      if (e.removed || (e.expire_at != 0 && e.expire_at <= now)) continue;
      cmp::AppendStoredKey(&records, e.expire_at, bucket, static_cast<uint16_t>(e.area), e.key);
      ends.push_back(records.size());
      meta.version = e.version;
      meta.created = e.created;
      meta.modified = e.modified;
      meta.expire = e.expire_at;
      cmp::AppendStoredValue(&records, meta, e.value);
      ends.push_back(records.size());
      AddAreaDelta(&deltas, e.area, 1, static_cast<int64_t>(e.key.size() + e.value.size()));
    }
    sorted.reserve(ends.size() / 2);
    size_t start = 0;
    for (size_t i = 0; i + 1 < ends.size(); i += 2) {
      sorted.emplace_back(ldb::Slice(records.data() + start, ends[i] - start),
                          ldb::Slice(records.data() + ends[i], ends[i + 1] - ends[i]));
      start = ends[i + 1];
    }
  });
  ldb::IngestStats stats;
  ldb::IngestOptions io;
  if (builder != nullptr) io.build_runner = run;
  ldb::Status ls = db_->IngestSorted(sorted, &stats, io);
  if (ls.IsNotSupported() || ls.IsInvalidArgument()) {
    LOG_EVERY_N(INFO, 100) << "storage " << options_.data_dir << ": bucket " << bucket
                           << " batch written instead of ingested: " << ls.ToString();
    return Status::OK();
  }
  if (!ls.ok()) return FromLdb(ls, "ingest migrated entries");
  ApplyAreaDeltas(deltas);
  ingested_batches_.fetch_add(1, std::memory_order_relaxed);
  *ingested = true;
  return Status::OK();
}

void StorageManager::AddAreaDelta(std::vector<AreaDelta>* deltas, uint32_t area, int64_t keys,
                                  int64_t bytes) {
  for (AreaDelta& d : *deltas) {
    if (d.area == area) {
      d.keys += keys;
      d.bytes += bytes;
      return;
    }
  }
  deltas->push_back({area, keys, bytes});
}

void StorageManager::ApplyAreaDeltas(const std::vector<AreaDelta>& deltas) {
  for (const AreaDelta& d : deltas) {
    AreaCounters& ac = Area(d.area);
    ac.keys.fetch_add(d.keys, std::memory_order_relaxed);
    ac.bytes.fetch_add(d.bytes, std::memory_order_relaxed);
  }
}

uint64_t StorageManager::LargestFileNumber() {
  std::string v;
  if (!db_->GetProperty("ldb.largest-filenumber", &v)) return 0;
  return ParseU64(v);
}

Status StorageManager::ReclaimBucket(uint32_t bucket, migration::ReclaimTicket* ticket) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  if (bucket > cmp::kMaxBucket) return Status::InvalidArgument("bucket out of range");
  std::lock_guard<std::mutex> recount(recount_mu_);
  // The snapshot and the sequence the entry reclaims up to are taken with every
  // stripe held, so no write of ours lies between them.
  const ldb::Snapshot* snap = nullptr;
  uint64_t sequence = 0;
  {
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(stripe_mask_ + 1);
    for (size_t i = 0; i <= stripe_mask_; ++i) locks.emplace_back(stripes_[i]);
    snap = db_->GetSnapshot();
    std::string seq;
    db_->GetProperty("ldb.sequence", &seq);
    sequence = ParseU64(seq);
  }
  // Count what the entry is about to hide (before the Add: afterwards reads hide it).
  std::unordered_map<uint32_t, std::pair<int64_t, int64_t>> counted;
  ldb::ReadOptions ro;
  ro.snapshot = snap;
  ro.fill_cache = false;
  ldb::Status ls;
  {
    std::unique_ptr<ldb::Iterator> it = db_->NewIterator(ro);
    const cmp::StoredKeyRange range = cmp::BucketKeyRange(bucket);
    for (it->Seek(range.start); it->Valid(); it->Next()) {
      cmp::KeyParts parts;
      if (!cmp::DecodeStoredKey(it->key(), &parts)) continue;
      if (parts.bucket != bucket) break;
      const size_t value_bytes =
          it->value().size() > cmp::kValueMetaSize ? it->value().size() - cmp::kValueMetaSize : 0;
      auto& c = counted[parts.area];
      c.first += 1;
      c.second += static_cast<int64_t>(parts.user_key.size() + value_bytes);
    }
    ls = it->status();
  }
  db_->ReleaseSnapshot(snap);
  if (!ls.ok()) return FromLdb(ls, "scan bucket");
  ticket->bucket = bucket;
  if (counted.empty()) {
    // Nothing visible up to `sequence`, and whatever comes later an entry would not
    // hide either: skip the registry write (an fsync) and the cleanup. A destination
    // receiving a bucket it never held takes this path for every first batch.
    ticket->nothing_to_reclaim = true;
    return Status::OK();
  }

  cmp::GcEntry entry;
  entry.kind = cmp::GcKind::kBucket;
  entry.bucket = bucket;
  entry.sequence = sequence;
  entry.file_number = LargestFileNumber() + 1;
  entry.created = NowSeconds();
  ls = registry_->Add(entry);
  if (!ls.ok()) return FromLdb(ls, "GC registry add");
  for (const auto& [area, c] : counted) {
    Area(area).keys.fetch_sub(c.first, std::memory_order_relaxed);
    Area(area).bytes.fetch_sub(c.second, std::memory_order_relaxed);
  }
  ticket->sequence = sequence;
  // Read after the Add (comparators/README.md): files created from now on are clean.
  ticket->limit_filenumber = LargestFileNumber() + 1;
  LOG(INFO) << "storage " << options_.data_dir << ": bucket " << bucket
            << " reclaimed up to sequence " << sequence;
  return Status::OK();
}

Status StorageManager::CompactBucket(const migration::ReclaimTicket& ticket,
                                     migration::CleanupResult* result) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  if (ticket.bucket > cmp::kMaxBucket) return Status::InvalidArgument("bucket out of range");
  const cmp::StoredKeyRange range = cmp::BucketKeyRange(ticket.bucket);
  const ldb::Slice begin(range.start);
  ldb::Slice end;
  if (range.limit) end = *range.limit;
  ldb::SelfLevelCompactionStats stats;
  ldb::Status ls = db_->CompactRangeSelfLevel(ticket.limit_filenumber, &begin,
                                              range.limit ? &end : nullptr, &stats);
  if (!ls.ok()) return FromLdb(ls, "cleanup compaction");
  result->files_compacted = stats.files_compacted + stats.files_dropped_whole;
  result->bytes_read = stats.bytes_read;
  result->bytes_written = stats.bytes_written;
  result->bytes_freed = stats.bytes_dropped;
  return Status::OK();
}

Status StorageManager::RetireReclaim(const migration::ReclaimTicket& ticket) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  ldb::Status ls = registry_->Remove(cmp::GcKind::kBucket, ticket.bucket, 0, ticket.sequence);
  if (ls.IsNotFound()) return Status::OK();  // a newer reclaim of the bucket keeps its entry
  return FromLdb(ls, "GC registry remove");
}

std::vector<migration::ReclaimTicket> StorageManager::PendingReclaims() {
  std::vector<migration::ReclaimTicket> out;
  if (closed_.load(std::memory_order_acquire)) return out;
  const uint64_t limit = LargestFileNumber() + 1;
  for (const cmp::GcEntry& e : registry_->List()) {
    if (e.kind != cmp::GcKind::kBucket) continue;
    out.push_back(migration::ReclaimTicket{e.bucket, e.sequence, limit});
  }
  return out;
}

migration::ReclaimTicket StorageManager::CleanupTicket(uint32_t bucket) {
  migration::ReclaimTicket t;
  t.bucket = bucket;
  if (closed_.load(std::memory_order_acquire)) return t;
  t.limit_filenumber = LargestFileNumber() + 1;
  for (const cmp::GcEntry& e : registry_->List()) {
    if (e.kind == cmp::GcKind::kBucket && e.bucket == bucket) t.sequence = e.sequence;
  }
  return t;
}

Status StorageManager::SetCleanupPaused(bool paused) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("storage closed");
  ldb::Status ls = paused ? registry_->Pause() : registry_->Resume();
  return FromLdb(ls, "GC registry pause");
}

bool StorageManager::CleanupPaused() const { return registry_->paused(); }

}  // namespace tessera::ds
