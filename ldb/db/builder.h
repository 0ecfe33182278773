// Writing level-0 tables from a memtable iterator (flushes and recovery).
//
// Stateless functions; thread-safe as long as the arguments are not shared
// with another caller.
#ifndef LDB_DB_BUILDER_H_
#define LDB_DB_BUILDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "db/version_edit.h"
#include "ldb/status.h"

namespace ldb {

class Comparator;
class Env;
class Iterator;
class TableCache;
struct Options;

// Writes every entry of `iter` (internal keys, ascending) to the table file
// numbered meta->number in `dbname`, syncs and closes it, and checks that it
// opens through `table_cache`. On success fills meta's file_size, smallest,
// largest and max_sequence. When iter is empty no file is left behind and
// meta->file_size is 0. On any error the file is deleted.
// `options.comparator` is the internal key comparator.
Status BuildTable(const std::string& dbname, Env* env, const Options& options,
                  TableCache* table_cache, Iterator* iter, FileMetaData* meta);

// Like BuildTable, but starts a new file before an entry whose user key
// differs from the previous one when
// user_comparator->ShouldStopBefore(first user key of the file, user key)
// says so (Options::cut_flush_at_stop_before). Each file gets its number
// from new_file_number(). Appends one FileMetaData per file written to
// *metas. On error the failed file is deleted, files finished before it stay
// listed in *metas (the caller does not install them; obsolete-file removal
// deletes them once their numbers are no longer pending). With `uncached`
// the files are opened through Env::NewUncachedWritableFile (tables not read
// back soon).
Status BuildTables(const std::string& dbname, Env* env, const Options& options,
                   TableCache* table_cache, Iterator* iter,
                   const Comparator* user_comparator,
                   const std::function<uint64_t()>& new_file_number,
                   std::vector<FileMetaData>* metas, bool uncached = false);

}  // namespace ldb

#endif  // LDB_DB_BUILDER_H_
