//===- Masks.h - Lane masks for the ukernels' masked loads and stores -----===//
//
// One definition for the kernels that read a run of pixels under a mask
// (the implicit GEMM's packing, the direct convolution).
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_UKERNELS_MASKS_H
#define FLASH_RUNTIME_UKERNELS_MASKS_H

#include <algorithm>
#include <cstdint>

namespace flash::runtime {
/// Bits [lo, hi) of a 64-bit mask (clamped to [0, 64)).
inline uint64_t bitRange(int64_t lo, int64_t hi) {
  lo = std::max<int64_t>(lo, 0), hi = std::min<int64_t>(hi, 64);
  if (hi <= lo)
    return 0;
  uint64_t upTo = hi == 64 ? ~0ull : (1ull << hi) - 1;
  return upTo & ~((1ull << lo) - 1);
}
} // namespace flash::runtime

#endif // FLASH_RUNTIME_UKERNELS_MASKS_H
