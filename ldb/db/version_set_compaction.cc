// Compaction picking (VersionSet) and the Compaction object. See
// version_set.h.
#include <algorithm>

#include "db/table_cache.h"
#include "db/version_set.h"
#include "table/merger.h"

namespace ldb {

namespace {

// Bytes of grandparent (level + 2) overlap after which a compaction output
// file is closed, so that a later compaction of it stays cheap.
int64_t MaxGrandParentOverlapBytes(const Options* options) {
  return 10 * static_cast<int64_t>(options->max_file_size);
}

// Upper bound on the inputs of a compaction grown to more level files.
int64_t ExpandedCompactionByteSizeLimit(const Options* options) {
  return 25 * static_cast<int64_t>(options->max_file_size);
}

}  // namespace

void VersionSet::GetRange(const std::vector<FileMetaData*>& inputs,
                          InternalKey* smallest, InternalKey* largest) {
  assert(!inputs.empty());
  smallest->Clear();
  largest->Clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const FileMetaData* f = inputs[i];
    if (i == 0 || icmp_->Compare(f->smallest, *smallest) < 0) {
      *smallest = f->smallest;
    }
    if (i == 0 || icmp_->Compare(f->largest, *largest) > 0) {
      *largest = f->largest;
    }
  }
}

void VersionSet::GetRange2(const std::vector<FileMetaData*>& inputs1,
                           const std::vector<FileMetaData*>& inputs2,
                           InternalKey* smallest, InternalKey* largest) {
  std::vector<FileMetaData*> all = inputs1;
  all.insert(all.end(), inputs2.begin(), inputs2.end());
  GetRange(all, smallest, largest);
}

std::unique_ptr<Compaction> VersionSet::PickCompaction() {
  std::unique_ptr<Compaction> c;
  int level;

  // Size compactions come first: they keep the tree in shape.
  const bool size_compaction = current_->compaction_score_ >= 1;
  const bool seek_compaction = current_->file_to_compact_ != nullptr;
  if (size_compaction) {
    level = current_->compaction_level_;
    assert(level >= 0 && level + 1 < config::kNumLevels);
    c.reset(new Compaction(options_, level));
    // Start after the key where the last compaction of this level ended,
    // so that every part of the key space gets its turn.
    for (FileMetaData* f : current_->files_[level]) {
      if (compact_pointer_[level].empty() ||
          icmp_->Compare(f->largest.Encode(), compact_pointer_[level]) > 0) {
        c->inputs_[0].push_back(f);
        break;
      }
    }
    if (c->inputs_[0].empty()) {
      c->inputs_[0].push_back(current_->files_[level][0]);  // wrap around
    }
  } else if (seek_compaction) {
    level = current_->file_to_compact_level_;
    c.reset(new Compaction(options_, level));
    c->inputs_[0].push_back(current_->file_to_compact_);
  } else {
    return nullptr;
  }

  c->input_version_ = current_;
  c->input_version_->Ref();

  if (level == 0) {
    // Level-0 files overlap: take every one overlapping the pick.
    InternalKey smallest;
    InternalKey largest;
    GetRange(c->inputs_[0], &smallest, &largest);
    current_->GetOverlappingInputs(0, &smallest, &largest, &c->inputs_[0]);
    assert(!c->inputs_[0].empty());
  }

  SetupOtherInputs(c.get());
  SetAsideReclaimedInputs(c.get());
  return c;
}

