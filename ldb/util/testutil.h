// Helpers shared by the ldb tests: Status assertions, numbered keys, random
// strings and keys, compressible data, and scratch directories.
//
// All functions are thread-compatible (each Random is used by one thread).
#ifndef LDB_UTIL_TESTUTIL_H_
#define LDB_UTIL_TESTUTIL_H_

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "ldb/slice.h"
#include "ldb/status.h"
#include "util/random.h"

namespace ldb {
class DB;
class Snapshot;
}  // namespace ldb

namespace ldb::test {

// Success for an OK status, else a failure that prints it:
// ASSERT_TRUE(IsOk(db->Put(...))).
testing::AssertionResult IsOk(const Status& s);

// "key" and i in 6 digits ("key000042"): keys that sort in numeric order.
std::string Key(int i);

// db's value for key (as of snapshot, when given), "NOT_FOUND", or
// "ERROR: <status>": one string to compare in an EXPECT_EQ.
std::string Get(DB* db, const Slice& key, const Snapshot* snapshot = nullptr);

// The figure `name` ("slowdowns=", the "=" included) of the ldb.stats line
// that starts with `line` ("Write stalls:"); a failure, and ~0, when there
// is no such line or figure.
uint64_t StatsFigure(DB* db, const std::string& line, const std::string& name);

// len printable ASCII characters (' ' to '~').
std::string RandomString(Random* rnd, int len);

// len bytes from a small alphabet that includes '\0', '\x01', '\xfe' and
// '\xff', so that random keys share prefixes and hit edge cases of
// comparators and prefix compression.
std::string RandomKey(Random* rnd, int len);

// Stores in *dst a string of exactly len bytes that a compressor shrinks to
// about compressed_fraction * len (a random piece repeated), and returns a
// Slice of *dst.
Slice CompressibleString(Random* rnd, double compressed_fraction, size_t len,
                         std::string* dst);

// Creates a fresh, empty, uniquely named directory under $TEST_TMPDIR (or
// /tmp when unset) whose name starts with prefix, and returns its path.
// Aborts the test process if it cannot.
std::string TempDir(const std::string& prefix);

}  // namespace ldb::test

#endif  // LDB_UTIL_TESTUTIL_H_
