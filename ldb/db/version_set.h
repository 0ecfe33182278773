// Versions: the set of table files that make up the DB at one moment.
//
// A Version lists the live table files of every level. Versions are
// immutable once built and reference counted: readers pin the Version they
// read from, so the files it names stay in place. VersionSet holds the chain
// of Versions (the newest is "current"), the file-number and sequence
// counters, and the MANIFEST that records every VersionEdit. It also picks
// compactions (Compaction).
//
// Thread safety: VersionSet and Version methods require the DB mutex unless
// a comment says otherwise. Version::Get, AddIterators and the read-only
// queries on an already pinned Version may run without the mutex (a
// Version's file lists never change).
#ifndef LDB_DB_VERSION_SET_H_
#define LDB_DB_VERSION_SET_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/dbformat.h"
#include "db/version_edit.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "port/port.h"
#include "port/thread_annotations.h"

namespace ldb {

namespace log {
class Writer;
}

class Compaction;
class TableCache;
class Version;
class VersionSet;
class WritableFile;

// Index of the first file in `files` whose largest key is >= key, or
// files.size() if there is none.
// REQUIRES: files are sorted by key and do not overlap.
int FindFile(const InternalKeyComparator& icmp,
             const std::vector<FileMetaData*>& files, const Slice& key);

// True if some file in `files` overlaps the user-key range
// [*smallest_user_key, *largest_user_key]; a null bound is unbounded.
// REQUIRES: if disjoint_sorted_files, files are sorted and do not overlap.
bool SomeFileOverlapsRange(const InternalKeyComparator& icmp,
                           bool disjoint_sorted_files,
                           const std::vector<FileMetaData*>& files,
                           const Slice* smallest_user_key,
                           const Slice* largest_user_key);

// Sum of the sizes of `files`.
int64_t TotalFileSize(const std::vector<FileMetaData*>& files);

// An iterator over the sorted, disjoint `files` that opens each table
// through table_cache only when reached. `icmp`, `table_cache` and `files`
// must outlive it.
std::unique_ptr<Iterator> NewConcatenatingIterator(
    const InternalKeyComparator* icmp, TableCache* table_cache,
    const std::vector<FileMetaData*>* files, const ReadOptions& options);

class Version {
 public:
  // The file charged a seek by Get (the first file probed when more than one
  // was probed), or none.
  struct GetStats {
    FileMetaData* seek_file = nullptr;
    int seek_file_level = -1;
  };

  Version(const Version&) = delete;
  Version& operator=(const Version&) = delete;

  // Appends iterators yielding the contents of this Version (internal keys)
  // to *iters: one per level-0 file, one concatenating iterator per deeper
  // non-empty level. The Version must stay referenced while they live.
  // Mutex not required.
  void AddIterators(const ReadOptions& options,
                    std::vector<std::unique_ptr<Iterator>>* iters);

  // Looks up key.user_key() as of key's sequence. OK with *val set, NotFound
  // (no entry, or the newest entry hides the key: a deletion, or a value the
  // comparator's ShouldDrop / ShouldDropMaybe hooks reclaim or expire at
  // Env::NowSeconds(); see db/read_hooks.h), or an error. Fills *stats for
  // UpdateStats. Mutex not required (the Version must be referenced).
  Status Get(const ReadOptions& options, const LookupKey& key, std::string* val,
             GetStats* stats);
  // As above, with the hooks judged at `now_seconds` (read once by the
  // caller for the whole lookup).
  Status Get(const ReadOptions& options, const LookupKey& key,
             uint64_t now_seconds, std::string* val, GetStats* stats);

  // Charges the seek in `stats`; true when that file ran out of allowed seeks
  // and is now the Version's seek-compaction candidate.
  // REQUIRES: the DB mutex is held.
  bool UpdateStats(const GetStats& stats);

  // Reference counting. Unref deletes the Version at zero.
  // REQUIRES: the DB mutex is held.
  void Ref();
  void Unref();

  // Files of `level` overlapping [begin, end] by user key (null = unbounded)
  // into *inputs. In level 0 the range grows to cover every file that
  // overlaps a file already picked (level-0 files overlap each other).
  void GetOverlappingInputs(int level, const InternalKey* begin,
                            const InternalKey* end,
                            std::vector<FileMetaData*>* inputs);

  // True if some file of `level` overlaps [*smallest_user_key,
  // *largest_user_key] (null = unbounded).
  bool OverlapInLevel(int level, const Slice* smallest_user_key,
                      const Slice* largest_user_key);

  // The level a memtable flush covering [smallest, largest] goes to: 0
  // unless it overlaps nothing in levels 0..L and not too much of L+1's
  // grandparents, up to config::kMaxMemCompactLevel.
  int PickLevelForMemTableOutput(const Slice& smallest_user_key,
                                 const Slice& largest_user_key);

