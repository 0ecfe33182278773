#include "tools/ldbtool/tool_db.h"

#include <charconv>
#include <sys/stat.h>

#include "comparators/expire_bloom_policy.h"
#include "comparators/gc_registry.h"
#include "db/filename.h"
#include "ldb/cache.h"
#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/filter_policy.h"
#include "ldb/iterator.h"
#include "ldb/options.h"

namespace tessera::ldbtool {

namespace cmp = tessera::comparators;

namespace {

thread_local bool t_reveal = false;

// The data server's defaults (dataserver/main.cc, StorageOptions).
constexpr size_t kWriteBufferBytes = 16u << 20;
constexpr size_t kBlockCacheBytes = 64u << 20;
constexpr int kBloomBitsPerKey = 10;
constexpr int kMaxOpenFiles = 20000;

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ParseU64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

// ---------------------------------------------------------------- ToolComparator

int ToolComparator::Compare(const ldb::Slice& a, const ldb::Slice& b) const {
  return inner_.Compare(a, b);
}
const char* ToolComparator::Name() const { return inner_.Name(); }
void ToolComparator::FindShortestSeparator(std::string* start,
                                           const ldb::Slice& limit) const {
  inner_.FindShortestSeparator(start, limit);
}
void ToolComparator::FindShortSuccessor(std::string* key) const {
  inner_.FindShortSuccessor(key);
}
bool ToolComparator::ShouldDrop(const ldb::Slice& user_key, ldb::SequenceNumber seq,
                                uint64_t now_seconds) const {
  return !t_reveal && inner_.ShouldDrop(user_key, seq, now_seconds);
}
bool ToolComparator::ShouldDropMaybe(const ldb::Slice& user_key, ldb::SequenceNumber seq,
                                     uint64_t now_seconds) const {
  return !t_reveal && inner_.ShouldDropMaybe(user_key, seq, now_seconds);
}
bool ToolComparator::ShouldStopBefore(const ldb::Slice& start_user_key,
                                      const ldb::Slice& user_key) const {
  return inner_.ShouldStopBefore(start_user_key, user_key);
}
bool ToolComparator::ShouldDropRange(const ldb::Slice& smallest_user_key,
                                     const ldb::Slice& largest_user_key,
                                     ldb::SequenceNumber max_seq) const {
  return !t_reveal && inner_.ShouldDropRange(smallest_user_key, largest_user_key, max_seq);
}

RevealScope::RevealScope() : previous_(t_reveal) { t_reveal = true; }
RevealScope::~RevealScope() { t_reveal = previous_; }

// ---------------------------------------------------------------- ToolDb

ToolDb::~ToolDb() { Close(); }

Status ToolDb::Open(const std::string& dir, std::unique_ptr<ToolDb>* out) {
  if (dir.empty()) return Status::InvalidArgument("--db is required");
  if (!IsDirectory(dir)) return Status::NotFound(dir + " is not a directory");
  std::unique_ptr<ToolDb> t(new ToolDb(dir));
  t->env_ = ldb::Env::Default();
  if (!t->env_->FileExists(ldb::CurrentFileName(dir))) {
    return Status::InvalidArgument(dir + " is not an ldb DB (no CURRENT file)");
  }

  // Probe the lock before anything touches the directory (the GC registry may
  // rewrite GCLOG when it replays it): a running data server holds it.
  ldb::FileLock* lock = nullptr;
  ldb::Status ls = t->env_->LockFile(ldb::LockFileName(dir), &lock);
  if (!ls.ok()) {
    if (ls.ToString().find("already held") != std::string::npos) {
      return Status::Unavailable(dir + " is in use (is the data server running?)");
    }
    return Status::Internal("cannot lock " + dir + ": " + ls.ToString());
  }
  ls = t->env_->UnlockFile(lock);
  if (!ls.ok()) return Status::Internal("cannot unlock " + dir + ": " + ls.ToString());

  ls = cmp::GcRegistry::Open(t->env_, dir, &t->registry_);
  if (!ls.ok()) return Status::Internal("cannot open the GC registry of " + dir + ": " +
                                        ls.ToString());
  t->comparator_ = std::make_unique<ToolComparator>(t->registry_.get());
  t->filter_ = cmp::NewExpireBloomFilterPolicy(kBloomBitsPerKey);
  t->cache_ = ldb::NewLRUCache(kBlockCacheBytes);

  ldb::Options o;
  o.env = t->env_;
  o.create_if_missing = false;
  o.comparator = t->comparator_.get();
  o.filter_policy = t->filter_.get();
  o.block_cache = t->cache_.get();
  o.write_buffer_size = kWriteBufferBytes;
  o.max_open_files = kMaxOpenFiles;
  o.compression = ldb::kSnappyCompression;
  ls = ldb::DB::Open(o, dir, &t->db_);
  if (!ls.ok()) {
    if (ls.ToString().find("already held") != std::string::npos) {
      return Status::Unavailable(dir + " is in use (is the data server running?)");
    }
    return Status::Internal("cannot open " + dir + ": " + ls.ToString());
  }
  *out = std::move(t);
  return Status::OK();
}

uint32_t ToolDb::NowSeconds() const { return static_cast<uint32_t>(env_->NowSeconds()); }

std::string ToolDb::Property(const std::string& name) const {
  std::string value;
  if (db_ == nullptr || !db_->GetProperty(name, &value)) return "";
  return value;
}

Status ToolDb::NumProperty(const std::string& name, uint64_t* value) const {
  if (!ParseU64(Property(name), value)) {
    return Status::Internal("ldb property " + name + " is not available");
  }
  return Status::OK();
}

Status ToolDb::ListTables(std::vector<TableFile>* tables) const {
  tables->clear();
  const std::string text = Property("ldb.sstables");
  int level = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.starts_with("--- level ")) {
      line.remove_prefix(10);
      const size_t sp = line.find(' ');
      uint64_t l = 0;
      if (!ParseU64(line.substr(0, sp), &l)) {
        return Status::Internal("unexpected ldb.sstables line");
      }
      level = static_cast<int>(l);
      continue;
    }
    // " <number>:<size>[<smallest> .. <largest>]"
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    const size_t bracket = line.find('[');
    TableFile f;
    f.level = level;
    if (level < 0 || colon == std::string_view::npos || bracket == std::string_view::npos ||
        bracket < colon || !ParseU64(line.substr(0, colon), &f.number) ||
        !ParseU64(line.substr(colon + 1, bracket - colon - 1), &f.bytes)) {
      return Status::Internal("unexpected ldb.sstables line");
    }
    tables->push_back(f);
  }
  return Status::OK();
}

