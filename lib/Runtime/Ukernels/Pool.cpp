//===- Pool.cpp - Max and sum pooling over NCHW planes --------------------===//
//
// With AVX-512 and a horizontal stride of 1 or 2, output row by output row
// (planeRowsAvx512: each needed input row read once per output row, no
// padded copy). Otherwise plane by plane, in a per-thread scratch that
// stays in cache: the plane with its padding (the identity, -inf or 0),
// then the window separably: along rows, then along columns, each as one
// loop over the whole plane taken as a flat row (a CNN's late planes are 7
// or 14 wide: loops along one row would be mostly remainders), then the
// outputs copied out. The
// padded copy and the flat rows are what the generated loops do too, but
// over the whole tensor through memory; here five cache-resident passes
// replace them, and kh + kw combines per element replace kh * kw.
//
//===----------------------------------------------------------------------===//
#include "Masks.h"
#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace flash::runtime;

namespace {
/// The larger of two values, NaN if either is (torch's max_pool2d).
inline float maxNaN(float acc, float x) {
  return (x > acc || x != x) ? x : acc;
}

template <bool Max> inline float combine(float acc, float x) {
  if constexpr (Max)
    return maxNaN(acc, x);
  else
    return acc + x;
}

/// out[k] = combine over t < taps of in[k + t * step], k < count: one
/// vectorized pass per tap.
template <bool Max>
inline __attribute__((always_inline)) void
combineShiftedBody(const float *__restrict in, float *__restrict out,
                   int64_t count, int64_t taps, int64_t step) {
  std::memcpy(out, in, count * sizeof(float));
  for (int64_t t = 1; t < taps; ++t) {
    const float *__restrict src = in + t * step;
    for (int64_t k = 0; k < count; ++k)
      out[k] = combine<Max>(out[k], src[k]);
  }
}

/// out[k] = combine over t < taps of in[2k + t], k < count: a stride-2
/// window along a flat row (the constant stride lets the compiler
/// vectorize the even/odd loads with shuffles).
template <bool Max>
inline __attribute__((always_inline)) void
combineStride2Body(const float *__restrict in, float *__restrict out,
                   int64_t count, int64_t taps) {
  for (int64_t k = 0; k < count; ++k)
    out[k] = in[2 * k];
  for (int64_t t = 1; t < taps; ++t) {
    const float *__restrict src = in + t;
    for (int64_t k = 0; k < count; ++k)
      out[k] = combine<Max>(out[k], src[2 * k]);
  }
}

// Cloned for AVX-512 and AVX2 and dispatched at load time; one plain
// function per combine (clang does not clone function templates).
#define FLASH_POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
FLASH_POOL_CLONES void shiftedMax(const float *in, float *out, int64_t count,
                                  int64_t taps, int64_t step) {
  combineShiftedBody<true>(in, out, count, taps, step);
}
FLASH_POOL_CLONES void shiftedSum(const float *in, float *out, int64_t count,
                                  int64_t taps, int64_t step) {
  combineShiftedBody<false>(in, out, count, taps, step);
}
FLASH_POOL_CLONES void stride2Max(const float *in, float *out, int64_t count,
                                  int64_t taps) {
  combineStride2Body<true>(in, out, count, taps);
}
FLASH_POOL_CLONES void stride2Sum(const float *in, float *out, int64_t count,
                                  int64_t taps) {
  combineStride2Body<false>(in, out, count, taps);
}
#undef FLASH_POOL_CLONES

template <bool Max>
void combineShifted(const float *in, float *out, int64_t count, int64_t taps,
                    int64_t step) {
  Max ? shiftedMax(in, out, count, taps, step)
      : shiftedSum(in, out, count, taps, step);
}

template <bool Max>
void combineStride2(const float *in, float *out, int64_t count, int64_t taps) {
  Max ? stride2Max(in, out, count, taps) : stride2Sum(in, out, count, taps);
}

/// The scratch of one plane: sizes in elements.
struct Scratch {
  int64_t rows, width;   ///< the padded plane: rows x width
  int64_t hStride;       ///< a row of the horizontal result
  std::vector<float> padded, across, decimated, down;
};

Scratch scratchFor(const Pool2D &p) {
  Scratch s;
  // Rows and columns the windows reach, and at least the input's.
  s.rows = std::max(p.padTop + p.h, (p.oh - 1) * p.sh + p.kh);
  s.width = std::max(p.padLeft + p.w, (p.ow - 1) * p.sw + p.kw);
  if (p.sw == 2) // even: window starts 2k of the flat plane are row-aligned
    s.width += s.width % 2;
  s.hStride = p.sw == 1 ? s.width : p.sw == 2 ? s.width / 2 : p.ow;
  s.padded.resize(s.rows * s.width + p.kw); // reads run kw - 1 past the end
  s.across.resize(s.rows * s.width);
  if (p.sw > 2)
    s.decimated.resize(s.rows * p.ow);
  s.down.resize(s.rows * s.hStride);
  return s;
}

template <bool Max>
void poolPlane(const Pool2D &p, const float *in, float *out, Scratch &s) {
  const float identity = Max ? -__builtin_inff() : 0.0f;
  float *padded = s.padded.data();
  // The plane inside its padding (the identity around it).
  std::fill(s.padded.begin(), s.padded.end(), identity);
  for (int64_t r = 0; r < p.h; ++r)
    std::memcpy(padded + (p.padTop + r) * s.width + p.padLeft, in + r * p.inH,
                p.w * sizeof(float));
  // Along rows: position k combines k .. k + kw - 1 (the last kw - 1 of a
  // row reach into the next and are never used).
  int64_t flat = s.rows * s.width;
  const float *horizontal = s.across.data();
  if (p.sw == 2)
    combineStride2<Max>(padded, s.across.data(), flat / 2, p.kw);
  else
    combineShifted<Max>(padded, s.across.data(), flat, p.kw, 1);
  if (p.sw > 2) { // keep every sw-th window start: rows of ow
    float *d = s.decimated.data();
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t x = 0; x < p.ow; ++x)
        d[r * p.ow + x] = horizontal[r * s.width + x * p.sw];
    horizontal = d;
  }
  // Down columns: row y combines rows y .. y + kh - 1.
  int64_t windowRows = s.rows - p.kh + 1;
  combineShifted<Max>(horizontal, s.down.data(), windowRows * s.hStride, p.kh,
                      s.hStride);
  for (int64_t y = 0; y < p.oh; ++y)
    std::memcpy(out + y * p.outH, s.down.data() + y * p.sh * s.hStride,
                p.ow * sizeof(float));
}

