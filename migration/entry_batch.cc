#include "migration/entry_batch.h"

#include "util/coding.h"

namespace tessera::migration {

namespace {

constexpr uint8_t kRemovedFlag = 1;
// flags + three fixed32: the fixed-width part of an entry.
constexpr size_t kFixedBytes = 1 + 3 * 4;

Status Cut(size_t index, const char* what) {
  return Status::InvalidArgument("packed migration entry " + std::to_string(index) + ": " +
                                 what);
}

// Reads a varint32 length and that many bytes from [*p, limit).
bool GetBytes(const char** p, const char* limit, std::string_view* out) {
  uint32_t n = 0;
  const char* q = ldb::GetVarint32Ptr(*p, limit, &n);
  if (q == nullptr || static_cast<size_t>(limit - q) < n) return false;
  *out = std::string_view(q, n);
  *p = q + n;
  return true;
}

}  // namespace

void EntryBatch::Add(const MigratedEntryView& e) {
  packed_.push_back(static_cast<char>(e.removed ? kRemovedFlag : 0));
  ldb::PutVarint32(&packed_, e.area);
  ldb::PutVarint32(&packed_, e.version);
  ldb::PutFixed32(&packed_, e.expire_at);
  ldb::PutFixed32(&packed_, e.created);
  ldb::PutFixed32(&packed_, e.modified);
  ldb::PutLengthPrefixedSlice(&packed_, ldb::Slice(e.key.data(), e.key.size()));
  ldb::PutLengthPrefixedSlice(&packed_, ldb::Slice(e.value.data(), e.value.size()));
  ++count_;
}

void EntryBatch::TakePacked(std::string* out) {
  out->swap(packed_);
  Clear();
}

void EntryBatch::Recycle(std::string* buffer) {
  if (buffer->capacity() > packed_.capacity()) packed_.swap(*buffer);
  buffer->clear();
  Clear();
}

void EntryBatch::Clear() {
  packed_.clear();
  count_ = 0;
}

Status DecodeEntryBatch(std::string_view packed, std::vector<MigratedEntryView>* out) {
  out->clear();
  const char* p = packed.data();
  const char* const limit = p + packed.size();
  while (p < limit) {
    const size_t index = out->size();
    MigratedEntryView e;
    const auto flags = static_cast<uint8_t>(*p++);
    if ((flags & ~kRemovedFlag) != 0) return Cut(index, "unknown flag bits");
    e.removed = (flags & kRemovedFlag) != 0;
    p = ldb::GetVarint32Ptr(p, limit, &e.area);
    if (p != nullptr) p = ldb::GetVarint32Ptr(p, limit, &e.version);
    if (p == nullptr || static_cast<size_t>(limit - p) < kFixedBytes - 1) {
      return Cut(index, "cut short in its meta");
    }
    e.expire_at = ldb::DecodeFixed32(p);
    e.created = ldb::DecodeFixed32(p + 4);
    e.modified = ldb::DecodeFixed32(p + 8);
    p += kFixedBytes - 1;
    if (!GetBytes(&p, limit, &e.key)) return Cut(index, "cut short in its key");
    if (!GetBytes(&p, limit, &e.value)) return Cut(index, "cut short in its value");
    out->push_back(e);
  }
  return Status::OK();
}

void ViewEntries(const google::protobuf::RepeatedPtrField<proto::MigratedEntry>& entries,
                 std::vector<MigratedEntryView>* out) {
  out->clear();
  out->reserve(static_cast<size_t>(entries.size()));
  for (const proto::MigratedEntry& m : entries) {
    MigratedEntryView e;
    e.area = m.area();
    e.key = m.key();
    e.value = m.value();
    e.version = m.version();
    e.expire_at = m.expire_at();
    e.created = m.created();
    e.modified = m.modified();
    e.removed = m.removed();
    out->push_back(e);
  }
}

}  // namespace tessera::migration
