//===- Activation.h - Epilogue activations on AVX2 vectors -----*- C++ -*-===//
//
// HardSwish and SiLU (Ukernels.h's Activation) on eight lanes, for the
// ukernels that apply them while an output is still in registers
// (Depthwise.cpp) and for activateRows (Activation.cpp). Hand-written
// because a ukernel cannot call the compiled loops' math: exp is the
// range reduction x = n ln2 + r with a degree-6 polynomial for e^r
// (Cephes' expf coefficients, within 2 ulp over its range), as
// flash-approximate-math computes it for the generated loops.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_RUNTIME_UKERNELS_ACTIVATION_H
#define FLASH_LIB_RUNTIME_UKERNELS_ACTIVATION_H

#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

#include <cmath>

namespace flash::runtime {

/// The largest |x| exp takes before 2^n leaves the normal range.
constexpr float kExpHi = 88.3762626647949f, kExpLo = -87.3365447504f;

/// e^x for x in [kExpLo, kExpHi] (callers clamp).
__attribute__((target("avx2,fma"))) inline __m256 expAvx2(__m256 x) {
  const __m256 n = _mm256_round_ps(
      _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln2, ln2 in two parts so r keeps its low bits.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n: n + 127 in the exponent field.
  __m256i bits = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

/// The activation of eight lanes.
__attribute__((target("avx2,fma"))) inline __m256 activateAvx2(__m256 x,
                                                              Activation a) {
  if (a == Activation::HardSwish) {
    // x * min(max(x/6 + 1/2, 0), 1); max/min with the bound first, so a NaN
    // x gives a bound there and NaN from the product.
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.0f / 6), _mm256_set1_ps(0.5f));
    t = _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(_mm256_setzero_ps(), t));
    return _mm256_mul_ps(x, t);
  }
  if (a == Activation::Silu) {
    // x / (1 + e^-x); past the clamp e^-x is infinite, the quotient 0.
    __m256 negX = _mm256_sub_ps(_mm256_setzero_ps(), x);
    __m256 clamped = _mm256_min_ps(_mm256_set1_ps(kExpHi),
                                   _mm256_max_ps(_mm256_set1_ps(kExpLo), negX));
    __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f),
                             _mm256_add_ps(_mm256_set1_ps(1.0f), expAvx2(clamped)));
    s = _mm256_andnot_ps(_mm256_cmp_ps(negX, _mm256_set1_ps(kExpHi), _CMP_GT_OQ), s);
    return _mm256_mul_ps(x, s);
  }
  return x;
}

/// The same on one float (CPUs without AVX2).
inline float activateScalar(float x, Activation a) {
  if (a == Activation::HardSwish) {
    float t = x * (1.0f / 6) + 0.5f;
    t = t < 0.0f ? 0.0f : t;
    return x * (t > 1.0f ? 1.0f : t);
  }
  if (a == Activation::Silu)
    return -x > kExpHi ? x * 0.0f : x / (1.0f + std::exp(-x));
  return x;
}

} // namespace flash::runtime

#endif // FLASH_LIB_RUNTIME_UKERNELS_ACTIVATION_H
