// Versions and the VersionSet: reads through a Version, building Versions
// from edits, the MANIFEST and recovery. Compaction picking lives in
// version_set_compaction.cc.
#include "db/version_set.h"

#include <algorithm>
#include <cstdio>

#include "db/filename.h"
#include "db/log_reader.h"
#include "db/log_writer.h"
#include "db/read_hooks.h"
#include "db/table_cache.h"
#include "ldb/env.h"
#include "table/merger.h"
#include "table/two_level_iterator.h"
#include "util/coding.h"
#include "util/logging.h"

namespace ldb {

namespace {

void RefFile(FileMetaData* f) { ++f->refs; }

void UnrefFile(FileMetaData* f) {
  assert(f->refs > 0);
  if (--f->refs == 0) delete f;
}

// Files with fewer allowed seeks than this are never seek-compacted early.
constexpr int kMinAllowedSeeks = 100;
// One seek costs about as much as compacting 16 KiB (see LevelDB's
// reasoning: 1 seek ~ 10 ms ~ 40 MB/s * 10 ms / 25 bytes rewritten per byte).
constexpr uint64_t kBytesPerSeek = 16 * 1024;

bool AfterFile(const Comparator* ucmp, const Slice* user_key,
               const FileMetaData* f) {
  // A null user_key occurs before all keys and is therefore never after f.
  return user_key != nullptr &&
         ucmp->Compare(*user_key, f->largest.user_key()) > 0;
}

bool BeforeFile(const Comparator* ucmp, const Slice* user_key,
                const FileMetaData* f) {
  // A null user_key occurs after all keys and is therefore never before f.
  return user_key != nullptr &&
         ucmp->Compare(*user_key, f->smallest.user_key()) < 0;
}

}  // namespace

int FindFile(const InternalKeyComparator& icmp,
             const std::vector<FileMetaData*>& files, const Slice& key) {
  size_t left = 0;
  size_t right = files.size();
  while (left < right) {
    const size_t mid = left + (right - left) / 2;
    if (icmp.Compare(files[mid]->largest.Encode(), key) < 0) {
      left = mid + 1;  // every file at or before mid ends before key
    } else {
      right = mid;
    }
  }
  return static_cast<int>(right);
}

bool SomeFileOverlapsRange(const InternalKeyComparator& icmp,
                           bool disjoint_sorted_files,
                           const std::vector<FileMetaData*>& files,
                           const Slice* smallest_user_key,
                           const Slice* largest_user_key) {
  const Comparator* ucmp = icmp.user_comparator();
  if (!disjoint_sorted_files) {
    for (const FileMetaData* f : files) {
      if (!AfterFile(ucmp, smallest_user_key, f) &&
          !BeforeFile(ucmp, largest_user_key, f)) {
        return true;
      }
    }
    return false;
  }
  size_t index = 0;
  if (smallest_user_key != nullptr) {
    // The earliest possible internal key for smallest_user_key.
    InternalKey small(*smallest_user_key, kMaxSequenceNumber,
                      kValueTypeForSeek);
    index = static_cast<size_t>(FindFile(icmp, files, small.Encode()));
  }
  if (index >= files.size()) return false;  // range starts after all files
  return !BeforeFile(ucmp, largest_user_key, files[index]);
}

int64_t TotalFileSize(const std::vector<FileMetaData*>& files) {
  int64_t sum = 0;
  for (const FileMetaData* f : files) sum += static_cast<int64_t>(f->file_size);
  return sum;
}

// ---------------------------------------------------------------- Version

namespace {

// Iterates over the files of one level (sorted, disjoint): key() is a file's
// largest key, value() its number and size (two fixed64s). The Version must
// outlive it. Thread-compatible.
class LevelFileNumIterator final : public Iterator {
 public:
  LevelFileNumIterator(const InternalKeyComparator* icmp,
                       const std::vector<FileMetaData*>* files)
      : icmp_(icmp), files_(files), index_(files->size()) {}