  int NumFiles(int level) const {
    return static_cast<int>(files_[level].size());
  }
  // Files of `level`, sorted by smallest key. Valid while the Version lives.
  const std::vector<FileMetaData*>& files(int level) const {
    return files_[level];
  }

  std::string DebugString() const;

 private:
  friend class Compaction;
  friend class VersionSet;

  explicit Version(VersionSet* vset);
  ~Version();

  // Calls func(level, file) for every file that may hold user_key, newest
  // first, until func returns false.
  template <typename Func>
  void ForEachOverlapping(const Slice& user_key, const Slice& internal_key,
                          Func&& func);

  VersionSet* const vset_;
  Version* next_ = nullptr;  // in VersionSet's list; not owned
  Version* prev_ = nullptr;  // in VersionSet's list; not owned
  int refs_ = 0;

  // Files per level; each holds one FileMetaData::refs count.
  std::vector<FileMetaData*> files_[config::kNumLevels];

  // Seek-compaction candidate (set by UpdateStats). Protected by the mutex.
  FileMetaData* file_to_compact_ = nullptr;
  int file_to_compact_level_ = -1;

  // Size-compaction candidate computed by VersionSet::Finalize. A score >= 1
  // means the level needs compaction.
  double compaction_score_ = -1;
  int compaction_level_ = -1;
};

class VersionSet {
 public:
  // `options` (the DB's sanitized options, comparator = icmp), table_cache
  // and icmp must outlive the VersionSet.
  VersionSet(const std::string& dbname, const Options* options,
             TableCache* table_cache, const InternalKeyComparator* icmp);
  VersionSet(const VersionSet&) = delete;
  VersionSet& operator=(const VersionSet&) = delete;
  // REQUIRES: every Version but current was released.
  ~VersionSet();

  // Applies *edit to the current Version, records it in the MANIFEST (a new
  // MANIFEST with a full snapshot first if none is open yet, then CURRENT
  // points to it) and makes the result current. Fills in the edit's log
  // numbers, next file number and last sequence. Releases *mu while writing.
  // REQUIRES: *mu held; no other LogAndApply running.
  Status LogAndApply(VersionEdit* edit, port::Mutex* mu)
      EXCLUSIVE_LOCKS_REQUIRED(mu);

  // Loads the last state recorded by CURRENT -> MANIFEST. Corruption with a
  // clear message when CURRENT or the MANIFEST is damaged;
  // InvalidArgument naming both names when the comparator differs. Sets
  // *save_manifest when a new MANIFEST must be written (always: the next
  // LogAndApply starts one).
  Status Recover(bool* save_manifest);

  Version* current() const { return current_; }
  uint64_t ManifestFileNumber() const { return manifest_file_number_; }

  uint64_t NewFileNumber() { return next_file_number_++; }
  // Gives back a number from NewFileNumber if nothing used it and nothing
  // was allocated since.
  void ReuseFileNumber(uint64_t file_number) {
    if (next_file_number_ == file_number + 1) next_file_number_ = file_number;
  }
  // Makes sure `number` is never handed out again.
  void MarkFileNumberUsed(uint64_t number) {
    if (next_file_number_ <= number) next_file_number_ = number + 1;
  }
  // The next number NewFileNumber would return (the largest allocated + 1).
  uint64_t NextFileNumber() const { return next_file_number_; }

  int NumLevelFiles(int level) const;
  int64_t NumLevelBytes(int level) const;

  SequenceNumber LastSequence() const { return last_sequence_; }
  // REQUIRES: s >= LastSequence().
  void SetLastSequence(SequenceNumber s);

  // Current WAL number: logs older than it are already in tables.
  uint64_t LogNumber() const { return log_number_; }
  // WAL being compacted when the MANIFEST was written, or 0.
  uint64_t PrevLogNumber() const { return prev_log_number_; }

  // Picks a compaction by size score, else by seek budget; nullptr when
  // nothing needs compacting. The Compaction must be destroyed under the
  // mutex.
  std::unique_ptr<Compaction> PickCompaction();

  // A compaction of the files of `level` overlapping [begin, end] (null =
  // unbounded), or nullptr if there are none. Above level 0 the pick stops
  // after about max_file_size bytes of input; the caller loops.
  std::unique_ptr<Compaction> CompactRange(int level, const InternalKey* begin,
                                           const InternalKey* end);