/// Pooling at horizontal stride 1 or 2, one output row at a time with
/// AVX-512: the max (or sum) down the window's input rows (those inside
/// the input: the padding is skipped, not read) into a row buffer with the
/// identity on both sides, then along it, 16 outputs per vector, a
/// stride-2 tap's even lanes gathered from two vectors by one permute.
/// Each input row is read once per output row it reaches, and only output
/// rows are computed (the plane passes above combine every row and keep
/// every sh-th: 2-3x slower). The max is NaN-propagating, as maxNaN.
__attribute__((target("avx512f"))) inline __m512 maxNaN16(__m512 acc,
                                                          __m512 x) {
  // max_ps returns its second operand when either is NaN: acc's NaN
  // stays; x's is put back by the blend.
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q),
                              _mm512_max_ps(x, acc), x);
}

template <bool Max>
__attribute__((target("avx512f"), always_inline)) inline __m512
combine16(__m512 acc, __m512 x) {
  if constexpr (Max)
    return maxNaN16(acc, x);
  else
    return _mm512_add_ps(acc, x);
}

template <bool Max>
__attribute__((target("avx512f"))) void
planeRowsAvx512(const Pool2D &p, const float *in, float *out, float *row) {
  const float identity = Max ? -__builtin_inff() : 0.0f;
  const __m512 lowest = _mm512_set1_ps(identity);
  // The row buffer: padLeft (-inf), the w input columns, then -inf up to
  // where the last vector of taps reads.
  const int64_t span = (p.ow + 15) / 16 * 16 * p.sw + p.kw + 16;
  float *mid = row + p.padLeft;
  std::fill(row, row + p.padLeft, identity);
  std::fill(mid + p.w, row + span, identity);
  const __m512i evens = strideTwoLanes(0);
  const __mmask16 tail =
      static_cast<__mmask16>((1u << (p.w % 16)) - 1);
  const __mmask16 outTail =
      static_cast<__mmask16>((1u << (p.ow % 16)) - 1);
  for (int64_t y = 0; y < p.oh; ++y) {
    int64_t first = std::max<int64_t>(0, y * p.sh - p.padTop);
    int64_t last = std::min<int64_t>(p.h, y * p.sh - p.padTop + p.kh);
    // Down the window: rows [first, last) of the input.
    int64_t x = 0;
    for (; x + 16 <= p.w; x += 16) {
      __m512 acc = lowest;
      for (int64_t r = first; r < last; ++r)
        acc = combine16<Max>(acc, _mm512_loadu_ps(in + r * p.inH + x));
      _mm512_storeu_ps(mid + x, acc);
    }
    if (x < p.w) {
      __m512 acc = lowest;
      for (int64_t r = first; r < last; ++r)
        acc = combine16<Max>(acc, _mm512_maskz_loadu_ps(tail, in + r * p.inH + x));
      _mm512_mask_storeu_ps(mid + x, tail, acc);
    }
    // Along the row: output x takes columns x*sw .. x*sw + kw - 1.
    float *o = out + y * p.outH;
    for (int64_t x0 = 0; x0 < p.ow; x0 += 16) {
      __m512 acc = lowest;
      const float *at = row + x0 * p.sw;
      for (int64_t j = 0; j < p.kw; ++j) {
        __m512 v = p.sw == 1 ? _mm512_loadu_ps(at + j)
                             : _mm512_permutex2var_ps(_mm512_loadu_ps(at + j), evens,
                                                      _mm512_loadu_ps(at + j + 16));
        acc = combine16<Max>(acc, v);
      }
      if (x0 + 16 <= p.ow)
        _mm512_storeu_ps(o + x0, acc);
      else
        _mm512_mask_storeu_ps(o + x0, outTail, acc);
    }
  }
}

