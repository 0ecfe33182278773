#include "dataserver/table_file.h"

#include <cstring>
#include <utility>

#include "ldb/env.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace tessera::ds {

namespace {

constexpr char kMagic[8] = {'T', 'S', 'T', 'A', 'B', 'L', 'E', '1'};

Status Corrupt(const std::string& why) {
  return Status::Internal(std::string(TableFile::kFileName) + " is corrupt: " + why);
}

}  // namespace

std::string TableFile::Encode(std::string_view self_address, const BucketTable& table) {
  std::string payload;
  ldb::PutFixed32(&payload, static_cast<uint32_t>(self_address.size()));
  payload.append(self_address);
  table.proto().AppendToString(&payload);
  std::string out(kMagic, sizeof(kMagic));
  ldb::PutFixed32(&out, static_cast<uint32_t>(payload.size()));
  ldb::PutFixed32(&out, ldb::crc32c::Mask(ldb::crc32c::Value(payload.data(), payload.size())));
  out += payload;
  return out;
}

Status TableFile::Decode(std::string_view bytes, Contents* out) {
  if (bytes.size() < kHeaderBytes) {
    return Corrupt(std::to_string(bytes.size()) + " bytes, shorter than its header");
  }
  if (bytes.size() > kMaxFileBytes) return Corrupt("larger than " + std::to_string(kMaxFileBytes));
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return Corrupt("bad magic");
  const uint32_t length = ldb::DecodeFixed32(bytes.data() + 8);
  if (uint64_t{length} + kHeaderBytes != bytes.size()) {
    return Corrupt("payload length " + std::to_string(length) + " but " +
                   std::to_string(bytes.size() - kHeaderBytes) + " payload bytes");
  }
  const std::string_view payload = bytes.substr(kHeaderBytes);
  const uint32_t want = ldb::crc32c::Unmask(ldb::DecodeFixed32(bytes.data() + 12));
  if (ldb::crc32c::Value(payload.data(), payload.size()) != want) {
    return Corrupt("checksum mismatch");
  }
  if (payload.size() < 4) return Corrupt("no address");
  const uint32_t address_bytes = ldb::DecodeFixed32(payload.data());
  if (address_bytes == 0 || address_bytes > kMaxAddressBytes ||
      address_bytes > payload.size() - 4) {
    return Corrupt("bad address length " + std::to_string(address_bytes));
  }
  Contents c;
  c.self_address.assign(payload.substr(4, address_bytes));
  const std::string_view table_bytes = payload.substr(4 + address_bytes);
  proto::Table t;
  if (!t.ParseFromArray(table_bytes.data(), static_cast<int>(table_bytes.size()))) {
    return Corrupt("the table does not parse");
  }
  Status s = BucketTable::FromProto(std::move(t), &c.table);
  if (!s.ok()) return Corrupt(s.message());
  *out = std::move(c);
  return Status::OK();
}

Status TableFile::Write(ldb::Env* env, const std::string& dir, std::string_view self_address,
                        const BucketTable& table) {
  if (self_address.empty() || self_address.size() > kMaxAddressBytes) {
    return Status::InvalidArgument("table file: bad address '" + std::string(self_address) + "'");
  }
  const std::string bytes = Encode(self_address, table);
  const std::string tmp = dir + "/" + kTempFileName;
  ldb::Status ls = ldb::WriteStringToFileSync(env, bytes, tmp);
  if (ls.ok()) ls = env->RenameFile(tmp, Path(dir));
  if (ls.ok()) ls = env->SyncDir(dir);
  if (!ls.ok()) {
    env->RemoveFile(tmp).IgnoreError();
    return Status::Internal("cannot write " + Path(dir) + ": " + ls.ToString());
  }
  return Status::OK();
}

Status TableFile::Read(ldb::Env* env, const std::string& dir, Contents* out) {
  const std::string path = Path(dir);
  if (!env->FileExists(path)) return Status::NotFound(path + " does not exist");
  uint64_t size = 0;
  ldb::Status ls = env->GetFileSize(path, &size);
  if (!ls.ok()) return Status::Internal("cannot read " + path + ": " + ls.ToString());
  if (size > kMaxFileBytes) {
    return Status::Internal(path + " is corrupt: " + std::to_string(size) + " bytes, larger than " +
                            std::to_string(kMaxFileBytes));
  }
  std::string bytes;
  ls = ldb::ReadFileToString(env, path, &bytes);
  if (!ls.ok()) return Status::Internal("cannot read " + path + ": " + ls.ToString());
  Status s = Decode(bytes, out);
  if (!s.ok()) return Status::Internal(dir + "/" + s.message());
  return Status::OK();
}

std::vector<uint32_t> HeldBuckets(const BucketTable& table, std::string_view address,
                                  bool with_incoming) {
  std::vector<uint32_t> held;
  const int self = table.ServerIndex(address);
  if (self < 0) return held;
  const auto self_index = static_cast<uint32_t>(self);
  auto in = [&](std::span<const uint32_t> copies) {
    for (uint32_t c : copies) {
      if (c == self_index) return true;
    }
    return false;
  };
  const bool incoming = with_incoming && table.migrating();
  for (uint32_t b = 0; b < table.bucket_count(); ++b) {
    if (in(table.Copies(b)) || (incoming && in(table.DestinationCopies(b)))) held.push_back(b);
  }
  return held;
}

}  // namespace tessera::ds