Status ToolDb::DiskBytes(uint64_t* bytes) const {
  std::vector<TableFile> tables;
  Status s = ListTables(&tables);
  if (!s.ok()) return s;
  *bytes = 0;
  for (const TableFile& f : tables) *bytes += f.bytes;
  return Status::OK();
}

Status ToolDb::Scan(const cmp::StoredKeyRange* range, bool reveal, const ScanFn& fn) const {
  const bool outer = t_reveal;
  t_reveal = reveal;  // the iterator's reads; fn runs with the real hooks
  ldb::ReadOptions ro;
  ro.fill_cache = false;
  ro.verify_checksums = true;
  std::unique_ptr<ldb::Iterator> it = db_->NewIterator(ro);
  if (range != nullptr) {
    it->Seek(range->start);
  } else {
    it->SeekToFirst();
  }
  for (; it->Valid(); it->Next()) {
    if (range != nullptr && range->limit && comparator_->Compare(it->key(), *range->limit) >= 0) {
      break;
    }
    t_reveal = false;
    const bool more = fn(it->key(), it->value());
    t_reveal = reveal;
    if (!more) break;
  }
  const ldb::Status ls = it->status();
  it.reset();
  t_reveal = outer;
  if (!ls.ok()) return Status::Internal("reading " + dir_ + " failed: " + ls.ToString());
  return Status::OK();
}

void ToolDb::Close() {
  db_.reset();  // waits for background work
}

}  // namespace tessera::ldbtool
