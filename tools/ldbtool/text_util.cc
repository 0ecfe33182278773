#include "tools/ldbtool/text_util.h"

#include <algorithm>
#include <charconv>

namespace tessera::ldbtool {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool ParseU64(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string EscapeBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= ' ' && c <= '~' && c != '\\' && c != '"') {
      out.push_back(ch);
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string HexBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c >= ' ' && c <= '~') {
      out.push_back(ch);
    } else {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  out.push_back('"');
  return out;
}

Status BucketSet::Parse(std::string_view text, uint64_t bucket_limit, BucketSet* out) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  if (Trim(text).empty()) return Status::InvalidArgument("empty bucket list");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = Trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    const std::string what = "bad bucket list item '" + std::string(item) + "'";
    uint64_t lo = 0, hi = 0;
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (!ParseU64(item, &lo)) return Status::InvalidArgument(what);
      hi = lo;
    } else if (!ParseU64(Trim(item.substr(0, dash)), &lo) ||
               !ParseU64(Trim(item.substr(dash + 1)), &hi)) {
      return Status::InvalidArgument(what);
    }
    if (lo > hi) return Status::InvalidArgument(what + " (reversed range)");
    if (hi >= bucket_limit) {
      return Status::InvalidArgument(what + " (buckets must be below " +
                                     std::to_string(bucket_limit) + ")");
    }
    ranges.emplace_back(static_cast<uint32_t>(lo), static_cast<uint32_t>(hi));
  }
  std::sort(ranges.begin(), ranges.end());
  BucketSet set;
  for (const auto& r : ranges) {
    if (!set.ranges_.empty() &&
        static_cast<uint64_t>(r.first) <= static_cast<uint64_t>(set.ranges_.back().second) + 1) {
      set.ranges_.back().second = std::max(set.ranges_.back().second, r.second);
    } else {
      set.ranges_.push_back(r);
    }
  }
  *out = std::move(set);
  return Status::OK();
}

BucketSet BucketSet::Of(std::vector<uint32_t> buckets) {
  std::sort(buckets.begin(), buckets.end());
  BucketSet set;
  for (uint32_t b : buckets) {
    if (!set.ranges_.empty() &&
        static_cast<uint64_t>(b) <= static_cast<uint64_t>(set.ranges_.back().second) + 1) {
      set.ranges_.back().second = std::max(set.ranges_.back().second, b);
    } else {
      set.ranges_.emplace_back(b, b);
    }
  }
  return set;
}

bool BucketSet::Contains(uint32_t bucket) const {
  auto it = std::upper_bound(
      ranges_.begin(), ranges_.end(), bucket,
      [](uint32_t b, const std::pair<uint32_t, uint32_t>& r) { return b < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return bucket <= it->second;
}

uint64_t BucketSet::Count() const {
  uint64_t n = 0;
  for (const auto& r : ranges_) n += static_cast<uint64_t>(r.second) - r.first + 1;
  return n;
}

std::string BucketSet::ToString() const {
  std::string out;
  for (const auto& r : ranges_) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(r.first);
    if (r.second != r.first) {
      out.push_back('-');
      out += std::to_string(r.second);
    }
  }
  return out;
}

}  // namespace tessera::ldbtool
