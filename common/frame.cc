#include "common/frame.h"

#include <google/protobuf/message_lite.h>

#include <algorithm>
#include <cstring>

namespace tessera {

namespace {
// The least a buffer grows by while a large frame arrives.
constexpr size_t kGrowStepBytes = 64u << 10;
// A buffer up to kKeepBytes is always kept; one up to kKeepLargeBytes while large
// frames come (bounding what an idle connection holds).
constexpr size_t kKeepBytes = 1u << 20;
constexpr size_t kKeepLargeBytes = 4u << 20;
// Small frames in a row after which a buffer over kKeepBytes is given back.
constexpr uint32_t kSmallFramesBeforeRelease = 64;
}  // namespace

bool AppendFrame(const google::protobuf::MessageLite& msg, size_t max_frame_bytes,
                 std::string* out) {
  const size_t size = msg.ByteSizeLong();
  if (size > max_frame_bytes || size > UINT32_MAX) return false;
  const size_t old = out->size();
  out->resize(old + kFrameHeaderBytes + size);
  auto* p = reinterpret_cast<uint8_t*>(out->data() + old);
  p[0] = static_cast<uint8_t>(size >> 24);
  p[1] = static_cast<uint8_t>(size >> 16);
  p[2] = static_cast<uint8_t>(size >> 8);
  p[3] = static_cast<uint8_t>(size);
  msg.SerializeWithCachedSizesToArray(p + kFrameHeaderBytes);
  return true;
}

char* FrameReader::WritableData(size_t min_bytes) {
  if (start_ == end_) {
    start_ = end_ = 0;
    if (capacity_ > kKeepBytes && want_ == 0 &&
        (capacity_ > kKeepLargeBytes || small_frames_ >= kSmallFramesBeforeRelease)) {
      Reset();
    }
  }
  // Room for the rest of the frame being read, but grown with the bytes that have
  // arrived (about doubling), not with the length the header claims: a peer must send
  // the bytes it makes us hold (a 4-byte header must not cost max_frame_bytes).
  const size_t avail = end_ - start_;
  size_t need = min_bytes;
  if (want_ > avail) {
    need = std::max(need, std::min(want_ - avail, std::max<size_t>(avail, kGrowStepBytes)));
  }
  // A frame that will not fit where it starts is moved to the front while little of
  // it has arrived, not once most of it has.
  const bool move_early = start_ > 0 && want_ > capacity_ - start_ && avail <= kGrowStepBytes;
  if (!move_early && capacity_ - end_ >= need) return buf_.get() + end_;
  bytes_moved_ += avail;
  if (avail + need <= capacity_) {
    std::memmove(buf_.get(), buf_.get() + start_, avail);
  } else {
    const size_t capacity = std::max(capacity_ * 2, avail + need);
    // new char[] leaves the bytes uninitialized: they are read into before use.
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (avail > 0) std::memcpy(grown.get(), buf_.get() + start_, avail);
    buf_ = std::move(grown);
    capacity_ = capacity;
  }
  start_ = 0;
  end_ = avail;
  return buf_.get() + end_;
}

size_t FrameReader::WritableSize() const {
  const size_t room = capacity_ - end_;
  const size_t avail = end_ - start_;
  // Stopping at a large frame's end means the next read starts in an emptied buffer
  // (back at offset 0), instead of leaving most of the next frame to be moved there.
  if (want_ > avail && want_ - avail >= kGrowStepBytes) return std::min(room, want_ - avail);
  return std::min(room, kGrowStepBytes);
}

FrameReader::Result FrameReader::Next(std::string_view* payload) {
  const size_t avail = end_ - start_;
  if (want_ == 0) {
    if (avail < kFrameHeaderBytes) return Result::kNeedMore;
    const auto* p = reinterpret_cast<const uint8_t*>(buf_.get() + start_);
    uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    if (len == 0 || len > max_frame_bytes_) {
      bad_length_ = len;
      return Result::kBadLength;
    }
    want_ = kFrameHeaderBytes + len;
  }
  if (avail < want_) return Result::kNeedMore;
  *payload = std::string_view(buf_.get() + start_ + kFrameHeaderBytes, want_ - kFrameHeaderBytes);
  start_ += want_;
  small_frames_ = want_ < capacity_ / 4 ? small_frames_ + 1 : 0;
  want_ = 0;
  return Result::kFrame;
}

}  // namespace tessera