  bool Valid() const override { return index_ < files_->size(); }
  void Seek(const Slice& target) override {
    index_ = static_cast<size_t>(FindFile(*icmp_, *files_, target));
  }
  void SeekToFirst() override { index_ = 0; }
  void SeekToLast() override {
    index_ = files_->empty() ? 0 : files_->size() - 1;
  }
  void Next() override {
    assert(Valid());
    ++index_;
  }
  void Prev() override {
    assert(Valid());
    index_ = index_ == 0 ? files_->size() : index_ - 1;
  }
  Slice key() const override {
    assert(Valid());
    return (*files_)[index_]->largest.Encode();
  }
  Slice value() const override {
    assert(Valid());
    EncodeFixed64(value_buf_, (*files_)[index_]->number);
    EncodeFixed64(value_buf_ + 8, (*files_)[index_]->file_size);
    return Slice(value_buf_, sizeof(value_buf_));
  }
  Status status() const override { return Status::OK(); }

 private:
  const InternalKeyComparator* const icmp_;
  const std::vector<FileMetaData*>* const files_;
  size_t index_;
  mutable char value_buf_[16];
};

}  // namespace

std::unique_ptr<Iterator> NewConcatenatingIterator(
    const InternalKeyComparator* icmp, TableCache* table_cache,
    const std::vector<FileMetaData*>* files, const ReadOptions& options) {
  BlockFunction open_file = [table_cache](const ReadOptions& opts,
                                          const Slice& file_value) {
    if (file_value.size() != 16) {
      return NewErrorIterator(
          Status::Corruption("file reader invoked with unexpected value"));
    }
    return table_cache->NewIterator(opts, DecodeFixed64(file_value.data()),
                                    DecodeFixed64(file_value.data() + 8));
  };
  return NewTwoLevelIterator(
      std::make_unique<LevelFileNumIterator>(icmp, files), std::move(open_file),
      options);
}

Version::Version(VersionSet* vset) : vset_(vset), next_(this), prev_(this) {}

Version::~Version() {
  assert(refs_ == 0);
  // Unlink from the VersionSet's list.
  prev_->next_ = next_;
  next_->prev_ = prev_;
  for (auto& level_files : files_) {
    for (FileMetaData* f : level_files) UnrefFile(f);
  }
}

void Version::Ref() { ++refs_; }

void Version::Unref() {
  assert(this != &vset_->dummy_versions_);
  assert(refs_ >= 1);
  if (--refs_ == 0) delete this;
}

void Version::AddIterators(const ReadOptions& options,
                           std::vector<std::unique_ptr<Iterator>>* iters) {
  // Level-0 files may overlap each other: merge them one by one.
  for (const FileMetaData* f : files_[0]) {
    iters->push_back(
        vset_->table_cache_->NewIterator(options, f->number, f->file_size));
  }
  // Deeper levels are disjoint: one lazily-opening iterator per level.
  for (int level = 1; level < config::kNumLevels; ++level) {
    if (!files_[level].empty()) {
      iters->push_back(NewConcatenatingIterator(
          vset_->icmp_, vset_->table_cache_, &files_[level], options));
    }
  }
}

template <typename Func>
void Version::ForEachOverlapping(const Slice& user_key,
                                 const Slice& internal_key, Func&& func) {
  const Comparator* ucmp = vset_->icmp_->user_comparator();

  // Level 0: every file whose range holds the key, newest first. (Collected
  // on the stack unless level 0 is unusually deep: this runs for every Get.)
  constexpr size_t kStackFiles = 64;
  FileMetaData* stack_files[kStackFiles];
  std::vector<FileMetaData*> heap_files;
  FileMetaData** level0 = stack_files;
  if (files_[0].size() > kStackFiles) {
    heap_files.resize(files_[0].size());
    level0 = heap_files.data();
  }
  size_t n = 0;
  for (FileMetaData* f : files_[0]) {
    if (ucmp->Compare(user_key, f->smallest.user_key()) >= 0 &&
        ucmp->Compare(user_key, f->largest.user_key()) <= 0) {
      level0[n++] = f;
    }
  }
  std::sort(level0, level0 + n,
            [](const FileMetaData* a, const FileMetaData* b) {
              return a->number > b->number;
            });
  for (size_t i = 0; i < n; ++i) {
    if (!func(0, level0[i])) return;
  }

  // Deeper levels: at most one file each.
  for (int level = 1; level < config::kNumLevels; ++level) {
    const std::vector<FileMetaData*>& files = files_[level];
    if (files.empty()) continue;
    const size_t index =
        static_cast<size_t>(FindFile(*vset_->icmp_, files, internal_key));
    if (index < files.size()) {
      FileMetaData* f = files[index];
      if (ucmp->Compare(user_key, f->smallest.user_key()) >= 0) {
        if (!func(level, f)) return;
      }
    }
  }
}

Status Version::Get(const ReadOptions& options, const LookupKey& key,
                    std::string* value, GetStats* stats) {
  return Get(options, key, vset_->env_->NowSeconds(), value, stats);
}

Status Version::Get(const ReadOptions& options, const LookupKey& key,
                    uint64_t now_seconds, std::string* value, GetStats* stats) {
  stats->seek_file = nullptr;
  stats->seek_file_level = -1;

  const Comparator* ucmp = vset_->icmp_->user_comparator();
  const Slice ikey = key.internal_key();
  const Slice user_key = key.user_key();

  enum class Outcome { kNotFound, kFound, kDeleted, kCorrupt };
  Outcome outcome = Outcome::kNotFound;
  Status status;
  FileMetaData* last_file_read = nullptr;
  int last_file_read_level = -1;

  // The newest entry of the key a table holds at or below the lookup
  // sequence decides (files are probed newest first): found, or hidden by a
  // deletion or by the comparator's hooks (reclaimed / expired, judged on the
  // key as stored, e.g. its expire bytes). A hidden key is NotFound and no
  // older file is probed, so an older version never resurfaces.
  auto handle_result = [&](const Slice& found_key, const Slice& found_value) {
    ParsedInternalKey parsed;
    if (!ParseInternalKey(found_key, &parsed)) {
      outcome = Outcome::kCorrupt;
      return;
    }
    if (ucmp->Compare(parsed.user_key, user_key) != 0) return;  // not here
    if (!EntryHidesKey(ucmp, parsed.type, parsed.user_key, parsed.sequence,
                       now_seconds)) {
      outcome = Outcome::kFound;
      value->assign(found_value.data(), found_value.size());
    } else {
      outcome = Outcome::kDeleted;
    }
  };

  ForEachOverlapping(user_key, ikey, [&](int level, FileMetaData* f) {
    if (stats->seek_file == nullptr && last_file_read != nullptr) {
      // More than one file probed: the first one is charged a seek.
      stats->seek_file = last_file_read;
      stats->seek_file_level = last_file_read_level;
    }
    last_file_read = f;
    last_file_read_level = level;

    status = vset_->table_cache_->Get(options, f->number, f->file_size, ikey,
                                      handle_result);
    if (!status.ok()) return false;
    switch (outcome) {
      case Outcome::kNotFound:
        return true;  // keep looking in older files
      case Outcome::kFound:
      case Outcome::kDeleted:
        return false;
      case Outcome::kCorrupt:
        status =
            Status::Corruption("corrupted key for ", EscapeString(user_key));
        return false;
    }
    return false;
  });

  if (!status.ok()) return status;
  if (outcome == Outcome::kFound) return Status::OK();
  return Status::NotFound(Slice());
}

bool Version::UpdateStats(const GetStats& stats) {
  FileMetaData* f = stats.seek_file;
  if (f == nullptr) return false;
  --f->allowed_seeks;
  if (f->allowed_seeks <= 0 && file_to_compact_ == nullptr) {
    file_to_compact_ = f;
    file_to_compact_level_ = stats.seek_file_level;
    return true;
  }
  return false;
}

bool Version::OverlapInLevel(int level, const Slice* smallest_user_key,
                             const Slice* largest_user_key) {
  return SomeFileOverlapsRange(*vset_->icmp_, level > 0, files_[level],
                               smallest_user_key, largest_user_key);
}

int Version::PickLevelForMemTableOutput(const Slice& smallest_user_key,
                                        const Slice& largest_user_key) {
  int level = 0;
  if (OverlapInLevel(0, &smallest_user_key, &largest_user_key)) return 0;
  // Push to the next level while it overlaps nothing there and the
  // grandparent overlap stays small (a later compaction of the file would
  // otherwise be expensive).
  const InternalKey start(smallest_user_key, kMaxSequenceNumber,
                          kValueTypeForSeek);
  const InternalKey limit(largest_user_key, 0, static_cast<ValueType>(0));
  const int64_t max_grandparent_overlap =
      10 * static_cast<int64_t>(vset_->options_->max_file_size);
  std::vector<FileMetaData*> overlaps;
  while (level < config::kMaxMemCompactLevel) {
    if (OverlapInLevel(level + 1, &smallest_user_key, &largest_user_key)) {
      break;
    }
    if (level + 2 < config::kNumLevels) {
      GetOverlappingInputs(level + 2, &start, &limit, &overlaps);
      if (TotalFileSize(overlaps) > max_grandparent_overlap) break;
    }
    ++level;
  }
  return level;
}

void Version::GetOverlappingInputs(int level, const InternalKey* begin,
                                   const InternalKey* end,
                                   std::vector<FileMetaData*>* inputs) {
  assert(level >= 0 && level < config::kNumLevels);
  inputs->clear();
  const Comparator* ucmp = vset_->icmp_->user_comparator();
  std::string user_begin;
  std::string user_end;
  bool has_begin = begin != nullptr;
  bool has_end = end != nullptr;
  if (has_begin) user_begin = begin->user_key().ToString();
  if (has_end) user_end = end->user_key().ToString();

  const std::vector<FileMetaData*>& files = files_[level];
  for (size_t i = 0; i < files.size();) {
    FileMetaData* f = files[i++];
    const Slice file_start = f->smallest.user_key();
    const Slice file_limit = f->largest.user_key();
    if (has_begin && ucmp->Compare(file_limit, user_begin) < 0) continue;
    if (has_end && ucmp->Compare(file_start, user_end) > 0) continue;
    inputs->push_back(f);
    if (level == 0) {
      // Level-0 files overlap each other: if f widens the range, start over
      // with the wider range.
      if (has_begin && ucmp->Compare(file_start, user_begin) < 0) {
        user_begin = file_start.ToString();
        inputs->clear();
        i = 0;
      } else if (has_end && ucmp->Compare(file_limit, user_end) > 0) {
        user_end = file_limit.ToString();
        inputs->clear();
        i = 0;
      }
    }
  }
}

std::string Version::DebugString() const {
  std::string r;
  for (int level = 0; level < config::kNumLevels; ++level) {
    r.append("--- level ");
    AppendNumberTo(&r, level);
    r.append(" ---\n");
    for (const FileMetaData* f : files_[level]) {
      r.push_back(' ');
      AppendNumberTo(&r, f->number);
      r.push_back(':');
      AppendNumberTo(&r, f->file_size);
      r.append("[");
      r.append(f->smallest.DebugString());
      r.append(" .. ");
      r.append(f->largest.DebugString());
      r.append("]\n");
    }
  }
  return r;
}

// ---------------------------------------------------------------- Builder

// Applies a sequence of edits to a base Version without building the
// intermediate Versions. Requires the DB mutex (touches compact pointers).
class VersionSet::Builder {
 public:
  Builder(VersionSet* vset, Version* base) : vset_(vset), base_(base) {
    base_->Ref();
  }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  ~Builder() {
    for (auto& level : levels_) {
      for (FileMetaData* f : level.added_files) UnrefFile(f);
    }
    base_->Unref();
  }

