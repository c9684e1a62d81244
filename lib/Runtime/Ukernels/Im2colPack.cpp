//===- Im2colPack.cpp - Pack B panels straight from a convolution's input -===//
//
// The implicit GEMM's packing (Im2colSource in Ukernels.h): a panel of nr
// output pixels, for each k = (c, i, j) of its K slice, is the row
// input[c][y*sh + i*dh][x*sw + j*dw] over those pixels. The pixels of a
// panel fall in a few runs, one per output row they cross; each run is a
// contiguous (stride 1) or strided (stride sw) stretch of one input row, the
// same for every k up to an offset. So the runs are worked out once per
// panel and each k row is a few short copies: with AVX-512, one masked load
// and store per 16 floats (two loads and a permute for stride 2), which is
// what keeps packing a small share of the product (portable loops
// otherwise).
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace flash::runtime;

namespace {
/// One run of a panel: `len` pixels from panel column `dst`, read from the
/// input at `src` (from the plane's origin for tap (0, 0)) every sw floats.
struct Run {
  int64_t dst, src, len;
};

/// The runs of the pixels [p0, p0 + count) (absolute columns).
void runsOf(const Im2colSource &s, int64_t p0, int64_t count,
            std::vector<Run> &runs) {
  runs.clear();
  for (int64_t p = p0, end = p0 + count; p < end;) {
    int64_t y = p / s.ow, x = p % s.ow;
    int64_t len = std::min(end - p, s.ow - x);
    runs.push_back({p - p0, y * s.sh * s.rowStride + x * s.sw, len});
    p += len;
  }
}

/// The K-slice offsets: for k in [k0, k0 + kc), where tap (c, i, j) starts.
void tapOffsets(const Im2colSource &s, int64_t k0, int64_t kc,
                std::vector<int64_t> &offsets) {
  offsets.resize(kc);
  int64_t taps = s.kh * s.kw;
  int64_t c = k0 / taps, i = k0 / s.kw % s.kh, j = k0 % s.kw;
  for (int64_t q = 0; q < kc; ++q) {
    offsets[q] = c * s.planeStride + i * s.dh * s.rowStride + j * s.dw;
    if (++j == s.kw) {
      j = 0;
      if (++i == s.kh)
        i = 0, ++c;
    }
  }
}

/// Portable: one element at a time.
void packPanelGeneric(const Im2colSource &s, const int64_t *offsets,
                      int64_t kc, const std::vector<Run> &runs, int64_t nr,
                      float *out) {
  for (int64_t q = 0; q < kc; ++q) {
    const float *base = s.input + offsets[q];
    float *row = out + q * nr;
    int64_t filled = 0;
    for (const Run &r : runs) {
      const float *src = base + r.src;
      for (int64_t t = 0; t < r.len; ++t)
        row[r.dst + t] = src[t * s.sw];
      filled = r.dst + r.len;
    }
    std::fill(row + filled, row + nr, 0.0f);
  }
}

/// AVX-512: each run (at most 32 floats: a panel is at most 32 wide) is
/// two masked 16-float copies whose masks are worked out once per panel;
/// stride 2 takes the even floats of two masked loads each. Other strides
/// take the portable loop.
__attribute__((target("avx512f"))) void
packPanelAvx512(const Im2colSource &s, const int64_t *offsets, int64_t kc,
                const std::vector<Run> &runs, int64_t nr, float *out) {
  if (s.sw > 2 || nr > 32 || runs.size() > 32) {
    packPanelGeneric(s, offsets, kc, runs, nr, out);
    return;
  }
  struct Copy {
    int64_t dst, src;
    __mmask16 out0, out1; // the run's first and second 16 floats
    __mmask16 in0, in1, in2, in3; // stride 2: the four 16-float loads
  };
  Copy copies[32];
  int64_t count = 0, filled = 0;
  auto bits = [](int64_t n) {
    return static_cast<__mmask16>(n <= 0 ? 0 : n >= 16 ? 0xFFFF
                                                       : (1u << n) - 1);
  };
  for (const Run &r : runs) {
    // Stride 2 reads 2 * len - 1 floats for len outputs.
    int64_t span = 2 * r.len - 1;
    copies[count++] = {r.dst,
                       r.src,
                       bits(r.len),
                       bits(r.len - 16),
                       bits(span),
                       bits(span - 16),
                       bits(span - 32),
                       bits(span - 48)};
    filled = r.dst + r.len;
  }
  __mmask16 tail0 = static_cast<__mmask16>(~bits(filled) & bits(nr));
  __mmask16 tail1 = static_cast<__mmask16>(~bits(filled - 16) & bits(nr - 16));
  const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14,
                                         12, 10, 8, 6, 4, 2, 0);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t q = 0; q < kc; ++q) {
    const float *base = s.input + offsets[q];
    float *row = out + q * nr;
    for (int64_t i = 0; i < count; ++i) {
      const Copy &c = copies[i];
      const float *src = base + c.src;
      float *dst = row + c.dst;
      if (s.sw == 1) {
        _mm512_mask_storeu_ps(dst, c.out0, _mm512_maskz_loadu_ps(c.out0, src));
        if (c.out1)
          _mm512_mask_storeu_ps(dst + 16, c.out1,
                                _mm512_maskz_loadu_ps(c.out1, src + 16));
      } else {
        __m512 a = _mm512_maskz_loadu_ps(c.in0, src);
        __m512 b = _mm512_maskz_loadu_ps(c.in1, src + 16);
        _mm512_mask_storeu_ps(dst, c.out0, _mm512_permutex2var_ps(a, evens, b));
        if (c.out1) {
          a = _mm512_maskz_loadu_ps(c.in2, src + 32);
          b = _mm512_maskz_loadu_ps(c.in3, src + 48);
          _mm512_mask_storeu_ps(dst + 16, c.out1,
                                _mm512_permutex2var_ps(a, evens, b));
        }
      }
    }
    if (tail0)
      _mm512_mask_storeu_ps(row, tail0, zero);
    if (tail1)
      _mm512_mask_storeu_ps(row + 16, tail1, zero);
  }
}
} // namespace

void flash::runtime::packIm2colPanels(const Im2colSource &src, int64_t k0,
                                      int64_t kc, int64_t j0, int64_t nc,
                                      int64_t nr, float *out) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  thread_local std::vector<Run> runs;
  thread_local std::vector<int64_t> offsets;
  tapOffsets(src, k0, kc, offsets);
  for (int64_t j = 0; j < nc; j += nr, out += kc * nr) {
    runsOf(src, src.col0 + j0 + j, std::min(nr, nc - j), runs);
    if (avx512)
      packPanelAvx512(src, offsets.data(), kc, runs, nr, out);
    else
      packPanelGeneric(src, offsets.data(), kc, runs, nr, out);
  }
}