void VersionSet::SetupOtherInputs(Compaction* c) {
  const int level = c->level();
  InternalKey smallest;
  InternalKey largest;
  GetRange(c->inputs_[0], &smallest, &largest);
  current_->GetOverlappingInputs(level + 1, &smallest, &largest,
                                 &c->inputs_[1]);

  InternalKey all_start;
  InternalKey all_limit;
  GetRange2(c->inputs_[0], c->inputs_[1], &all_start, &all_limit);

  // Grow the level inputs to everything inside the combined range when that
  // does not pull in more level+1 files and stays within a size bound.
  if (!c->inputs_[1].empty()) {
    std::vector<FileMetaData*> expanded0;
    current_->GetOverlappingInputs(level, &all_start, &all_limit, &expanded0);
    const int64_t inputs1_size = TotalFileSize(c->inputs_[1]);
    const int64_t expanded0_size = TotalFileSize(expanded0);
    if (expanded0.size() > c->inputs_[0].size() &&
        inputs1_size + expanded0_size <
            ExpandedCompactionByteSizeLimit(options_)) {
      InternalKey new_start;
      InternalKey new_limit;
      GetRange(expanded0, &new_start, &new_limit);
      std::vector<FileMetaData*> expanded1;
      current_->GetOverlappingInputs(level + 1, &new_start, &new_limit,
                                     &expanded1);
      if (expanded1.size() == c->inputs_[1].size()) {
        smallest = new_start;
        largest = new_limit;
        c->inputs_[0] = std::move(expanded0);
        c->inputs_[1] = std::move(expanded1);
        GetRange2(c->inputs_[0], c->inputs_[1], &all_start, &all_limit);
      }
    }
  }

  if (level + 2 < config::kNumLevels) {
    current_->GetOverlappingInputs(level + 2, &all_start, &all_limit,
                                   &c->grandparents_);
  }

  // The next size compaction of this level starts after this one. Recorded
  // now (not when the compaction succeeds) so a failing range is not
  // retried forever.
  compact_pointer_[level] = largest.Encode().ToString();
  c->edit_.SetCompactPointer(level, largest);
}

std::unique_ptr<Compaction> VersionSet::CompactRange(int level,
                                                     const InternalKey* begin,
                                                     const InternalKey* end) {
  std::vector<FileMetaData*> inputs;
  current_->GetOverlappingInputs(level, begin, end, &inputs);
  if (inputs.empty()) return nullptr;

  // Above level 0, compact one file-size worth at a time so a huge range
  // does not become one huge compaction. (Level 0 cannot be cut: its files
  // overlap, and leaving an older overlapping file behind would be wrong.)
  if (level > 0) {
    const uint64_t limit = options_->max_file_size;
    uint64_t total = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      total += inputs[i]->file_size;
      if (total >= limit) {
        inputs.resize(i + 1);
        break;
      }
    }
  }

  std::unique_ptr<Compaction> c(new Compaction(options_, level));
  c->input_version_ = current_;
  c->input_version_->Ref();
  c->inputs_[0] = std::move(inputs);
  SetupOtherInputs(c.get());
  SetAsideReclaimedInputs(c.get());
  return c;
}

std::unique_ptr<Compaction> VersionSet::PickSelfLevelCompaction(
    int level, uint64_t limit_filenumber, const InternalKey* begin,
    const InternalKey* end) {
  assert(level >= 0 && level < config::kNumLevels);
  const Comparator* ucmp = icmp_->user_comparator();
  std::unique_ptr<Compaction> c;
  std::vector<FileMetaData*> overlapping;
  current_->GetOverlappingInputs(level, begin, end, &overlapping);

  if (level == 0) {
    if (overlapping.empty()) return nullptr;
    c.reset(new Compaction(options_, 0, 1, /*self_level=*/true));
    c->inputs_[0] = std::move(overlapping);
    // Level-1 files overlapping the level-0 inputs must be merged with them
    // (level 1 stays sorted and disjoint).
    InternalKey smallest;
    InternalKey largest;
    GetRange(c->inputs_[0], &smallest, &largest);
    current_->GetOverlappingInputs(1, &smallest, &largest, &c->inputs_[1]);
    InternalKey all_start;
    InternalKey all_limit;
    GetRange2(c->inputs_[0], c->inputs_[1], &all_start, &all_limit);
    if (2 < config::kNumLevels) {
      current_->GetOverlappingInputs(2, &all_start, &all_limit,
                                     &c->grandparents_);
    }
  } else {
    // The files to rewrite: below the limit, and starting before the
    // range's (exclusive) end.
    auto eligible = [&](const FileMetaData* f) {
      return f->number < limit_filenumber &&
             (end == nullptr ||
              ucmp->Compare(f->smallest.user_key(), end->user_key()) < 0);
    };
    auto reclaimed = [ucmp](const FileMetaData* f) {
      return ucmp->ShouldDropRange(f->smallest.user_key(),
                                   f->largest.user_key(), f->max_sequence);
    };
    size_t i = 0;
    while (i < overlapping.size() && !eligible(overlapping[i])) ++i;
    if (i == overlapping.size()) return nullptr;
    c.reset(new Compaction(options_, level, level, /*self_level=*/true));
    c->inputs_[0].push_back(overlapping[i]);
    // A run of wholly reclaimed files is dropped in one step (one MANIFEST
    // write) rather than one file per step; a file to rewrite goes alone.
    if (reclaimed(overlapping[i])) {
      for (++i; i < overlapping.size(); ++i) {
        FileMetaData* f = overlapping[i];
        if (end != nullptr &&
            ucmp->Compare(f->smallest.user_key(), end->user_key()) >= 0) {
          break;  // past the end
        }
        if (f->number >= limit_filenumber) continue;  // left alone
        if (!reclaimed(f)) break;
        c->inputs_[0].push_back(f);
      }
    }
  }

  SetAsideReclaimedInputs(c.get());
  c->input_version_ = current_;
  c->input_version_->Ref();
  return c;
}