  void Apply(const VersionEdit& edit) {
    for (const auto& [level, key] : edit.compact_pointers()) {
      vset_->compact_pointer_[level] = key.Encode().ToString();
    }
    for (const auto& [level, number] : edit.deleted_files()) {
      levels_[level].deleted_files.insert(number);
    }
    for (const auto& [level, meta] : edit.new_files()) {
      auto* f = new FileMetaData(meta);
      f->refs = 1;
      // Allow one seek per kBytesPerSeek of file before a seek compaction.
      const uint64_t seeks = f->file_size / kBytesPerSeek;
      f->allowed_seeks =
          seeks < static_cast<uint64_t>(kMinAllowedSeeks)
              ? kMinAllowedSeeks
              : static_cast<int>(std::min<uint64_t>(seeks, uint64_t{1} << 30));
      levels_[level].deleted_files.erase(f->number);
      levels_[level].added_files.push_back(f);
    }
  }

  // Fills v (fresh, empty) with base + edits. Corruption when the result
  // breaks the level invariants (files overlapping in a level >= 1).
  Status SaveTo(Version* v) {
    const InternalKeyComparator& icmp = *vset_->icmp_;
    auto by_smallest = [&icmp](const FileMetaData* a, const FileMetaData* b) {
      const int r = icmp.Compare(a->smallest, b->smallest);
      return r != 0 ? r < 0 : a->number < b->number;
    };
    for (int level = 0; level < config::kNumLevels; ++level) {
      const LevelState& state = levels_[level];
      std::vector<FileMetaData*>& out = v->files_[level];
      out.reserve(base_->files_[level].size() + state.added_files.size());
      for (FileMetaData* f : base_->files_[level]) {
        if (state.deleted_files.count(f->number) == 0) out.push_back(f);
      }
      for (FileMetaData* f : state.added_files) {
        if (state.deleted_files.count(f->number) == 0) out.push_back(f);
      }
      std::sort(out.begin(), out.end(), by_smallest);
      for (FileMetaData* f : out) RefFile(f);
      if (level > 0) {
        for (size_t i = 1; i < out.size(); ++i) {
          const Slice prev_largest = out[i - 1]->largest.user_key();
          const Slice this_smallest = out[i]->smallest.user_key();
          if (icmp.user_comparator()->Compare(prev_largest, this_smallest) >=
              0) {
            return Status::Corruption("overlapping files in level " +
                                      NumberToString(level) + ": " +
                                      NumberToString(out[i - 1]->number) +
                                      " and " + NumberToString(out[i]->number));
          }
        }
      }
    }
    return Status::OK();
  }