/// Whether planeRowsAvx512 takes `p` on this CPU.
bool byRows(const Pool2D &p) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512 && (p.sw == 1 || p.sw == 2);
}

template <bool Max> void runPlanes(const Pool2D &p, int64_t begin, int64_t end) {
  if (byRows(p)) {
    std::vector<float> row((p.ow + 15) / 16 * 16 * p.sw + p.kw + 16 +
                           p.padLeft + p.w);
    for (int64_t plane = begin; plane < end; ++plane) {
      int64_t n = plane / p.channels, c = plane % p.channels;
      planeRowsAvx512<Max>(p, p.input + n * p.inN + c * p.inC,
                           p.out + n * p.outN + c * p.outC, row.data());
    }
    return;
  }
  Scratch s = scratchFor(p);
  for (int64_t plane = begin; plane < end; ++plane) {
    int64_t n = plane / p.channels, c = plane % p.channels;
    poolPlane<Max>(p, p.input + n * p.inN + c * p.inC,
                   p.out + n * p.outN + c * p.outC, s);
  }
}
} // namespace

void flash::runtime::pool2d(const Pool2D &p) {
  int64_t planes = p.batch * p.channels;
  if (planes == 0 || p.oh == 0 || p.ow == 0)
    return;
  auto run = [&](int64_t begin, int64_t end) {
    if (p.max)
      runPlanes<true>(p, begin, end);
    else
      runPlanes<false>(p, begin, end);
  };
  // As depthwiseConv2d: below a share of a sgemm's parallel work a fork
  // costs more than it saves (a pooling element is one compare).
  double work = 1.0 * planes * p.oh * p.ow * p.kh * p.kw;
  int tasks = work < kSgemmParallelFlops / 4
                  ? 1
                  : static_cast<int>(std::min<int64_t>(getNumThreads(), planes));
  if (tasks <= 1) {
    run(0, planes);
    return;
  }
  parallelFor(tasks, [&](int task) {
    run(planes * task / tasks, planes * (task + 1) / tasks);
  });
}