  // One step of CompactRangeSelfLevel at `level` over [begin, end) (null =
  // unbounded), or nullptr when nothing is left to do:
  //  - level 0: every level-0 file overlapping the range (whatever its
  //    number) plus the overlapping level-1 files, output to level 1;
  //  - level >= 1: the first file overlapping the range whose number is
  //    below limit_filenumber, output to the same level (files of one level
  //    never share a user key, so each can be rewritten on its own).
  // Inputs for which the user comparator's ShouldDropRange holds are moved
  // to the compaction's dropped-whole list: deleted without being read.
  std::unique_ptr<Compaction> PickSelfLevelCompaction(int level,
                                                      uint64_t limit_filenumber,
                                                      const InternalKey* begin,
                                                      const InternalKey* end);

  // The first pass of CompactRangeSelfLevel: every file of any level that
  // overlaps [begin, end) (null = unbounded), lies inside it, is numbered
  // below limit_filenumber (level 0 too: a file is reclaimed whole or not,
  // whatever its level) and whose whole range and sequences the user
  // comparator's ShouldDropRange reclaims. Appends (level, file) pairs.
  // REQUIRES: mutex held; no compaction running that uses these files.
  void ReclaimedFilesInRange(
      uint64_t limit_filenumber, const InternalKey* begin,
      const InternalKey* end,
      std::vector<std::pair<int, FileMetaData*>>* files);

  // Largest number of bytes of level L+1 any file of level L overlaps
  // (tests).
  int64_t MaxNextLevelOverlappingBytes();

  // The merged input of compaction c. Mutex not required while iterating
  // (c's input Version stays referenced).
  std::unique_ptr<Iterator> MakeInputIterator(Compaction* c);

  bool NeedsCompaction() const {
    return current_->compaction_score_ >= 1 ||
           current_->file_to_compact_ != nullptr;
  }

  // Adds the numbers of the files of every live Version to *live, and those
  // of the current Version to *current when it is not null.
  void AddLiveFiles(std::set<uint64_t>* live,
                    std::set<uint64_t>* current = nullptr);

  // Moves to *numbers the numbers of the files that the edits applied since
  // the last call removed from their level (compacted, dropped, or moved to
  // another level). Older Versions may still hold them. REQUIRES: the mutex
  // given to LogAndApply held.
  void TakeRemovedFiles(std::vector<uint64_t>* numbers);

  // Approximate byte offset of `key` within the whole of Version v.
  uint64_t ApproximateOffsetOf(Version* v, const InternalKey& key);

  // e.g. "files[ 3 1 0 0 0 0 0 ]".
  std::string LevelSummary() const;

  const InternalKeyComparator* icmp() const { return icmp_; }
  const Options* options() const { return options_; }
  TableCache* table_cache() const { return table_cache_; }

  // Bytes a level may hold before it is compacted (level >= 1).
  double MaxBytesForLevel(int level) const;

 private:
  class Builder;
  friend class Compaction;
  friend class Version;

  // Computes the best size-compaction level and score of v.
  void Finalize(Version* v);

  // Smallest and largest key of `inputs` (non-empty).
  void GetRange(const std::vector<FileMetaData*>& inputs, InternalKey* smallest,
                InternalKey* largest);
  void GetRange2(const std::vector<FileMetaData*>& inputs1,
                 const std::vector<FileMetaData*>& inputs2,
                 InternalKey* smallest, InternalKey* largest);
  // Given c's level inputs, picks the level+1 inputs, maybe grows the level
  // inputs, and finds the grandparents.
  void SetupOtherInputs(Compaction* c);
  // Moves the inputs of c whose whole key range the user comparator's
  // ShouldDropRange declares reclaimed (up to their max_sequence) from
  // inputs(0) / inputs(1) to dropped_whole(): deleted without being read.
  // Call once the inputs are final.
  void SetAsideReclaimedInputs(Compaction* c);

  // Writes the whole current state as one edit.
  Status WriteSnapshot(log::Writer* log);

  void AppendVersion(Version* v);

  // Constant after construction.
  Env* const env_;
  const std::string dbname_;
  const Options* const options_;
  TableCache* const table_cache_;
  const InternalKeyComparator* const icmp_;

  // Protected by the DB mutex.
  uint64_t next_file_number_ = 2;
  uint64_t manifest_file_number_ = 0;
  SequenceNumber last_sequence_ = 0;
  uint64_t log_number_ = 0;
  uint64_t prev_log_number_ = 0;
  // Files removed by applied edits, for TakeRemovedFiles.
  std::vector<uint64_t> removed_files_;

  // The open MANIFEST, or null until the first LogAndApply (or after a
  // failed write: the next LogAndApply starts a fresh one).
  std::unique_ptr<WritableFile> descriptor_file_;
  std::unique_ptr<log::Writer> descriptor_log_;

  // Head of the circular list of live Versions (a sentinel).
  Version dummy_versions_;
  Version* current_ = nullptr;  // == dummy_versions_.prev_; holds a ref

