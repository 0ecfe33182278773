// GcRegistry: in-memory map + append-only log. Log format:
// comparators/doc/gc_log_format.md.
#include "comparators/gc_registry.h"

#include <algorithm>
#include <utility>

#include "comparators/key_codec.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace tessera::comparators {

namespace {

// Record header: fixed32 payload length, fixed32 masked crc32c of payload.
constexpr size_t kRecordHeaderSize = 8;
// Payloads are tiny; anything longer is damage.
constexpr uint32_t kMaxPayloadSize = 256;

// Record types (first payload byte). Persisted: DO NOT RENUMBER.
enum RecordType : uint8_t {
  kAddRecord = 1,
  kRemoveRecord = 2,
  kPauseRecord = 3,
  kResumeRecord = 4,
};

constexpr size_t kAddPayloadSize = 1 + 1 + 4 + 2 + 8 + 8 + 8;
constexpr size_t kRemovePayloadSize = 1 + 1 + 4 + 2;

bool ValidKind(uint8_t kind) {
  return kind == static_cast<uint8_t>(GcKind::kBucket) ||
         kind == static_cast<uint8_t>(GcKind::kArea);
}

void PutFixed16(std::string* dst, uint16_t v) {
  dst->push_back(static_cast<char>(v & 0xff));
  dst->push_back(static_cast<char>(v >> 8));
}

uint16_t DecodeFixed16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) |
                               (static_cast<uint8_t>(p[1]) << 8));
}

std::string EncodeAdd(const GcEntry& e) {
  std::string p;
  p.push_back(static_cast<char>(kAddRecord));
  p.push_back(static_cast<char>(e.kind));
  ldb::PutFixed32(&p, e.bucket);
  PutFixed16(&p, e.area);
  ldb::PutFixed64(&p, e.sequence);
  ldb::PutFixed64(&p, e.file_number);
  ldb::PutFixed64(&p, e.created);
  return p;
}

std::string EncodeRemove(GcKind kind, uint32_t bucket, uint16_t area) {
  std::string p;
  p.push_back(static_cast<char>(kRemoveRecord));
  p.push_back(static_cast<char>(kind));
  ldb::PutFixed32(&p, bucket);
  PutFixed16(&p, area);
  return p;
}

std::string EncodeFlag(RecordType type) {
  return std::string(1, static_cast<char>(type));
}

void AppendFrame(std::string* dst, const std::string& payload) {
  ldb::PutFixed32(dst, static_cast<uint32_t>(payload.size()));
  ldb::PutFixed32(dst, ldb::crc32c::Mask(
                           ldb::crc32c::Value(payload.data(), payload.size())));
  dst->append(payload);
}

// Reads the frame at `pos`; false when it is incomplete or its checksum or
// length is bad.
bool ReadFrame(const ldb::Slice& contents, size_t pos, ldb::Slice* payload,
               size_t* next) {
  if (contents.size() - pos < kRecordHeaderSize) return false;
  const char* p = contents.data() + pos;
  const uint32_t length = ldb::DecodeFixed32(p);
  if (length == 0 || length > kMaxPayloadSize) return false;
  if (contents.size() - pos - kRecordHeaderSize < length) return false;
  const uint32_t expected = ldb::crc32c::Unmask(ldb::DecodeFixed32(p + 4));
  if (ldb::crc32c::Value(p + kRecordHeaderSize, length) != expected) {
    return false;
  }
  *payload = ldb::Slice(p + kRecordHeaderSize, length);
  *next = pos + kRecordHeaderSize + length;
  return true;
}

// Adds or merges `e` into `entries` (see GcRegistry::Add).
void MergeEntry(std::unordered_map<uint64_t, GcEntry>* entries, uint64_t key,
                const GcEntry& e) {
  auto [it, inserted] = entries->try_emplace(key, e);
  if (!inserted) {
    GcEntry& old = it->second;
    old.sequence = std::max(old.sequence, e.sequence);
    old.file_number = std::max(old.file_number, e.file_number);
    old.created = e.created;
  }
}

}  // namespace

uint64_t GcRegistry::MapKey(GcKind kind, uint32_t bucket, uint16_t area) {
  return (static_cast<uint64_t>(kind) << 40) |
         (static_cast<uint64_t>(bucket) << 16) | area;
}

GcRegistry::GcRegistry(ldb::Env* env, std::string dbname)
    : env_(env),
      dbname_(std::move(dbname)),
      fname_(env == nullptr ? std::string() : dbname_ + "/" + kFileName) {}

GcRegistry::~GcRegistry() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (log_ != nullptr) log_->Close().IgnoreError();
}

std::unique_ptr<GcRegistry> GcRegistry::NewVolatile() {
  return std::unique_ptr<GcRegistry>(new GcRegistry(nullptr, std::string()));
}

