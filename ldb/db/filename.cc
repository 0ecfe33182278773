// File naming in a DB directory. See filename.h.
#include "db/filename.h"

#include <cinttypes>
#include <cstdio>

#include "ldb/env.h"
#include "util/logging.h"

namespace ldb {

namespace {

std::string NumberedName(const std::string& dbname, uint64_t number,
                         const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/%06" PRIu64 ".%s", number, suffix);
  return dbname + buf;
}

}  // namespace

std::string LogFileName(const std::string& dbname, uint64_t number) {
  return NumberedName(dbname, number, "log");
}

std::string TableFileName(const std::string& dbname, uint64_t number) {
  return NumberedName(dbname, number, "ldb");
}

std::string DescriptorFileName(const std::string& dbname, uint64_t number) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/MANIFEST-%06" PRIu64, number);
  return dbname + buf;
}

std::string CurrentFileName(const std::string& dbname) {
  return dbname + "/CURRENT";
}

std::string LockFileName(const std::string& dbname) { return dbname + "/LOCK"; }

std::string TempFileName(const std::string& dbname, uint64_t number) {
  return NumberedName(dbname, number, "dbtmp");
}

std::string InfoLogFileName(const std::string& dbname) {
  return dbname + "/LOG";
}

std::string OldInfoLogFileName(const std::string& dbname) {
  return dbname + "/LOG.old";
}

bool ParseFileName(const std::string& filename, uint64_t* number,
                   FileType* type) {
  Slice rest(filename);
  if (rest == "CURRENT") {
    *number = 0;
    *type = kCurrentFile;
    return true;
  }
  if (rest == "LOCK") {
    *number = 0;
    *type = kDBLockFile;
    return true;
  }
  if (rest == "LOG" || rest == "LOG.old") {
    *number = 0;
    *type = kInfoLogFile;
    return true;
  }
  if (rest.starts_with("MANIFEST-")) {
    rest.remove_prefix(sizeof("MANIFEST-") - 1);
    uint64_t num;
    if (!ConsumeDecimalNumber(&rest, &num) || !rest.empty()) return false;
    *number = num;
    *type = kDescriptorFile;
    return true;
  }
  uint64_t num;
  if (!ConsumeDecimalNumber(&rest, &num)) return false;
  if (rest == ".log") {
    *type = kLogFile;
  } else if (rest == ".ldb") {
    *type = kTableFile;
  } else if (rest == ".dbtmp") {
    *type = kTempFile;
  } else {
    return false;
  }
  *number = num;
  return true;
}

Status SetCurrentFile(Env* env, const std::string& dbname,
                      uint64_t descriptor_number) {
  std::string manifest = DescriptorFileName(dbname, descriptor_number);
  Slice contents(manifest);
  // CURRENT holds the bare file name, relative to the DB directory.
  contents.remove_prefix(dbname.size() + 1);
  const std::string tmp = TempFileName(dbname, descriptor_number);
  Status s = WriteStringToFileSync(env, contents.ToString() + "\n", tmp);
  if (s.ok()) s = env->RenameFile(tmp, CurrentFileName(dbname));
  if (s.ok()) s = env->SyncDir(dbname);
  if (!s.ok()) env->RemoveFile(tmp).IgnoreError();
  return s;
}

}  // namespace ldb
