// Test-only helpers for the table tests: files over a std::string, an
// iterator over a sorted vector, and random key generation. Header-only so
// that it never enters the ldb library.
#ifndef LDB_TABLE_TABLE_TESTUTIL_H_
#define LDB_TABLE_TABLE_TESTUTIL_H_

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ldb/comparator.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "util/random.h"

namespace ldb::table_test {

// A WritableFile appending to a std::string. Thread-compatible.
class StringSink : public WritableFile {
 public:
  Status Append(const Slice& data) override {
    contents_.append(data.data(), data.size());
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return Status::OK(); }

  const std::string& contents() const { return contents_; }

 private:
  std::string contents_;
};

// A RandomAccessFile over a copy of a string. Reads past the end are short.
// Counts reads. Thread-safe.
class StringSource : public RandomAccessFile {
 public:
  explicit StringSource(std::string contents)
      : contents_(std::move(contents)) {}

  Status Read(uint64_t offset, size_t n, Slice* result,
              char* scratch) const override {
    reads_.fetch_add(1, std::memory_order_relaxed);
    if (offset > contents_.size()) {
      *result = Slice();
      return Status::OK();
    }
    const size_t len = std::min<uint64_t>(n, contents_.size() - offset);
    if (len > 0) std::memcpy(scratch, contents_.data() + offset, len);
    *result = Slice(scratch, len);
    return Status::OK();
  }

  uint64_t size() const { return contents_.size(); }
  int reads() const { return reads_.load(std::memory_order_relaxed); }

 private:
  const std::string contents_;
  mutable std::atomic<int> reads_{0};
};

// An iterator over a sorted vector of key/value pairs (duplicate keys
// allowed), with an optional status it reports once it runs off either end.
// Thread-compatible.
class VectorIterator : public Iterator {
 public:
  using Entries = std::vector<std::pair<std::string, std::string>>;

  explicit VectorIterator(Entries entries, Status end_status = Status::OK())
      : entries_(std::move(entries)),
        end_status_(std::move(end_status)),
        pos_(entries_.size()) {}

  bool Valid() const override { return pos_ < entries_.size(); }
  void SeekToFirst() override { pos_ = 0; }
  void SeekToLast() override {
    pos_ = entries_.empty() ? entries_.size() : entries_.size() - 1;
  }
  void Seek(const Slice& target) override {
    pos_ = 0;
    while (pos_ < entries_.size() &&
           Slice(entries_[pos_].first).compare(target) < 0) {
      ++pos_;
    }
  }
  void Next() override {
    assert(Valid());
    ++pos_;
  }
  void Prev() override {
    assert(Valid());
    pos_ = pos_ == 0 ? entries_.size() : pos_ - 1;
  }
  Slice key() const override { return entries_[pos_].first; }
  Slice value() const override { return entries_[pos_].second; }
  Status status() const override {
    return Valid() ? Status::OK() : end_status_;
  }

 private:
  const Entries entries_;
  const Status end_status_;
  size_t pos_;
};

// A key of up to max_len bytes over a small alphabet including 0x00 and
// 0xff, so that keys share prefixes and hit byte-order edge cases.
inline std::string RandomKey(Random* rnd, int max_len) {
  static constexpr char kAlphabet[] = {'\0', '\x01', 'a',    'b',
                                       'c',  'z',    '\xfe', '\xff'};
  const int len = static_cast<int>(rnd->Uniform(max_len + 1));
  std::string key;
  for (int i = 0; i < len; ++i) {
    key.push_back(kAlphabet[rnd->Uniform(sizeof(kAlphabet))]);
  }
  return key;
}

// A value of up to max_len bytes; about half are compressible.
inline std::string RandomValue(Random* rnd, int max_len) {
  const int len = static_cast<int>(rnd->Uniform(max_len + 1));
  std::string value;
  const bool compressible = rnd->OneIn(2);
  for (int i = 0; i < len; ++i) {
    value.push_back(compressible ? static_cast<char>('a' + (i / 7) % 3)
                                 : static_cast<char>(rnd->Uniform(256)));
  }
  return value;
}

}  // namespace ldb::table_test

#endif  // LDB_TABLE_TABLE_TESTUTIL_H_