void VersionSet::ReclaimedFilesInRange(
    uint64_t limit_filenumber, const InternalKey* begin,
    const InternalKey* end,
    std::vector<std::pair<int, FileMetaData*>>* files) {
  const Comparator* ucmp = icmp_->user_comparator();
  for (int level = 0; level < config::kNumLevels; ++level) {
    std::vector<FileMetaData*> overlapping;
    current_->GetOverlappingInputs(level, begin, end, &overlapping);
    for (FileMetaData* f : overlapping) {
      // GetOverlappingInputs may widen the range at level 0, and a file may
      // reach past either bound: take only files inside [begin, end).
      const bool inside =
          f->number < limit_filenumber &&
          (begin == nullptr ||
           ucmp->Compare(f->smallest.user_key(), begin->user_key()) >= 0) &&
          (end == nullptr ||
           ucmp->Compare(f->largest.user_key(), end->user_key()) < 0);
      if (inside && ucmp->ShouldDropRange(f->smallest.user_key(),
                                          f->largest.user_key(),
                                          f->max_sequence)) {
        files->emplace_back(level, f);
      }
    }
  }
}

void VersionSet::SetAsideReclaimedInputs(Compaction* c) {
  // Whole files the comparator declares reclaimed are deleted unread. Safe
  // in any compaction: every entry of such a file is one ShouldDrop would
  // drop unconditionally, and so is every older version of its keys.
  const Comparator* ucmp = icmp_->user_comparator();
  for (int which = 0; which < 2; ++which) {
    std::vector<FileMetaData*>& files = c->inputs_[which];
    std::vector<FileMetaData*> kept;
    for (FileMetaData* f : files) {
      if (ucmp->ShouldDropRange(f->smallest.user_key(), f->largest.user_key(),
                                f->max_sequence)) {
        c->dropped_whole_.push_back(f);
        c->dropped_whole_levels_.push_back(c->level() + which);
      } else {
        kept.push_back(f);
      }
    }
    files = std::move(kept);
  }
}

int64_t VersionSet::MaxNextLevelOverlappingBytes() {
  int64_t result = 0;
  std::vector<FileMetaData*> overlaps;
  for (int level = 1; level < config::kNumLevels - 1; ++level) {
    for (FileMetaData* f : current_->files_[level]) {
      current_->GetOverlappingInputs(level + 1, &f->smallest, &f->largest,
                                     &overlaps);
      result = std::max(result, TotalFileSize(overlaps));
    }
  }
  return result;
}