ldb::Status GcRegistry::Open(ldb::Env* env, const std::string& dbname,
                             std::unique_ptr<GcRegistry>* result) {
  result->reset();
  std::unique_ptr<GcRegistry> reg(new GcRegistry(env, dbname));
  // The DB usually exists already; a real failure shows up when writing.
  env->CreateDir(dbname).IgnoreError();

  ReplayState state;
  bool rewrite = true;
  if (env->FileExists(reg->fname_)) {
    std::string contents;
    ldb::Status s = ldb::ReadFileToString(env, reg->fname_, &contents);
    if (!s.ok()) return s;
    size_t valid_bytes = 0;
    size_t records = 0;
    s = Replay(contents, &state, &valid_bytes, &records);
    if (!s.ok()) return s;
    // Rewrite to cut a torn tail, or when dead records dominate.
    rewrite = valid_bytes < contents.size() ||
              records > 2 * (state.entries.size() + 1) + 64;
  }
  {
    std::lock_guard<std::mutex> lock(reg->write_mu_);
    ldb::Status s = rewrite ? reg->RewriteLog(state)
                            : env->NewAppendableFile(reg->fname_, &reg->log_);
    if (!s.ok()) return s;
  }
  {
    std::unique_lock<std::shared_mutex> lock(reg->map_mu_);
    reg->entries_ = std::move(state.entries);
    reg->RefreshSummaryLocked();
  }
  reg->paused_.store(state.paused, std::memory_order_release);
  *result = std::move(reg);
  return ldb::Status::OK();
}

ldb::Status GcRegistry::Replay(const ldb::Slice& contents, ReplayState* state,
                               size_t* valid_bytes, size_t* records) {
  *records = 0;
  size_t pos = 0;
  while (pos < contents.size()) {
    ldb::Slice payload;
    size_t next = 0;
    if (!ReadFrame(contents, pos, &payload, &next)) {
      // Damage at pos. It is a torn tail only if nothing valid follows.
      for (size_t p = pos + 1; p + kRecordHeaderSize < contents.size(); ++p) {
        ldb::Slice ignored;
        size_t ignored_next;
        if (ReadFrame(contents, p, &ignored, &ignored_next)) {
          return ldb::Status::Corruption(
              "gc log: damaged record followed by valid records at offset",
              std::to_string(pos));
        }
      }
      break;
    }
    const char* p = payload.data();
    const auto type = static_cast<uint8_t>(p[0]);
    bool ok = false;
    if (type == kAddRecord && payload.size() == kAddPayloadSize) {
      GcEntry e;
      const auto kind = static_cast<uint8_t>(p[1]);
      e.kind = static_cast<GcKind>(kind);
      e.bucket = ldb::DecodeFixed32(p + 2);
      e.area = DecodeFixed16(p + 6);
      e.sequence = ldb::DecodeFixed64(p + 8);
      e.file_number = ldb::DecodeFixed64(p + 16);
      e.created = ldb::DecodeFixed64(p + 24);
      ok = ValidKind(kind) && e.bucket <= kMaxBucket &&
           (e.kind == GcKind::kArea || e.area == 0);
      if (ok) MergeEntry(&state->entries, MapKey(e.kind, e.bucket, e.area), e);
    } else if (type == kRemoveRecord && payload.size() == kRemovePayloadSize) {
      const auto kind = static_cast<uint8_t>(p[1]);
      const uint32_t bucket = ldb::DecodeFixed32(p + 2);
      const uint16_t area = DecodeFixed16(p + 6);
      ok = ValidKind(kind) && bucket <= kMaxBucket;
      if (ok)
        state->entries.erase(MapKey(static_cast<GcKind>(kind), bucket, area));
    } else if ((type == kPauseRecord || type == kResumeRecord) &&
               payload.size() == 1) {
      state->paused = type == kPauseRecord;
      ok = true;
    }
    if (!ok) {
      return ldb::Status::Corruption("gc log: bad record at offset",
                                     std::to_string(pos));
    }
    ++*records;
    pos = next;
  }
  *valid_bytes = pos;
  return ldb::Status::OK();
}

ldb::Status GcRegistry::RewriteLog(const ReplayState& state) {
  std::vector<const GcEntry*> sorted;
  sorted.reserve(state.entries.size());
  for (const auto& [key, e] : state.entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const GcEntry* a, const GcEntry* b) {
              return MapKey(a->kind, a->bucket, a->area) <
                     MapKey(b->kind, b->bucket, b->area);
            });
  std::string contents;
  for (const GcEntry* e : sorted) AppendFrame(&contents, EncodeAdd(*e));
  if (state.paused) AppendFrame(&contents, EncodeFlag(kPauseRecord));

  if (log_ != nullptr) {
    log_->Close().IgnoreError();
    log_.reset();
  }
  const std::string tmp = fname_ + ".tmp";
  ldb::Status s = ldb::WriteStringToFileSync(env_, contents, tmp);
  if (s.ok()) s = env_->RenameFile(tmp, fname_);
  if (s.ok()) s = env_->SyncDir(dbname_);
  if (!s.ok()) {
    env_->RemoveFile(tmp).IgnoreError();
    return s;
  }
  return env_->NewAppendableFile(fname_, &log_);
}

