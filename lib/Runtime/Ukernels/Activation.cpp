//===- Activation.cpp - An epilogue's activation over a block of rows ----===//
//
// What SgemmEpilogue::activate runs on a tile once its epilogue has stored
// it (still in L1), and the depthwise ukernel on a plane or strip it has
// just written: the microkernels keep one in-register epilogue form (adds
// and the clamp) and the activation follows, 16 lanes wide where the CPU
// has AVX-512 (twice the elements per instruction of 8-lane code).
//
//===----------------------------------------------------------------------===//
#include "Activation.h"

using namespace flash::runtime;

namespace {
__attribute__((target("avx2,fma"))) void
activateRowsAvx2(float *out, int64_t ld, int64_t rows, int64_t cols,
                 Activation a) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = out + r * ld;
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
      _mm256_storeu_ps(row + j, activateAvx2(_mm256_loadu_ps(row + j), a));
    if (j < cols) { // the last 1-7 through a buffer: no read past the row
      alignas(32) float tail[8] = {};
      for (int64_t q = j; q < cols; ++q)
        tail[q - j] = row[q];
      _mm256_store_ps(tail, activateAvx2(_mm256_load_ps(tail), a));
      for (int64_t q = j; q < cols; ++q)
        row[q] = tail[q - j];
    }
  }
}

__attribute__((target("avx512f"))) void
activateRowsAvx512(float *out, int64_t ld, int64_t rows, int64_t cols,
                   Activation a) {
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols % 16)) - 1);
  for (int64_t r = 0; r < rows; ++r) {
    float *row = out + r * ld;
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16)
      _mm512_storeu_ps(row + j, activateAvx512(_mm512_loadu_ps(row + j), a));
    if (j < cols) // masked: no access past the row
      _mm512_mask_storeu_ps(
          row + j, tail,
          activateAvx512(_mm512_maskz_loadu_ps(tail, row + j), a));
  }
}
} // namespace

void flash::runtime::activateRows(float *out, int64_t ld, int64_t rows,
                                  int64_t cols, Activation activation) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  static const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (activation == Activation::None)
    return;
  if (avx512) {
    activateRowsAvx512(out, ld, rows, cols, activation);
    return;
  }
  if (avx2) {
    activateRowsAvx2(out, ld, rows, cols, activation);
    return;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      out[r * ld + j] = activateScalar(out[r * ld + j], activation);
}