std::unique_ptr<Iterator> VersionSet::MakeInputIterator(Compaction* c) {
  ReadOptions options;
  options.verify_checksums = options_->paranoid_checks;
  options.fill_cache = false;  // compaction input is read once

  std::vector<std::unique_ptr<Iterator>> children;
  for (int which = 0; which < 2; ++which) {
    if (c->inputs_[which].empty()) continue;
    if (c->level() + which == 0) {
      for (const FileMetaData* f : c->inputs_[which]) {
        children.push_back(
            table_cache_->NewIterator(options, f->number, f->file_size));
      }
    } else {
      // Sorted, disjoint files: open them one after another.
      children.push_back(NewConcatenatingIterator(icmp_, table_cache_,
                                                  &c->inputs_[which], options));
    }
  }
  return NewMergingIterator(icmp_, std::move(children));
}

// ---------------------------------------------------------------- Compaction

Compaction::Compaction(const Options* options, int level)
    : Compaction(options, level, level + 1, /*self_level=*/false) {}

Compaction::Compaction(const Options* options, int level, int output_level,
                       bool self_level)
    : level_(level),
      output_level_(output_level),
      self_level_(self_level),
      max_output_file_size_(options->max_file_size),
      max_grandparent_overlap_bytes_(MaxGrandParentOverlapBytes(options)) {}

Compaction::~Compaction() {
  if (input_version_ != nullptr) input_version_->Unref();
}

bool Compaction::IsTrivialMove() const {
  // One file, nothing to merge with in level + 1, and not so much
  // grandparent overlap that the moved file would be costly to compact later.
  return !self_level_ && dropped_whole_.empty() && num_input_files(0) == 1 &&
         num_input_files(1) == 0 &&
         TotalFileSize(grandparents_) <= max_grandparent_overlap_bytes_;
}

void Compaction::AddInputDeletions(VersionEdit* edit) {
  for (int which = 0; which < 2; ++which) {
    for (const FileMetaData* f : inputs_[which]) {
      edit->RemoveFile(level_ + which, f->number);
    }
  }
  for (size_t i = 0; i < dropped_whole_.size(); ++i) {
    edit->RemoveFile(dropped_whole_levels_[i], dropped_whole_[i]->number);
  }
}

bool Compaction::IsBaseLevelForKey(const Slice& user_key,
                                   Cursor* cursor) const {
  const Comparator* ucmp = input_version_->vset_->icmp_->user_comparator();
  for (int lvl = output_level_ + 1; lvl < config::kNumLevels; ++lvl) {
    const std::vector<FileMetaData*>& files = input_version_->files_[lvl];
    size_t& ptr = cursor->level_ptrs[lvl];
    while (ptr < files.size()) {
      const FileMetaData* f = files[ptr];
      if (ucmp->Compare(user_key, f->largest.user_key()) <= 0) {
        // user_key <= this file's end: it may be inside.
        if (ucmp->Compare(user_key, f->smallest.user_key()) >= 0) {
          return false;
        }
        break;
      }
      // Keys only increase: this file is behind us for good.
      ++ptr;
    }
  }
  return true;
}

bool Compaction::ShouldStopBefore(const Slice& internal_key,
                                  Cursor* cursor) const {
  const InternalKeyComparator* icmp = input_version_->vset_->icmp_;
  // Count the grandparent files that end before this key (those before the
  // first key of the scan are skipped uncounted).
  while (cursor->grandparent_index < grandparents_.size() &&
         icmp->Compare(
             internal_key,
             grandparents_[cursor->grandparent_index]->largest.Encode()) > 0) {
    if (cursor->seen_key) {
      cursor->overlapped_bytes += static_cast<int64_t>(
          grandparents_[cursor->grandparent_index]->file_size);
    }
    ++cursor->grandparent_index;
  }
  cursor->seen_key = true;
  if (cursor->overlapped_bytes > max_grandparent_overlap_bytes_) {
    cursor->overlapped_bytes = 0;  // a new output starts
    return true;
  }
  return false;
}

void Compaction::ReleaseInputs() {
  if (input_version_ != nullptr) {
    input_version_->Unref();
    input_version_ = nullptr;
  }
}

}  // namespace ldb