 private:
  struct LevelState {
    std::set<uint64_t> deleted_files;
    std::vector<FileMetaData*> added_files;  // each holds one ref
  };

  VersionSet* const vset_;
  Version* const base_;
  LevelState levels_[config::kNumLevels];
};

// ---------------------------------------------------------------- VersionSet

VersionSet::VersionSet(const std::string& dbname, const Options* options,
                       TableCache* table_cache,
                       const InternalKeyComparator* icmp)
    : env_(options->env),
      dbname_(dbname),
      options_(options),
      table_cache_(table_cache),
      icmp_(icmp),
      dummy_versions_(this) {
  AppendVersion(new Version(this));
}

VersionSet::~VersionSet() {
  current_->Unref();
  assert(dummy_versions_.next_ == &dummy_versions_);  // all versions released
  descriptor_log_.reset();
  descriptor_file_.reset();
}

void VersionSet::AppendVersion(Version* v) {
  assert(v->refs_ == 0);
  assert(v != current_);
  if (current_ != nullptr) current_->Unref();
  current_ = v;
  v->Ref();
  // Append to the end of the circular list.
  v->prev_ = dummy_versions_.prev_;
  v->next_ = &dummy_versions_;
  v->prev_->next_ = v;
  v->next_->prev_ = v;
}

void VersionSet::SetLastSequence(SequenceNumber s) {
  assert(s >= last_sequence_);
  last_sequence_ = s;
}

Status VersionSet::LogAndApply(VersionEdit* edit, port::Mutex* mu) {
  if (edit->has_log_number()) {
    assert(edit->log_number() >= log_number_);
    assert(edit->log_number() < next_file_number_);
  } else {
    edit->SetLogNumber(log_number_);
  }
  if (!edit->has_prev_log_number()) edit->SetPrevLogNumber(prev_log_number_);
  edit->SetNextFile(next_file_number_);
  edit->SetLastSequence(last_sequence_);

  auto* v = new Version(this);
  Status s;
  {
    Builder builder(this, current_);
    builder.Apply(*edit);
    s = builder.SaveTo(v);
  }
  if (!s.ok()) {
    delete v;
    return s;
  }
  Finalize(v);

  // Start a new MANIFEST (with a snapshot of the current state) when none is
  // open. Only this thread touches descriptor_*; other threads only read the
  // counters under the mutex.
  std::string new_manifest_file;
  if (descriptor_log_ == nullptr) {
    manifest_file_number_ = NewFileNumber();
    edit->SetNextFile(next_file_number_);
    new_manifest_file = DescriptorFileName(dbname_, manifest_file_number_);
    s = env_->NewWritableFile(new_manifest_file, &descriptor_file_);
    if (s.ok()) {
      descriptor_log_ = std::make_unique<log::Writer>(descriptor_file_.get());
      s = WriteSnapshot(descriptor_log_.get());
    }
  }

  if (s.ok()) {
    std::string record;
    edit->EncodeTo(&record);
    mu->Unlock();
    if (!edit->new_files().empty() && new_manifest_file.empty()) {
      // The new tables' directory entries must be durable before a
      // MANIFEST record names them. (A new MANIFEST is covered by the
      // directory sync of SetCurrentFile, which comes before CURRENT can
      // name it durably.)
      s = env_->SyncDir(dbname_);
    }
    if (s.ok()) s = descriptor_log_->AddRecord(record);
    if (s.ok()) s = descriptor_file_->Sync();
    if (!s.ok()) {
      Log(options_->info_log, "MANIFEST write: %s", s.ToString().c_str());
    }
    // A new MANIFEST becomes live only once CURRENT names it.
    if (s.ok() && !new_manifest_file.empty()) {
      s = SetCurrentFile(env_, dbname_, manifest_file_number_);
    }
    mu->Lock();
  }

  if (s.ok()) {
    AppendVersion(v);
    log_number_ = edit->log_number();
    prev_log_number_ = edit->prev_log_number();
    for (const auto& level_and_number : edit->deleted_files()) {
      removed_files_.push_back(level_and_number.second);
    }
  } else {
    delete v;
    // The MANIFEST may now end in a torn record: never append to it again.
    // The next LogAndApply starts a fresh one.
    descriptor_log_.reset();
    if (descriptor_file_ != nullptr) {
      descriptor_file_->Close().IgnoreError();
      descriptor_file_.reset();
    }
    if (!new_manifest_file.empty()) {
      env_->RemoveFile(new_manifest_file).IgnoreError();
    }
  }
  return s;
}

namespace {

// Remembers the first damage the MANIFEST reader reports.
class ManifestReporter final : public log::Reader::Reporter {
 public:
  void Corruption(size_t bytes, const Status& s) override {
    if (status.ok()) {
      status = Status::Corruption(
          "MANIFEST damaged (" + NumberToString(bytes) + " bytes dropped)",
          s.ToString());
    }
  }
  Status status;
};

}  // namespace

Status VersionSet::Recover(bool* save_manifest) {
  // CURRENT names the live MANIFEST, with a trailing newline.
  std::string current;
  Status s = ReadFileToString(env_, CurrentFileName(dbname_), &current);
  if (!s.ok()) return s;
  if (current.empty() || current.back() != '\n') {
    return Status::Corruption("CURRENT file does not end with newline",
                              CurrentFileName(dbname_));
  }
  current.pop_back();
  uint64_t manifest_number = 0;
  FileType type;
  if (!ParseFileName(current, &manifest_number, &type) ||
      type != kDescriptorFile) {
    return Status::Corruption("CURRENT file does not name a MANIFEST",
                              EscapeString(current));
  }

  const std::string dscname = dbname_ + "/" + current;
  std::unique_ptr<SequentialFile> file;
  s = env_->NewSequentialFile(dscname, &file);
  if (!s.ok()) {
    if (s.IsNotFound()) {
      return Status::Corruption("CURRENT points to a non-existent file",
                                s.ToString());
    }
    return s;
  }

  bool have_log_number = false;
  bool have_prev_log_number = false;
  bool have_next_file = false;
  bool have_last_sequence = false;
  uint64_t next_file = 0;
  uint64_t last_sequence = 0;
  uint64_t log_number = 0;
  uint64_t prev_log_number = 0;
  Builder builder(this, current_);
  int read_records = 0;

  {
    ManifestReporter reporter;
    log::Reader reader(file.get(), &reporter, /*checksum=*/true,
                       /*initial_offset=*/0);
    Slice record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch) && s.ok()) {
      ++read_records;
      VersionEdit edit;
      s = edit.DecodeFrom(record);
      if (s.ok() && edit.has_comparator() &&
          edit.comparator() != icmp_->user_comparator()->Name()) {
        s = Status::InvalidArgument(
            "comparator mismatch: the DB was created with " + edit.comparator(),
            std::string("but was opened with ") +
                icmp_->user_comparator()->Name());
      }
      if (s.ok()) builder.Apply(edit);
      if (edit.has_log_number()) {
        log_number = edit.log_number();
        have_log_number = true;
      }
      if (edit.has_prev_log_number()) {
        prev_log_number = edit.prev_log_number();
        have_prev_log_number = true;
      }
      if (edit.has_next_file_number()) {
        next_file = edit.next_file_number();
        have_next_file = true;
      }
      if (edit.has_last_sequence()) {
        last_sequence = edit.last_sequence();
        have_last_sequence = true;
      }
    }
    if (s.ok()) s = reporter.status;
  }
  file.reset();

  if (s.ok()) {
    if (read_records == 0) {
      s = Status::Corruption("MANIFEST holds no record", dscname);
    } else if (!have_next_file) {
      s = Status::Corruption("no next-file entry in MANIFEST", dscname);
    } else if (!have_log_number) {
      s = Status::Corruption("no log-number entry in MANIFEST", dscname);
    } else if (!have_last_sequence) {
      s = Status::Corruption("no last-sequence entry in MANIFEST", dscname);
    }
  }
  if (!s.ok()) return s;
  if (!have_prev_log_number) prev_log_number = 0;

  MarkFileNumberUsed(prev_log_number);
  MarkFileNumberUsed(log_number);

  auto* v = new Version(this);
  s = builder.SaveTo(v);
  if (!s.ok()) {
    delete v;
    return s;
  }
  Finalize(v);
  AppendVersion(v);
  // The next LogAndApply writes a new MANIFEST under a fresh number; until
  // then ManifestFileNumber() is the recovered one (kept by obsolete-file
  // removal).
  manifest_file_number_ = manifest_number;
  next_file_number_ = std::max(next_file_number_, next_file);
  last_sequence_ = last_sequence;
  log_number_ = log_number;
  prev_log_number_ = prev_log_number;
  // Every file the MANIFEST mentions must stay unallocated.
  for (int level = 0; level < config::kNumLevels; ++level) {
    for (const FileMetaData* f : v->files_[level])
      MarkFileNumberUsed(f->number);
  }
  MarkFileNumberUsed(manifest_number);
  *save_manifest = true;
  return Status::OK();
}

