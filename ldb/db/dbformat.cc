// Internal keys, their comparator and filter policy, and LookupKey.
#include "db/dbformat.h"

#include <cassert>
#include <cstring>
#include <vector>

#include "util/coding.h"
#include "util/logging.h"

namespace ldb {


std::string ParsedInternalKey::DebugString() const {
  std::string out = "'";
  AppendEscapedStringTo(&out, user_key);
  out += "' @ ";
  AppendNumberTo(&out, sequence);
  out += " : ";
  AppendNumberTo(&out, static_cast<uint64_t>(type));
  return out;
}

void AppendInternalKey(std::string* result, const ParsedInternalKey& key) {
  result->append(key.user_key.data(), key.user_key.size());
  PutFixed64(result, PackSequenceAndType(key.sequence, key.type));
}

bool ParseInternalKey(const Slice& internal_key, ParsedInternalKey* result) {
  const size_t n = internal_key.size();
  if (n < 8) {
    return false;
  }
  const uint64_t tag = DecodeFixed64(internal_key.data() + n - 8);
  const uint8_t type = static_cast<uint8_t>(tag & 0xff);
  if (type > kTypeValue) {
    return false;
  }
  result->user_key = Slice(internal_key.data(), n - 8);
  result->sequence = tag >> 8;
  result->type = static_cast<ValueType>(type);
  return true;
}

// ---------------------------------------------------------------------------
// InternalKeyComparator

const char* InternalKeyComparator::Name() const {
  return "ldb.InternalKeyComparator";
}

void InternalKeyComparator::FindShortestSeparator(std::string* start,
                                                  const Slice& limit) const {
  if (start->size() < 8 || limit.size() < 8) {
    return;  // not well-formed internal keys: leaving *start is always legal
  }
  const Slice user_start = ExtractUserKey(*start);
  const Slice user_limit = ExtractUserKey(limit);
  std::string candidate(user_start.data(), user_start.size());
  user_comparator_->FindShortestSeparator(&candidate, user_limit);
  if (candidate.size() >= user_start.size() ||
      user_comparator_->Compare(user_start, candidate) >= 0) {
    return;  // the user key did not get shorter and larger: keep *start
  }
  // The shortened user key is strictly greater than the original, so the
  // earliest possible tag for it still sorts after *start.
  PutFixed64(&candidate,
             PackSequenceAndType(kMaxSequenceNumber, kValueTypeForSeek));
  // Guard against a user comparator that breaks its contract.
  if (Compare(*start, candidate) < 0 && Compare(candidate, limit) < 0) {
    start->swap(candidate);
  }
}

void InternalKeyComparator::FindShortSuccessor(std::string* key) const {
  if (key->size() < 8) {
    return;
  }
  const Slice user_key = ExtractUserKey(*key);
  std::string candidate(user_key.data(), user_key.size());
  user_comparator_->FindShortSuccessor(&candidate);
  if (candidate.size() >= user_key.size() ||
      user_comparator_->Compare(user_key, candidate) >= 0) {
    return;
  }
  PutFixed64(&candidate,
             PackSequenceAndType(kMaxSequenceNumber, kValueTypeForSeek));
  if (Compare(*key, candidate) < 0) {
    key->swap(candidate);
  }
}

// ---------------------------------------------------------------------------
// InternalFilterPolicy

const char* InternalFilterPolicy::Name() const { return user_policy_->Name(); }

void InternalFilterPolicy::CreateFilter(const Slice* keys, int n,
                                        std::string* dst) const {
  std::vector<Slice> user_keys;
  user_keys.reserve(n > 0 ? static_cast<size_t>(n) : 0);
  for (int i = 0; i < n; i++) {
    Slice user_key;
    uint64_t tag;
    SplitInternalKey(keys[i], &user_key, &tag);
    user_keys.push_back(user_key);
  }
  user_policy_->CreateFilter(user_keys.data(), n, dst);
}

bool InternalFilterPolicy::KeyMayMatch(const Slice& key,
                                       const Slice& filter) const {
  Slice user_key;
  uint64_t tag;
  SplitInternalKey(key, &user_key, &tag);
  return user_policy_->KeyMayMatch(user_key, filter);
}

// ---------------------------------------------------------------------------
// InternalKey

std::string InternalKey::DebugString() const {
  ParsedInternalKey parsed;
  if (ParseInternalKey(rep_, &parsed)) {
    return parsed.DebugString();
  }
  return "(bad)" + EscapeString(rep_);
}

// ---------------------------------------------------------------------------
// LookupKey

LookupKey::LookupKey(const Slice& user_key, SequenceNumber sequence) {
  const size_t usize = user_key.size();
  // varint32 prefix (at most 5 bytes) + user key + 8-byte tag.
  const size_t needed = usize + 13;
  char* dst = needed <= sizeof(space_) ? space_ : new char[needed];
  start_ = dst;
  dst = EncodeVarint32(dst, static_cast<uint32_t>(usize + 8));
  kstart_ = dst;
  if (usize > 0) {
    std::memcpy(dst, user_key.data(), usize);
  }
  dst += usize;
  EncodeFixed64(dst, PackSequenceAndType(sequence, kValueTypeForSeek));
  dst += 8;
  end_ = dst;
}

LookupKey::~LookupKey() {
  if (start_ != space_) {
    delete[] start_;  // allocated by the constructor for long keys
  }
}

}  // namespace ldb
