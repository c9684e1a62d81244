//===- Activation.cpp - An epilogue's activation over a block of rows ----===//
//
// What SgemmEpilogue::activate runs on a tile once its epilogue has stored
// it (still in L1): the sgemm microkernels keep one in-register epilogue
// form (adds and the clamp) and the activation follows per tile.
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
} // namespace

void flash::runtime::activateRows(float *out, int64_t ld, int64_t rows,
                                  int64_t cols, Activation activation) {
  static const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (activation == Activation::None)
    return;
  if (avx2) {
    activateRowsAvx2(out, ld, rows, cols, activation);
    return;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      out[r * ld + j] = activateScalar(out[r * ld + j], activation);
}
