// Dataset: the keys and values of the migration benchmark. Key i is "mb" followed by
// i as 12 decimal digits; values are slices of a pseudo-random buffer (incompressible,
// so the bytes loaded are the bytes on disk and on the wire).
// Thread-safety: const after construction; safe from any thread.
#ifndef TESSERA_TOOLS_MIGRATION_BENCH_DATASET_H_
#define TESSERA_TOOLS_MIGRATION_BENCH_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::mbench {

class Dataset {
 public:
  static constexpr size_t kKeyBytes = 14;

  // REQUIRES: value_size > 0, keys > 0.
  Dataset(uint64_t keys, size_t value_size, uint64_t seed);

  uint64_t keys() const { return keys_; }
  size_t value_size() const { return value_size_; }
  // User bytes (key + value) of the whole data set.
  uint64_t total_bytes() const { return keys_ * (kKeyBytes + value_size_); }

  static std::string Key(uint64_t i);
  // A value for key i; `salt` picks another slice (an overwrite). Points into the
  // dataset's buffer: valid while the Dataset lives.
  std::string_view Value(uint64_t i, uint64_t salt) const;

 private:
  const uint64_t keys_;
  const size_t value_size_;
  std::string buffer_;
};

}  // namespace tessera::mbench

#endif  // TESSERA_TOOLS_MIGRATION_BENCH_DATASET_H_
