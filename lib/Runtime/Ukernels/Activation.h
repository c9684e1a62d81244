//===- Activation.h - Epilogue activations on vectors ----------*- C++ -*-===//
//
// HardSwish (Ukernels.h's Activation) on 8 and 16 lanes and on one float,
// for activateRows (Activation.cpp) and the ukernels' scalar paths.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_RUNTIME_UKERNELS_ACTIVATION_H
#define FLASH_LIB_RUNTIME_UKERNELS_ACTIVATION_H

#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

namespace flash::runtime {

// x * min(max(x/6 + 1/2, 0), 1); max/min with the bound first, so a NaN x
// gives a bound there and NaN from the product.

/// The activation of eight lanes.
__attribute__((target("avx2,fma"), always_inline)) inline __m256
activateAvx2(__m256 x, Activation a) {
  if (a != Activation::HardSwish)
    return x;
  __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.0f / 6), _mm256_set1_ps(0.5f));
  t = _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(_mm256_setzero_ps(), t));
  return _mm256_mul_ps(x, t);
}

/// The activation of sixteen lanes.
__attribute__((target("avx512f"), always_inline)) inline __m512
activateAvx512(__m512 x, Activation a) {
  if (a != Activation::HardSwish)
    return x;
  __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.0f / 6), _mm512_set1_ps(0.5f));
  t = _mm512_min_ps(_mm512_set1_ps(1.0f), _mm512_max_ps(_mm512_setzero_ps(), t));
  return _mm512_mul_ps(x, t);
}

/// The same on one float (CPUs without AVX2).
inline float activateScalar(float x, Activation a) {
  if (a != Activation::HardSwish)
    return x;
  float t = x * (1.0f / 6) + 0.5f;
  t = t < 0.0f ? 0.0f : t;
  return x * (t > 1.0f ? 1.0f : t);
}

} // namespace flash::runtime

#endif // FLASH_LIB_RUNTIME_UKERNELS_ACTIVATION_H
