// Length-prefixed frames: a 4-byte big-endian payload length, then the payload (one
// serialized protobuf message). A zero length or one above the connection's maximum
// is a protocol error: the connection is closed.
#ifndef TESSERA_COMMON_FRAME_H_
#define TESSERA_COMMON_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace google::protobuf {
class MessageLite;
}

namespace tessera {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kDefaultMaxFrameBytes = 16u << 20;

// Appends one frame carrying `msg` to *out. Returns false (appending nothing) when the
// serialized message would exceed max_frame_bytes.
bool AppendFrame(const google::protobuf::MessageLite& msg, size_t max_frame_bytes,
                 std::string* out);

// Accumulates bytes read from a stream and cuts them into frames.
// Thread-compatible (one per connection, used on its strand).
//
// Memory: the buffer grows with the bytes that arrive (never with the length a header
// claims), and is never zeroed. A buffer grown past 1 MiB, up to 4 MiB, is kept while
// large frames keep coming: a migration stream sends ~1 MiB batches back to back, and
// giving the buffer back after each one cost ~1 ms of zeroing, page faults and regrowth
// copies per frame on the request thread. It is given back once it empties after 64
// frames in a row under a quarter of its size; a larger buffer once it empties.
//
// Copies: a read never runs past the end of a large frame being read (at most 64 KiB
// past a small one), so the tail moved to the buffer's front to make room is small.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  // Space to read into: at least `min_bytes`, more when a large frame is being read.
  char* WritableData(size_t min_bytes = 16384);
  size_t WritableSize() const;
  // Marks n bytes of the writable space as received.
  void Commit(size_t n) { end_ += n; }

  enum class Result { kFrame, kNeedMore, kBadLength };
  // On kFrame sets *payload to the next frame's payload, valid until the next
  // WritableData(); kBadLength means a zero or oversize length (close the stream).
  Result Next(std::string_view* payload);

  // True when some bytes of an incomplete frame are buffered.
  bool InPartialFrame() const { return end_ > start_; }
  // Drops everything buffered (the stream was closed).
  void Reset() {
    buf_.reset();
    capacity_ = start_ = end_ = want_ = 0;
    small_frames_ = 0;
  }
  uint32_t bad_length() const { return bad_length_; }
  // Bytes of memory the buffer holds.
  size_t capacity() const { return capacity_; }
  // Bytes copied inside the buffer so far (moved to its front, or into a grown one).
  uint64_t bytes_moved() const { return bytes_moved_; }

 private:
  const size_t max_frame_bytes_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last received byte
  size_t want_ = 0;   // bytes the frame at start_ needs in total (0 = header not read)
  uint32_t small_frames_ = 0;  // frames in a row under a quarter of capacity_
  uint32_t bad_length_ = 0;
  uint64_t bytes_moved_ = 0;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_FRAME_H_
