//===- Masks.h - Lane masks and indices for masked and strided loads ------===//
//
// One definition for the kernels that read a run of pixels under a mask
// or every second float (the implicit GEMM's packing, the direct
// convolution, pooling).
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_UKERNELS_MASKS_H
#define FLASH_RUNTIME_UKERNELS_MASKS_H

#include <immintrin.h>

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

/// ceil(a / s) for a stride s > 0 and a of either sign, with no division
/// for 1 and the powers of two: the packers work one out per tap and run,
/// and a 64-bit divide is ~40 cycles (ViT's 16x16/16 patch embedding spent
/// more time in them than in copying its patches).
inline int64_t ceilDivStride(int64_t a, int64_t s) {
  if ((s & (s - 1)) == 0) {
    int shift = __builtin_ctzll(static_cast<uint64_t>(s));
    return a >= 0 ? (a + s - 1) >> shift : -((-a) >> shift);
  }
  return a >= 0 ? (a + s - 1) / s : -((-a) / s);
}

/// The _mm512_permutex2var_ps indices of the floats 2t + phase (t < 16)
/// of two concatenated 16-float vectors: phase 0 the even ones, 1 the odd
/// ones (a stride-2 row's pixels).
__attribute__((target("avx512f"))) inline __m512i strideTwoLanes(int phase) {
  return _mm512_add_epi32(_mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14,
                                           12, 10, 8, 6, 4, 2, 0),
                          _mm512_set1_epi32(phase));
}
} // namespace flash::runtime

#endif // FLASH_RUNTIME_UKERNELS_MASKS_H
