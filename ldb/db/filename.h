// Names of the files in a DB directory.
//
//   <number>.log      write-ahead log
//   <number>.ldb      table file
//   MANIFEST-<number> version edits (the descriptor)
//   CURRENT           name of the live MANIFEST, newline-terminated
//   LOCK              held (Env::LockFile) by the process that has the DB open
//   LOG, LOG.old      info log and its previous generation
//   <number>.dbtmp    temporary file (CURRENT is written through one)
//
// Numbers are printed with at least six digits. Stateless functions:
// thread-safe.
#ifndef LDB_DB_FILENAME_H_
#define LDB_DB_FILENAME_H_

#include <cstdint>
#include <string>

#include "ldb/slice.h"
#include "ldb/status.h"

namespace ldb {

class Env;

enum FileType {
  kLogFile,
  kDBLockFile,
  kTableFile,
  kDescriptorFile,
  kCurrentFile,
  kTempFile,
  kInfoLogFile,  // LOG or LOG.old
};

// "<dbname>/<number>.log"
std::string LogFileName(const std::string& dbname, uint64_t number);
// "<dbname>/<number>.ldb"
std::string TableFileName(const std::string& dbname, uint64_t number);
// "<dbname>/MANIFEST-<number>"
std::string DescriptorFileName(const std::string& dbname, uint64_t number);
// "<dbname>/CURRENT"
std::string CurrentFileName(const std::string& dbname);
// "<dbname>/LOCK"
std::string LockFileName(const std::string& dbname);
// "<dbname>/<number>.dbtmp"
std::string TempFileName(const std::string& dbname, uint64_t number);
// "<dbname>/LOG"
std::string InfoLogFileName(const std::string& dbname);
// "<dbname>/LOG.old"
std::string OldInfoLogFileName(const std::string& dbname);

// Parses a file name (not a path) of one of the forms above. Returns false
// for any other name, including numbers that overflow 64 bits. The number of
// CURRENT, LOCK, LOG and LOG.old is 0.
bool ParseFileName(const std::string& filename, uint64_t* number,
                   FileType* type);

// Points CURRENT at MANIFEST-<descriptor_number>: writes the name to
// <descriptor_number>.dbtmp, syncs it, renames it over CURRENT and syncs the
// directory. On failure the temporary file is removed and CURRENT is either
// the old one or the new one, never a torn file.
Status SetCurrentFile(Env* env, const std::string& dbname,
                      uint64_t descriptor_number);

}  // namespace ldb

#endif  // LDB_DB_FILENAME_H_
