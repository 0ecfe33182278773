#include "common/address.h"

#include <charconv>

namespace tessera {

Status ParseHostPort(std::string_view text, HostPort* out) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("address " + quoted + " is not host:port");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("address " + quoted + ": write IPv6 hosts as [addr]:port");
  }
  if (host.empty()) return Status::InvalidArgument("address " + quoted + " has no host");
  for (char c : host) {
    if (c <= ' ' || c == ',' || c == '/' || c == 0x7f) {
      return Status::InvalidArgument("address " + quoted + " has a bad character in the host");
    }
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return Status::InvalidArgument("address " + quoted + ": port must be 1..65535");
  }
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(port);
  return Status::OK();
}

Status ParseHostPortList(std::string_view text, std::vector<HostPort>* out) {
  out->clear();
  if (text.empty()) return Status::InvalidArgument("empty address list");
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    HostPort hp;
    Status s = ParseHostPort(item, &hp);
    if (!s.ok()) return s;
    out->push_back(std::move(hp));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::OK();
}

}  // namespace tessera
