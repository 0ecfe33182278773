#include "common/cluster_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/address.h"

namespace tessera {
namespace {

class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorCollector(std::string_view origin) : origin_(origin) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    first_ = origin_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) +
             ": " + message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string origin_;
  std::string first_;
};

}  // namespace

Status ValidateClusterConfig(proto::ClusterConfig* c) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument("cluster config: " + m); };
  if (c->cluster_name().empty()) return bad("cluster_name is required");
  if (!c->has_bucket_count()) c->set_bucket_count(kDefaultBucketCount);
  if (c->bucket_count() == 0 || c->bucket_count() > kMaxBucketCount) {
    return bad("bucket_count must be 1.." + std::to_string(kMaxBucketCount));
  }
  if (!c->has_copy_count()) c->set_copy_count(1);
  if (c->copy_count() == 0 || c->copy_count() > kMaxCopyCount) {
    return bad("copy_count must be 1.." + std::to_string(kMaxCopyCount));
  }
  std::set<std::string> seen;
  for (const std::string& addr : c->data_servers()) {
    HostPort hp;
    Status s = ParseHostPort(addr, &hp);
    if (!s.ok()) return bad("data_servers: " + s.message());
    if (!seen.insert(hp.ToString()).second) return bad("data_servers: " + addr + " listed twice");
  }
  // The table carries bucket_count * copy_count owner entries and must fit in a frame
  // (twice over while a migration carries destination_owners): cap the product.
  if (uint64_t{c->bucket_count()} * c->copy_count() > kMaxTableCopies) {
    return bad("bucket_count * copy_count must be at most " + std::to_string(kMaxTableCopies) +
               " (the table must fit in one frame)");
  }
  if (!c->has_min_data_server_count()) c->set_min_data_server_count(c->copy_count());
  if (c->min_data_server_count() < c->copy_count()) {
    return bad("min_data_server_count (" + std::to_string(c->min_data_server_count()) +
               ") must be at least copy_count (" + std::to_string(c->copy_count()) + ")");
  }
  if (!c->has_heartbeat_interval_ms()) c->set_heartbeat_interval_ms(kDefaultHeartbeatIntervalMs);
  if (c->heartbeat_interval_ms() < 10 || c->heartbeat_interval_ms() > 60000) {
    return bad("heartbeat_interval_ms must be 10..60000");
  }
  if (!c->has_server_down_time_ms()) c->set_server_down_time_ms(kDefaultServerDownTimeMs);
  if (c->server_down_time_ms() < 2 * c->heartbeat_interval_ms()) {
    return bad("server_down_time_ms must be at least twice heartbeat_interval_ms");
  }
  std::set<uint32_t> areas;
  for (const proto::AreaQuota& q : c->area_quotas()) {
    if (q.area() > kMaxArea) return bad("area_quotas: area " + std::to_string(q.area()) + " > 65535");
    if (!areas.insert(q.area()).second) {
      return bad("area_quotas: area " + std::to_string(q.area()) + " listed twice");
    }
  }
  if (c->admin_token().empty()) return bad("admin_token is required");
  return Status::OK();
}

Status ParseClusterConfig(std::string_view text, std::string_view origin,
                          proto::ClusterConfig* out) {
  out->Clear();
  ErrorCollector errors(origin);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), out)) {
    return Status::InvalidArgument(errors.first().empty() ? std::string(origin) + ": parse error"
                                                          : errors.first());
  }
  Status s = ValidateClusterConfig(out);
  if (!s.ok()) return Status::InvalidArgument(std::string(origin) + ": " + s.message());
  return Status::OK();
}

Status LoadClusterConfig(const std::string& path, proto::ClusterConfig* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read cluster config " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument("error reading cluster config " + path);
  return ParseClusterConfig(buf.str(), path, out);
}

}  // namespace tessera