void VersionSet::Finalize(Version* v) {
  int best_level = -1;
  double best_score = -1;
  for (int level = 0; level < config::kNumLevels - 1; ++level) {
    double score;
    if (level == 0) {
      // Level 0 is bounded by file count (each file costs a probe per read;
      // with small write buffers bytes would mislead), or by bytes when
      // flushes are cut at ShouldStopBefore (then the file count says
      // little).
      const double trigger =
          std::max(1, options_->level0_file_num_compaction_trigger);
      if (options_->cut_flush_at_stop_before) {
        score = static_cast<double>(TotalFileSize(v->files_[0])) /
                (trigger * static_cast<double>(options_->write_buffer_size));
      } else {
        score = static_cast<double>(v->files_[0].size()) / trigger;
      }
    } else {
      score = static_cast<double>(TotalFileSize(v->files_[level])) /
              MaxBytesForLevel(level);
    }
    if (score > best_score) {
      best_level = level;
      best_score = score;
    }
  }
  v->compaction_level_ = best_level;
  v->compaction_score_ = best_score;
}

double VersionSet::MaxBytesForLevel(int level) const {
  double result = static_cast<double>(options_->max_bytes_for_level_base);
  for (int l = 2; l <= level; ++l) result *= 10;
  return result;
}

Status VersionSet::WriteSnapshot(log::Writer* log) {
  VersionEdit edit;
  edit.SetComparatorName(icmp_->user_comparator()->Name());
  for (int level = 0; level < config::kNumLevels; ++level) {
    if (!compact_pointer_[level].empty()) {
      InternalKey key;
      key.DecodeFrom(compact_pointer_[level]);
      edit.SetCompactPointer(level, key);
    }
  }
  for (int level = 0; level < config::kNumLevels; ++level) {
    for (const FileMetaData* f : current_->files_[level]) {
      edit.AddFile(level, *f);
    }
  }
  std::string record;
  edit.EncodeTo(&record);
  return log->AddRecord(record);
}

