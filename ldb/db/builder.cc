// Level-0 table building. See builder.h.
#include "db/builder.h"

#include <memory>
#include <string>
#include <vector>

#include "db/dbformat.h"
#include "db/filename.h"
#include "db/table_cache.h"
#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "table/table_builder.h"

namespace ldb {

namespace {

// Cuts before `user_key` when the file started at `first_user_key`.
using CutFunction =
    std::function<bool(const Slice& first_user_key, const Slice& user_key)>;

// The runs of `iter` (from its first entry): maximal sequences of entries
// with no boundary between them, a boundary being two adjacent user keys
// that `cut` separates. Returns the bytes (keys + values) of each run, in
// order. Entries too short to be internal keys are skipped (WriteOneTable
// reports them). Should the second pass see other entries (a filtering
// iterator whose verdicts changed meanwhile), run indexes drift: the cuts
// are then less well placed, never wrong (every entry is still written).
std::vector<uint64_t> RunBytes(Iterator* iter, const CutFunction& cut) {
  std::vector<uint64_t> runs;
  std::string last;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
    const Slice key = iter->key();
    if (key.size() < 8) continue;
    const Slice user_key = ExtractUserKey(key);
    if (runs.empty() || (user_key != Slice(last) && cut(Slice(last), user_key))) {
      runs.push_back(0);
    }
    runs.back() += key.size() + iter->value().size();
    last.assign(user_key.data(), user_key.size());
  }
  return runs;
}

// Writes entries from the valid position of `iter` into table meta->number,
// stopping at the end of `iter` or before an entry for which `cut` (may be
// empty) is true. Leaves `iter` at the first entry not written.
// With flush_cut_min_bytes, `runs` (RunBytes of the whole iterator) and
// *run (the index of the run `iter` is in, kept up to date) let it cut
// around a run of at least that size even when the file is still smaller:
// a bucket migrating in among thin writes to every bucket gets files of its
// own (which may go below level 0) instead of a straddling one.
// REQUIRES: iter->Valid().
Status WriteOneTable(const std::string& dbname, Env* env,
                     const Options& options, TableCache* table_cache,
                     Iterator* iter, const CutFunction& cut,
                     const std::vector<uint64_t>& runs, size_t* run,
                     bool uncached, FileMetaData* meta) {
  meta->file_size = 0;
  meta->max_sequence = 0;
  const std::string fname = TableFileName(dbname, meta->number);
  std::unique_ptr<WritableFile> file;
  Status s = uncached ? env->NewUncachedWritableFile(fname, &file)
                      : env->NewWritableFile(fname, &file);
  if (!s.ok()) return s;

  TableBuilder builder(options, file.get());
  const uint64_t cut_min_bytes = options.flush_cut_min_bytes;
  meta->smallest.DecodeFrom(iter->key());
  std::string first_user_key = ExtractUserKey(iter->key()).ToString();
  bool first = true;
  for (; iter->Valid(); iter->Next()) {
    const Slice key = iter->key();
    if (key.size() < 8) {
      s = Status::Corruption("memtable entry shorter than an internal key");
      break;
    }
    const Slice user_key = ExtractUserKey(key);
    // (The builder's last key is the previous entry's.)
    if (!first && cut && user_key != ExtractUserKey(builder.LastKey()) &&
        cut_min_bytes == 0 && cut(first_user_key, user_key)) {
      break;
    }
    // With a minimum size, cut at the first boundary (between two keys the
    // comparator separates) after it, and around a run that has the size by
    // itself.
    if (!first && cut && cut_min_bytes > 0 &&
        user_key != ExtractUserKey(builder.LastKey()) &&
        cut(ExtractUserKey(builder.LastKey()), user_key)) {
      const size_t next = *run + 1;
      const bool big_run_ends = *run < runs.size() && runs[*run] >= cut_min_bytes;
      const bool big_run_starts = next < runs.size() && runs[next] >= cut_min_bytes;
      *run = next;
      if (builder.FileSize() >= cut_min_bytes || big_run_ends || big_run_starts) {
        break;
      }
    }
    first = false;
    const SequenceNumber seq = DecodeFixed64(key.data() + key.size() - 8) >> 8;
    if (seq > meta->max_sequence) meta->max_sequence = seq;
    builder.Add(key, iter->value());
  }
  if (s.ok()) s = iter->status();
  if (!first) meta->largest.DecodeFrom(builder.LastKey());

  if (s.ok()) {
    s = builder.Finish();
    if (s.ok()) meta->file_size = builder.FileSize();
  } else {
    builder.Abandon();
  }
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  file.reset();

  if (s.ok()) {
    // Make sure the table is readable before it is installed.
    std::unique_ptr<Iterator> check =
        table_cache->NewIterator(ReadOptions(), meta->number, meta->file_size);
    s = check->status();
  }
  if (!s.ok()) {
    meta->file_size = 0;
    table_cache->Evict(meta->number);
    env->RemoveFile(fname).IgnoreError();
  }
  return s;
}

}  // namespace

Status BuildTable(const std::string& dbname, Env* env, const Options& options,
                  TableCache* table_cache, Iterator* iter, FileMetaData* meta) {
  meta->file_size = 0;
  iter->SeekToFirst();
  if (!iter->Valid()) return iter->status();
  size_t run = 0;
  return WriteOneTable(dbname, env, options, table_cache, iter, CutFunction(),
                       {}, &run, /*uncached=*/false, meta);
}

Status BuildTables(const std::string& dbname, Env* env, const Options& options,
                   TableCache* table_cache, Iterator* iter,
                   const Comparator* user_comparator,
                   const std::function<uint64_t()>& new_file_number,
                   std::vector<FileMetaData>* metas, bool uncached) {
  CutFunction cut;
  if (user_comparator != nullptr) {
    cut = [user_comparator](const Slice& first, const Slice& key) {
      return user_comparator->ShouldStopBefore(first, key);
    };
  }
  std::vector<uint64_t> runs;
  if (cut && options.flush_cut_min_bytes > 0) runs = RunBytes(iter, cut);
  size_t run = 0;
  iter->SeekToFirst();
  Status s = iter->status();
  while (s.ok() && iter->Valid()) {
    FileMetaData meta;
    meta.number = new_file_number();
    s = WriteOneTable(dbname, env, options, table_cache, iter, cut, runs, &run,
                      uncached, &meta);
    if (s.ok()) metas->push_back(std::move(meta));
  }
  return s;
}

}  // namespace ldb
