// TableFile: the bucket table a data server applied last, and the identity it
// applied it under, remembered in the data directory (next to ldb's files), so that
// offline tools (`ldbtool check-buckets`) know which buckets this node holds and a
// restarted server can tell whether its data directory was used under another
// identity or by another cluster.
//
// File DATA_DIR/BUCKET_TABLE (kFileName). ldb never deletes it: ldb removes only the
// files its ParseFileName recognizes (CURRENT, LOCK, LOG, LOG.old, MANIFEST-N, N.log,
// N.ldb, N.dbtmp), and neither kFileName nor kTempFileName is one of them. Format,
// little-endian:
//
//   offset 0   8 bytes   magic "TSTABLE1"
//   offset 8   fixed32   payload length N
//   offset 12  fixed32   masked crc32c of the payload (ldb/util/crc32c.h Mask)
//   offset 16  N bytes   payload:
//                          fixed32  address length A (1..kMaxAddressBytes)
//                          A bytes  the data server's identity ("host:port")
//                          rest     a serialized proto::Table (common/proto/cluster.proto)
//
// The file is exactly 16 + N bytes. Write replaces it atomically: the bytes go to
// kTempFileName, which is fsynced and renamed over kFileName, then the directory is
// fsynced; a crash leaves the old file or the new one, never a mix. Read checks
// everything (size bound, magic, length, checksum, address, table validity via
// BucketTable::FromProto) and never trusts the disk.
//
// Stateless functions: thread-safe as long as two threads do not write one directory
// at once (the data server writes under its table-install lock).
#ifndef TESSERA_DATASERVER_TABLE_FILE_H_
#define TESSERA_DATASERVER_TABLE_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bucket_table.h"
#include "common/status.h"

namespace ldb {
class Env;
}  // namespace ldb

namespace tessera::ds {

class TableFile {
 public:
  static constexpr const char* kFileName = "BUCKET_TABLE";
  static constexpr const char* kTempFileName = "BUCKET_TABLE.tmp";
  static constexpr size_t kHeaderBytes = 16;
  static constexpr size_t kMaxAddressBytes = 1024;
  // The largest file Read accepts (a table of 2^20 copies is about 5 MiB).
  static constexpr uint64_t kMaxFileBytes = 64u << 20;

  struct Contents {
    std::string self_address;
    std::shared_ptr<const BucketTable> table;
  };

  // The file's bytes. REQUIRES: 1 <= self_address.size() <= kMaxAddressBytes.
  static std::string Encode(std::string_view self_address, const BucketTable& table);
  // Parses a file's bytes. Internal "... corrupt: <why>" for anything malformed.
  static Status Decode(std::string_view bytes, Contents* out);

  // Replaces dir/kFileName atomically (see the file comment). Internal on I/O
  // errors, InvalidArgument for a bad address.
  static Status Write(ldb::Env* env, const std::string& dir, std::string_view self_address,
                      const BucketTable& table);
  // Reads dir/kFileName. NotFound when there is none; Internal when it cannot be
  // read or is corrupt (the message names the file and the damage).
  static Status Read(ldb::Env* env, const std::string& dir, Contents* out);

  static std::string Path(const std::string& dir) { return dir + "/" + kFileName; }
};

// The buckets `address` holds in `table` (any copy, master or replica), ascending;
// with `with_incoming`, also the buckets a running migration plans to it. Empty
// when `address` is not listed.
std::vector<uint32_t> HeldBuckets(const BucketTable& table, std::string_view address,
                                  bool with_incoming);

}  // namespace tessera::ds

#endif  // TESSERA_DATASERVER_TABLE_FILE_H_