  // Per level, the key where the next size compaction of that level starts
  // (an encoded InternalKey, or empty).
  std::string compact_pointer_[config::kNumLevels];
};

// A compaction: inputs from `level` and `level + 1`, output to `level + 1`.
// Thread-compatible; used by the background thread under the rules stated
// per method. The const methods may run on several threads at once (e.g.
// the key ranges of a compaction merged in parallel).
class Compaction {
 public:
  // Releases the input Version. REQUIRES: the DB mutex is held.
  ~Compaction();
  Compaction(const Compaction&) = delete;
  Compaction& operator=(const Compaction&) = delete;

  // The level being compacted.
  int level() const { return level_; }
  // Where the outputs go: level() + 1, or for a self-level compaction
  // level() itself (1 when level() is 0).
  int output_level() const { return output_level_; }
  bool is_self_level() const { return self_level_; }

  // The edit that installs the result (inputs deleted, outputs added).
  VersionEdit* edit() { return &edit_; }

  // which = 0: files of level(); which = 1: files of level() + 1.
  int num_input_files(int which) const {
    return static_cast<int>(inputs_[which].size());
  }
  FileMetaData* input(int which, int i) const { return inputs_[which][i]; }
  const std::vector<FileMetaData*>& inputs(int which) const {
    return inputs_[which];
  }

  // Outputs are cut at this size.
  uint64_t MaxOutputFileSize() const { return max_output_file_size_; }

  // Input files deleted without being read (ShouldDropRange); they are not
  // among inputs(0) / inputs(1).
  const std::vector<FileMetaData*>& dropped_whole() const {
    return dropped_whole_;
  }
  // The level of each dropped_whole() file (level() or level() + 1).
  const std::vector<int>& dropped_whole_levels() const {
    return dropped_whole_levels_;
  }

  // Files of level() + 2 overlapping the compaction's key range.
  const std::vector<FileMetaData*>& grandparents() const {
    return grandparents_;
  }

  // True when the single input file can simply move down a level.
  bool IsTrivialMove() const;

  // Adds the deletion of every input file (and dropped-whole file) to *edit.
  void AddInputDeletions(VersionEdit* edit);

  // Where one in-order scan over (part of) the compaction's key range
  // stands, for IsBaseLevelForKey and ShouldStopBefore. A compaction split
  // into key ranges merged in parallel gives each range its own Cursor; a
  // fresh Cursor may start anywhere in the key range.
  struct Cursor {
    // Grandparent files passed, and the bytes of them the current output
    // overlaps.
    size_t grandparent_index = 0;
    bool seen_key = false;
    int64_t overlapped_bytes = 0;
    // Per level, files of that level wholly before the scan.
    size_t level_ptrs[config::kNumLevels] = {};
  };

  // True when no level deeper than output_level() holds user_key, so a
  // tombstone for it written to output_level() shadows nothing. Calls with
  // one cursor must come in increasing user-key order. The overload without
  // a cursor uses the compaction's own. The const overload may run on
  // several threads at once (one cursor each) while the compaction lives.
  bool IsBaseLevelForKey(const Slice& user_key, Cursor* cursor) const;
  bool IsBaseLevelForKey(const Slice& user_key) {
    return IsBaseLevelForKey(user_key, &cursor_);
  }

  // True when the output file should be closed before internal_key because
  // it already overlaps too much of level() + 2 (then *cursor starts
  // counting for the next output). Calls with one cursor must come in
  // increasing key order. Thread rules as for IsBaseLevelForKey.
  bool ShouldStopBefore(const Slice& internal_key, Cursor* cursor) const;
  bool ShouldStopBefore(const Slice& internal_key) {
    return ShouldStopBefore(internal_key, &cursor_);
  }

  // Unpins the input Version once the compaction is installed (or failed).
  // REQUIRES: the DB mutex is held.
  void ReleaseInputs();

  Version* input_version() const { return input_version_; }

 private:
  friend class VersionSet;

  Compaction(const Options* options, int level);
  Compaction(const Options* options, int level, int output_level,
             bool self_level);

  const int level_;
  const int output_level_;
  const bool self_level_;
  const uint64_t max_output_file_size_;
  const int64_t max_grandparent_overlap_bytes_;
  Version* input_version_ = nullptr;  // holds a ref until ReleaseInputs
  VersionEdit edit_;

  std::vector<FileMetaData*> inputs_[2];
  // Inputs deleted unread, and the level of each.
  std::vector<FileMetaData*> dropped_whole_;
  std::vector<int> dropped_whole_levels_;

  // Files of level() + 2 overlapping the compaction, for ShouldStopBefore.
  std::vector<FileMetaData*> grandparents_;

  // The cursor of the overloads without one.
  Cursor cursor_;
};

}  // namespace ldb

#endif  // LDB_DB_VERSION_SET_H_
