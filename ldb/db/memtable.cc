// MemTable: a skiplist of length-prefixed entries stored in an arena.
//
// Entry layout (stored inside its skiplist node, one allocation per Add):
//   varint32(internal key length) | internal key | varint32(value length) |
//   value
// where internal key = user key | fixed64(seq << 8 | type).
#include "db/memtable.h"

#include <cassert>
#include <cstring>

#include "db/read_hooks.h"
#include "db/skiplist.h"
#include "util/arena.h"
#include "util/coding.h"

namespace ldb {

namespace {

// Decodes the length-prefixed slice at p. Entries were written by Add, so the
// prefix is trusted (5 bytes is the longest varint32).
Slice GetLengthPrefixed(const char* p) {
  uint32_t len = 0;
  const char* q = GetVarint32Ptr(p, p + 5, &len);
  assert(q != nullptr);
  return Slice(q, len);
}

// Orders arena entries by their internal keys. Thread-safe.
struct EntryComparator {
  explicit EntryComparator(const InternalKeyComparator& c) : icmp(c) {}
  int operator()(const char* a, const char* b) const {
    return icmp.Compare(GetLengthPrefixed(a), GetLengthPrefixed(b));
  }
  const InternalKeyComparator icmp;
};

using Table = SkipList<const char*, EntryComparator>;

// Iterator over a memtable's entries; key() is the internal key.
// Thread-compatible.
class MemTableIterator final : public Iterator {
 public:
  // `table` must outlive the iterator.
  explicit MemTableIterator(const Table* table) : iter_(table) {}

  bool Valid() const override { return iter_.Valid(); }
  void Seek(const Slice& internal_key) override {
    seek_buf_.clear();
    PutVarint32(&seek_buf_, static_cast<uint32_t>(internal_key.size()));
    seek_buf_.append(internal_key.data(), internal_key.size());
    iter_.Seek(seek_buf_.data());
  }
  void SeekToFirst() override { iter_.SeekToFirst(); }
  void SeekToLast() override { iter_.SeekToLast(); }
  void Next() override { iter_.Next(); }
  void Prev() override { iter_.Prev(); }
  Slice key() const override { return GetLengthPrefixed(iter_.key()); }
  Slice value() const override {
    const Slice k = GetLengthPrefixed(iter_.key());
    return GetLengthPrefixed(k.data() + k.size());
  }
  Status status() const override { return Status::OK(); }

 private:
  Table::Iterator iter_;
  std::string seek_buf_;  // encoded target of the last Seek
};

}  // namespace

struct MemTable::Rep {
  explicit Rep(const InternalKeyComparator& c)
      : comparator(c), table(comparator, &arena) {}

  EntryComparator comparator;
  Arena arena;
  Table table;  // nodes live in arena
};

MemTable::MemTable(const InternalKeyComparator& comparator)
    : rep_(std::make_unique<Rep>(comparator)) {}

MemTable::~MemTable() { assert(refs_.load() == 0); }

void MemTable::Unref() {
  const int before = refs_.fetch_sub(1, std::memory_order_acq_rel);
  assert(before >= 1);
  if (before == 1) {
    delete this;  // the last reference owns the memtable
  }
}

size_t MemTable::ApproximateMemoryUsage() { return rep_->arena.MemoryUsage(); }

std::unique_ptr<Iterator> MemTable::NewIterator() {
  return std::make_unique<MemTableIterator>(&rep_->table);
}

void MemTable::Add(SequenceNumber seq, ValueType type, const Slice& key,
                   const Slice& value) {
  const size_t key_size = key.size();
  const size_t value_size = value.size();
  const size_t internal_key_size = key_size + 8;
  const size_t encoded_len = VarintLength(internal_key_size) +
                             internal_key_size + VarintLength(value_size) +
                             value_size;
  Table::Prepared prepared;
  char* buf = rep_->table.Prepare(encoded_len, &prepared);
  char* p = EncodeVarint32(buf, static_cast<uint32_t>(internal_key_size));
  if (key_size > 0) {
    std::memcpy(p, key.data(), key_size);
  }
  p += key_size;
  EncodeFixed64(p, PackSequenceAndType(seq, type));
  p += 8;
  p = EncodeVarint32(p, static_cast<uint32_t>(value_size));
  if (value_size > 0) {
    std::memcpy(p, value.data(), value_size);
  }
  assert(p + value_size == buf + encoded_len);
  rep_->table.InsertPrepared(prepared);
  num_entries_.fetch_add(1, std::memory_order_relaxed);
}

bool MemTable::Get(const LookupKey& key, std::string* value, Status* s,
                   SequenceNumber* found_seq) {
  return GetImpl(key, nullptr, 0, value, s, found_seq);
}

bool MemTable::Get(const LookupKey& key, uint64_t now_seconds,
                   std::string* value, Status* s, SequenceNumber* found_seq) {
  return GetImpl(key, rep_->comparator.icmp.user_comparator(), now_seconds,
                 value, s, found_seq);
}

bool MemTable::GetImpl(const LookupKey& key, const Comparator* hooks,
                       uint64_t now_seconds, std::string* value, Status* s,
                       SequenceNumber* found_seq) {
  Table::Iterator iter(&rep_->table);
  iter.Seek(key.memtable_key().data());
  if (!iter.Valid()) {
    return false;
  }
  // The first entry >= (user key, seq) is the newest version at or below seq
  // if its user key matches; otherwise there is none.
  const Slice internal_key = GetLengthPrefixed(iter.key());
  const Slice user_key = ExtractUserKey(internal_key);
  if (rep_->comparator.icmp.user_comparator()->Compare(user_key,
                                                       key.user_key()) != 0) {
    return false;
  }
  const uint64_t tag =
      DecodeFixed64(internal_key.data() + internal_key.size() - 8);
  const SequenceNumber seq = tag >> 8;
  if (found_seq != nullptr) {
    *found_seq = seq;
  }
  const auto type = static_cast<ValueType>(tag & 0xff);
  if (hooks != nullptr &&
      EntryHidesKey(hooks, type, user_key, seq, now_seconds)) {
    // Reclaimed or expired (the hooks look at the key as stored, e.g. its
    // expire bytes): hides the key like a deletion.
    *s = Status::NotFound(Slice());
    return true;
  }
  switch (type) {
    case kTypeValue: {
      const Slice v =
          GetLengthPrefixed(internal_key.data() + internal_key.size());
      value->assign(v.data(), v.size());
      *s = Status::OK();
      return true;
    }
    case kTypeDeletion:
      *s = Status::NotFound(Slice());
      return true;
  }
  // Add only stores the types above.
  assert(false);
  return false;
}

}  // namespace ldb
