// Test helpers. See testutil.h.
#include "util/testutil.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ldb/db.h"

namespace ldb::test {

testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << s.ToString();
}

uint64_t StatsFigure(DB* db, const std::string& line, const std::string& name) {
  std::string stats;
  EXPECT_TRUE(db->GetProperty("ldb.stats", &stats));
  const size_t start = stats.find(line);
  const size_t end = stats.find('\n', start);
  // " name", so that "groups=" is not found inside "sync_groups=".
  const size_t pos = start == std::string::npos ? start : stats.find(" " + name, start);
  if (start == std::string::npos || pos == std::string::npos || pos > end) {
    ADD_FAILURE() << "no " << name << " on the " << line << " line of:\n" << stats;
    return ~uint64_t{0};
  }
  return std::stoull(stats.substr(pos + 1 + name.size()));
}

std::string Get(DB* db, const Slice& key, const Snapshot* snapshot) {
  ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  Status s = db->Get(ro, key, &value);
  if (s.IsNotFound()) return "NOT_FOUND";
  if (!s.ok()) return "ERROR: " + s.ToString();
  return value;
}

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}

std::string RandomString(Random* rnd, int len) {
  std::string r;
  r.reserve(len > 0 ? static_cast<size_t>(len) : 0);
  for (int i = 0; i < len; ++i) {
    r.push_back(static_cast<char>(' ' + rnd->Uniform('~' - ' ' + 1)));
  }
  return r;
}

std::string RandomKey(Random* rnd, int len) {
  static constexpr char kAlphabet[] = {'\0', '\x01', 'a',    'b',   'c',
                                       'd',  'e',    '\xfe', '\xff'};
  std::string r;
  r.reserve(len > 0 ? static_cast<size_t>(len) : 0);
  for (int i = 0; i < len; ++i) {
    r.push_back(kAlphabet[rnd->Uniform(sizeof(kAlphabet))]);
  }
  return r;
}

Slice CompressibleString(Random* rnd, double compressed_fraction, size_t len,
                         std::string* dst) {
  size_t raw_len =
      static_cast<size_t>(static_cast<double>(len) * compressed_fraction);
  if (raw_len < 1) raw_len = 1;
  const std::string raw = RandomString(rnd, static_cast<int>(raw_len));
  dst->clear();
  dst->reserve(len);
  while (dst->size() < len) {
    dst->append(raw, 0, std::min(raw.size(), len - dst->size()));
  }
  return Slice(*dst);
}

std::string TempDir(const std::string& prefix) {
  const char* env = std::getenv("TEST_TMPDIR");
  std::string base = (env != nullptr && env[0] != '\0') ? env : "/tmp";
  std::string tmpl = base + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::fprintf(stderr, "TempDir: mkdtemp(%s) failed: %s\n", tmpl.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  return std::string(buf.data());
}

}  // namespace ldb::test