int VersionSet::NumLevelFiles(int level) const {
  assert(level >= 0 && level < config::kNumLevels);
  return current_->NumFiles(level);
}

int64_t VersionSet::NumLevelBytes(int level) const {
  assert(level >= 0 && level < config::kNumLevels);
  return TotalFileSize(current_->files_[level]);
}

std::string VersionSet::LevelSummary() const {
  std::string r = "files[";
  for (int level = 0; level < config::kNumLevels; ++level) {
    r.push_back(' ');
    AppendNumberTo(&r, current_->files_[level].size());
  }
  r.append(" ]");
  return r;
}

void VersionSet::AddLiveFiles(std::set<uint64_t>* live,
                              std::set<uint64_t>* current) {
  for (Version* v = dummy_versions_.next_; v != &dummy_versions_;
       v = v->next_) {
    for (const auto& level_files : v->files_) {
      for (const FileMetaData* f : level_files) {
        live->insert(f->number);
        if (current != nullptr && v == current_) current->insert(f->number);
      }
    }
  }
}

void VersionSet::TakeRemovedFiles(std::vector<uint64_t>* numbers) {
  numbers->insert(numbers->end(), removed_files_.begin(), removed_files_.end());
  removed_files_.clear();
}

uint64_t VersionSet::ApproximateOffsetOf(Version* v, const InternalKey& ikey) {
  uint64_t result = 0;
  for (int level = 0; level < config::kNumLevels; ++level) {
    for (const FileMetaData* f : v->files_[level]) {
      if (icmp_->Compare(f->largest, ikey) <= 0) {
        result += f->file_size;  // the whole file is before ikey
      } else if (icmp_->Compare(f->smallest, ikey) > 0) {
        // The whole file is after ikey; in sorted levels so is the rest.
        if (level > 0) break;
      } else {
        result += table_cache_->ApproximateOffsetOf(f->number, f->file_size,
                                                    ikey.Encode());
      }
    }
  }
  return result;
}

}  // namespace ldb
