// WriteBatch and WriteBatchInternal. The representation (also the WAL record
// body; see ldb/doc/log_format.md):
//
//   rep     := sequence fixed64 | count fixed32 | record*
//   record  := kTypeValue    varstring(key) varstring(value)
//            | kTypeDeletion varstring(key)
//   varstring := varint32(length) | bytes
//
// Iterate checks the whole representation before calling the handler, so a
// damaged batch reports Corruption without applying any of its updates.
#include "ldb/write_batch.h"

#include <cassert>

#include "db/dbformat.h"
#include "db/memtable.h"
#include "db/write_batch_internal.h"
#include "util/coding.h"

namespace ldb {

namespace {

// One decoded update.
struct Record {
  ValueType type;
  Slice key;
  Slice value;  // empty for deletions
};

// Decodes the record at the front of *input and advances it; Corruption on a
// bad tag or a truncated record.
Status DecodeRecord(Slice* input, Record* record) {
  if (input->empty()) {
    return Status::Corruption("WriteBatch record truncated");
  }
  const unsigned char tag = static_cast<unsigned char>((*input)[0]);
  input->remove_prefix(1);
  switch (tag) {
    case kTypeValue:
      record->type = kTypeValue;
      if (!GetLengthPrefixedSlice(input, &record->key) ||
          !GetLengthPrefixedSlice(input, &record->value)) {
        return Status::Corruption("bad WriteBatch Put");
      }
      return Status::OK();
    case kTypeDeletion:
      record->type = kTypeDeletion;
      record->value = Slice();
      if (!GetLengthPrefixedSlice(input, &record->key)) {
        return Status::Corruption("bad WriteBatch Delete");
      }
      return Status::OK();
    default:
      return Status::Corruption("unknown WriteBatch tag");
  }
}

// Applies each update to a memtable with consecutive sequence numbers.
// Thread-compatible; the memtable's writer rules apply.
class MemTableInserter final : public WriteBatch::Handler {
 public:
  // `mem` must outlive the inserter.
  MemTableInserter(SequenceNumber first, MemTable* mem)
      : sequence_(first), mem_(mem) {}

  void Put(const Slice& key, const Slice& value) override {
    mem_->Add(sequence_, kTypeValue, key, value);
    sequence_++;
  }
  void Delete(const Slice& key) override {
    mem_->Add(sequence_, kTypeDeletion, key, Slice());
    sequence_++;
  }

 private:
  SequenceNumber sequence_;
  MemTable* const mem_;
};

}  // namespace

WriteBatch::Handler::~Handler() = default;

WriteBatch::WriteBatch() { Clear(); }

WriteBatch::~WriteBatch() = default;

void WriteBatch::Clear() {
  rep_.clear();
  rep_.resize(WriteBatchInternal::kHeader);
}

int WriteBatch::Count() const { return WriteBatchInternal::Count(this); }

size_t WriteBatch::ApproximateSize() const { return rep_.size(); }

void WriteBatch::Put(const Slice& key, const Slice& value) {
  WriteBatchInternal::SetCount(this, WriteBatchInternal::Count(this) + 1);
  // One allocation for the record rather than one per piece appended (the
  // string still grows geometrically over many records).
  rep_.reserve(rep_.size() + 11 + key.size() + value.size());
  rep_.push_back(static_cast<char>(kTypeValue));
  PutLengthPrefixedSlice(&rep_, key);
  PutLengthPrefixedSlice(&rep_, value);
}

void WriteBatch::Delete(const Slice& key) {
  WriteBatchInternal::SetCount(this, WriteBatchInternal::Count(this) + 1);
  rep_.push_back(static_cast<char>(kTypeDeletion));
  PutLengthPrefixedSlice(&rep_, key);
}

void WriteBatch::Append(const WriteBatch& source) {
  WriteBatchInternal::Append(this, &source);
}

Status WriteBatch::Iterate(Handler* handler) const {
  if (rep_.size() < WriteBatchInternal::kHeader) {
    return Status::Corruption("malformed WriteBatch (too small)");
  }
  const Slice records(rep_.data() + WriteBatchInternal::kHeader,
                      rep_.size() - WriteBatchInternal::kHeader);
  const uint32_t expected = DecodeFixed32(rep_.data() + 8);

  // Pass 1: validate everything, so that damage applies nothing.
  Slice input = records;
  uint32_t found = 0;
  Record record;
  while (!input.empty()) {
    Status s = DecodeRecord(&input, &record);
    if (!s.ok()) {
      return s;
    }
    found++;
  }
  if (found != expected) {
    return Status::Corruption("WriteBatch has wrong count");
  }

  // Pass 2: apply. Decoding cannot fail now.
  input = records;
  while (!input.empty()) {
    Status s = DecodeRecord(&input, &record);
    assert(s.ok());
    s.IgnoreError();
    if (record.type == kTypeValue) {
      handler->Put(record.key, record.value);
    } else {
      handler->Delete(record.key);
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------
// WriteBatchInternal

int WriteBatchInternal::Count(const WriteBatch* batch) {
  assert(batch->rep_.size() >= kHeader);
  return static_cast<int>(DecodeFixed32(batch->rep_.data() + 8));
}

void WriteBatchInternal::SetCount(WriteBatch* batch, int n) {
  assert(batch->rep_.size() >= kHeader);
  EncodeFixed32(&batch->rep_[8], static_cast<uint32_t>(n));
}

SequenceNumber WriteBatchInternal::Sequence(const WriteBatch* batch) {
  assert(batch->rep_.size() >= kHeader);
  return DecodeFixed64(batch->rep_.data());
}

void WriteBatchInternal::SetSequence(WriteBatch* batch, SequenceNumber seq) {
  assert(batch->rep_.size() >= kHeader);
  EncodeFixed64(&batch->rep_[0], seq);
}

Status WriteBatchInternal::SetContents(WriteBatch* batch,
                                       const Slice& contents) {
  if (contents.size() < kHeader) {
    return Status::Corruption("malformed WriteBatch (too small)");
  }
  batch->rep_.assign(contents.data(), contents.size());
  return Status::OK();
}

Status WriteBatchInternal::InsertInto(const WriteBatch* batch,
                                      MemTable* memtable) {
  MemTableInserter inserter(Sequence(batch), memtable);
  return batch->Iterate(&inserter);
}

void WriteBatchInternal::Append(WriteBatch* dst, const WriteBatch* src) {
  assert(src->rep_.size() >= kHeader);
  SetCount(dst, Count(dst) + Count(src));
  dst->rep_.append(src->rep_.data() + kHeader, src->rep_.size() - kHeader);
}

}  // namespace ldb