ldb::Status GcRegistry::AppendRecord(const std::string& payload) {
  if (!log_error_.ok()) return log_error_;
  if (env_ == nullptr) return ldb::Status::OK();
  std::string frame;
  AppendFrame(&frame, payload);
  ldb::Status s = log_->Append(frame);
  if (s.ok()) s = log_->Sync();
  if (!s.ok()) log_error_ = s;
  return s;
}

void GcRegistry::RefreshSummaryLocked() {
  ldb::SequenceNumber max_seq = 0;
  for (const auto& [key, e] : entries_) max_seq = std::max(max_seq, e.sequence);
  // max first: a reader that sees has_entries_ from this update sees max_seq.
  max_sequence_.store(max_seq, std::memory_order_release);
  has_entries_.store(!entries_.empty(), std::memory_order_release);
}

ldb::Status GcRegistry::Add(const GcEntry& entry) {
  if (!ValidKind(static_cast<uint8_t>(entry.kind))) {
    return ldb::Status::InvalidArgument("gc registry: unknown entry kind");
  }
  if (entry.bucket > kMaxBucket) {
    return ldb::Status::InvalidArgument("gc registry: bucket out of range");
  }
  GcEntry e = entry;
  if (e.kind == GcKind::kBucket) e.area = 0;

  std::lock_guard<std::mutex> lock(write_mu_);
  ldb::Status s = AppendRecord(EncodeAdd(e));
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> map_lock(map_mu_);
  MergeEntry(&entries_, MapKey(e.kind, e.bucket, e.area), e);
  RefreshSummaryLocked();
  return ldb::Status::OK();
}

ldb::Status GcRegistry::Remove(
    GcKind kind, uint32_t bucket, uint16_t area,
    std::optional<ldb::SequenceNumber> only_if_sequence) {
  if (kind == GcKind::kBucket) area = 0;
  const uint64_t key = MapKey(kind, bucket, area);

  std::lock_guard<std::mutex> lock(write_mu_);
  {
    // Only mutators change entries_, and they hold write_mu_.
    std::shared_lock<std::shared_mutex> map_lock(map_mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      return ldb::Status::NotFound("gc registry: no such entry");
    }
    if (only_if_sequence.has_value() &&
        it->second.sequence != *only_if_sequence) {
      return ldb::Status::NotFound("gc registry: entry has a newer sequence");
    }
  }
  ldb::Status s = AppendRecord(EncodeRemove(kind, bucket, area));
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> map_lock(map_mu_);
  entries_.erase(key);
  RefreshSummaryLocked();
  return ldb::Status::OK();
}

ldb::Status GcRegistry::Pause() {
  std::lock_guard<std::mutex> lock(write_mu_);
  ldb::Status s = AppendRecord(EncodeFlag(kPauseRecord));
  if (s.ok()) paused_.store(true, std::memory_order_release);
  return s;
}

ldb::Status GcRegistry::Resume() {
  std::lock_guard<std::mutex> lock(write_mu_);
  ldb::Status s = AppendRecord(EncodeFlag(kResumeRecord));
  if (s.ok()) paused_.store(false, std::memory_order_release);
  return s;
}

bool GcRegistry::Reclaims(uint32_t bucket, uint16_t area,
                          ldb::SequenceNumber seq) const {
  if (!has_entries_.load(std::memory_order_acquire)) return false;
  if (seq > max_sequence_.load(std::memory_order_acquire)) return false;
  std::shared_lock<std::shared_mutex> lock(map_mu_);
  auto it = entries_.find(MapKey(GcKind::kBucket, bucket, 0));
  if (it != entries_.end() && seq <= it->second.sequence) return true;
  it = entries_.find(MapKey(GcKind::kArea, bucket, area));
  return it != entries_.end() && seq <= it->second.sequence;
}

bool GcRegistry::ReclaimsBucket(uint32_t bucket,
                                ldb::SequenceNumber seq) const {
  if (!has_entries_.load(std::memory_order_acquire)) return false;
  if (seq > max_sequence_.load(std::memory_order_acquire)) return false;
  std::shared_lock<std::shared_mutex> lock(map_mu_);
  auto it = entries_.find(MapKey(GcKind::kBucket, bucket, 0));
  return it != entries_.end() && seq <= it->second.sequence;
}

std::vector<GcEntry> GcRegistry::List() const {
  std::vector<GcEntry> out;
  {
    std::shared_lock<std::shared_mutex> lock(map_mu_);
    out.reserve(entries_.size());
    for (const auto& [key, e] : entries_) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const GcEntry& a, const GcEntry& b) {
    return MapKey(a.kind, a.bucket, a.area) < MapKey(b.kind, b.bucket, b.area);
  });
  return out;
}

size_t GcRegistry::size() const {
  std::shared_lock<std::shared_mutex> lock(map_mu_);
  return entries_.size();
}

}  // namespace tessera::comparators
