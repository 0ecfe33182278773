// Internal keys: what the memtable and tables store.
//
//   internal key := user_key | fixed64(sequence << 8 | type)
//
// Ordered by user key ascending (user comparator), then sequence descending,
// then type descending, so the newest version of a key comes first.
#ifndef LDB_DB_DBFORMAT_H_
#define LDB_DB_DBFORMAT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ldb/comparator.h"
#include "ldb/filter_policy.h"
#include "ldb/slice.h"
#include "util/coding.h"

namespace ldb {

namespace config {
inline constexpr int kNumLevels = 7;
// Level-0 triggers live in Options; these are their defaults.
// A memtable flush goes at most this deep when it overlaps nothing.
inline constexpr int kMaxMemCompactLevel = 2;
// Bytes between samples taken by DB iterators for read-triggered compaction.
inline constexpr int kReadBytesPeriod = 1048576;
}  // namespace config

// Persisted in the WAL and in tables: DO NOT RENUMBER.
enum ValueType : unsigned char {
  kTypeDeletion = 0x0,
  kTypeValue = 0x1,
};
// The type that sorts first among entries of one sequence (used to seek).
inline constexpr ValueType kValueTypeForSeek = kTypeValue;

inline constexpr SequenceNumber kMaxSequenceNumber = ((0x1ull << 56) - 1);

struct ParsedInternalKey {
  ParsedInternalKey() = default;
  ParsedInternalKey(const Slice& u, SequenceNumber seq, ValueType t)
      : user_key(u), sequence(seq), type(t) {}
  std::string DebugString() const;

  Slice user_key;
  SequenceNumber sequence = 0;
  ValueType type = kTypeValue;
};

inline size_t InternalKeyEncodingLength(const ParsedInternalKey& key) {
  return key.user_key.size() + 8;
}

inline uint64_t PackSequenceAndType(SequenceNumber seq, ValueType t) {
  return (seq << 8) | t;
}

void AppendInternalKey(std::string* result, const ParsedInternalKey& key);

// False (and *result unspecified) when internal_key is damaged.
bool ParseInternalKey(const Slice& internal_key, ParsedInternalKey* result);

// REQUIRES: internal_key.size() >= 8
inline Slice ExtractUserKey(const Slice& internal_key) {
  return Slice(internal_key.data(), internal_key.size() - 8);
}

// Splits an internal key into its user key and packed (seq << 8 | type) tag.
// A key too short to carry a tag (only damaged input) is treated as a bare
// user key with tag 0, so that comparing it never reads out of bounds.
inline void SplitInternalKey(const Slice& ikey, Slice* user_key,
                             uint64_t* tag) {
  if (ikey.size() < 8) {
    *user_key = ikey;
    *tag = 0;
    return;
  }
  const size_t n = ikey.size() - 8;
  *user_key = Slice(ikey.data(), n);
  *tag = DecodeFixed64(ikey.data() + n);
}

// Orders internal keys; wraps the user comparator. Thread-safe.
//
// Compare is inline and the class final: it runs for every skiplist step,
// block seek and merge, so calls through an InternalKeyComparator& are not
// virtual, and a bytewise user order is a memcmp rather than a second
// virtual call.
class InternalKeyComparator final : public Comparator {
 public:
  // `c` must outlive this object.
  explicit InternalKeyComparator(const Comparator* c)
      : user_comparator_(c), user_is_bytewise_(c == BytewiseComparator()) {}
  const char* Name() const override;
  int Compare(const Slice& a, const Slice& b) const override {
    Slice ua, ub;
    uint64_t ta, tb;
    SplitInternalKey(a, &ua, &ta);
    SplitInternalKey(b, &ub, &tb);
    const int r =
        user_is_bytewise_ ? ua.compare(ub) : user_comparator_->Compare(ua, ub);
    if (r != 0) return r;
    // Larger (newer) tags first.
    return ta > tb ? -1 : (ta < tb ? +1 : 0);
  }
  void FindShortestSeparator(std::string* start,
                             const Slice& limit) const override;
  void FindShortSuccessor(std::string* key) const override;

  const Comparator* user_comparator() const { return user_comparator_; }

  int Compare(const class InternalKey& a, const class InternalKey& b) const;

 private:
  const Comparator* user_comparator_;
  const bool user_is_bytewise_;
};

// Applies a user filter policy to the user-key part of internal keys.
class InternalFilterPolicy : public FilterPolicy {
 public:
  // `p` must outlive this object.
  explicit InternalFilterPolicy(const FilterPolicy* p) : user_policy_(p) {}
  const char* Name() const override;
  void CreateFilter(const Slice* keys, int n, std::string* dst) const override;
  bool KeyMayMatch(const Slice& key, const Slice& filter) const override;

 private:
  const FilterPolicy* const user_policy_;
};

// An owned, encoded internal key.
class InternalKey {
 public:
  InternalKey() = default;  // empty: invalid
  InternalKey(const Slice& user_key, SequenceNumber s, ValueType t) {
    AppendInternalKey(&rep_, ParsedInternalKey(user_key, s, t));
  }

  // False when s is not a well-formed internal key.
  bool DecodeFrom(const Slice& s) {
    rep_.assign(s.data(), s.size());
    return !rep_.empty();
  }
  Slice Encode() const { return rep_; }
  Slice user_key() const { return ExtractUserKey(rep_); }
  void SetFrom(const ParsedInternalKey& p) {
    rep_.clear();
    AppendInternalKey(&rep_, p);
  }
  void Clear() { rep_.clear(); }
  bool empty() const { return rep_.empty(); }
  std::string DebugString() const;

 private:
  std::string rep_;
};

inline int InternalKeyComparator::Compare(const InternalKey& a,
                                          const InternalKey& b) const {
  return Compare(a.Encode(), b.Encode());
}

// The key a memtable Get looks up:
//   varint32(user_key.size() + 8) | user_key | fixed64(seq << 8 | type)
class LookupKey {
 public:
  LookupKey(const Slice& user_key, SequenceNumber sequence);
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;
  ~LookupKey();

  // The key as the memtable stores it (length-prefixed internal key).
  Slice memtable_key() const { return Slice(start_, end_ - start_); }
  Slice internal_key() const { return Slice(kstart_, end_ - kstart_); }
  Slice user_key() const { return Slice(kstart_, end_ - kstart_ - 8); }

 private:
  const char* start_;
  const char* kstart_;
  const char* end_;
  char space_[200];  // avoids allocation for short keys
};

}  // namespace ldb

#endif  // LDB_DB_DBFORMAT_H_
