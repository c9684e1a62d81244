//===- Im2colPack.cpp - Pack B panels straight from a convolution's input -===//
//
// The implicit GEMM's packing (Im2colSource in Ukernels.h): a panel of nr
// output pixels, for each k = (c, i, j) of its K slice, is the row
// input[c][y*sh + i*dh - padTop][x*sw + j*dw - padLeft] over those pixels,
// zero outside the image. The pixels of a panel fall in a few runs, one
// per output row they cross; for a run and a tap (i, j), which pixels read
// inside the image and where does the run start in channel c's plane does
// not depend on c. So each panel first works out, per tap and run, a
// source offset and the masks of its valid pixels, and then each k row is a
// few masked copies from channel c's plane: with AVX-512, one masked load
// and store per 16 floats (two loads and a permute for stride 2); masked-off
// lanes are never read, which is what makes the padding free. Portable
// loops elsewhere (and for strides above 2).
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

using namespace flash::runtime;

namespace {
/// One run of a panel: `len` pixels from panel column `dst`, output row y,
/// output columns x0 .. x0 + len - 1.
struct Run {
  int64_t dst, y, x0, len;
};

/// A run as one tap reads it: from `src` (relative to the channel plane's
/// origin; may point before it, where only masked-off lanes would read),
/// pixel t valid when bit t of `valid` is set, and the masks of the four
/// 16-float loads that read them (stride 1: the first two).
struct TapRun {
  int64_t src;
  uint32_t valid;
  uint16_t in[4];
};

/// Bits [lo, hi) of a 64-bit mask.
inline uint64_t bitRange(int64_t lo, int64_t hi) {
  lo = std::max<int64_t>(lo, 0), hi = std::min<int64_t>(hi, 64);
  if (hi <= lo)
    return 0;
  uint64_t upTo = hi == 64 ? ~0ull : (1ull << hi) - 1;
  return upTo & ~((1ull << lo) - 1);
}

/// The runs of the pixels [p0, p0 + count) (absolute columns).
void runsOf(const Im2colSource &s, int64_t p0, int64_t count,
            std::vector<Run> &runs) {
  runs.clear();
  for (int64_t p = p0, end = p0 + count; p < end;) {
    int64_t y = p / s.ow, x = p % s.ow;
    int64_t len = std::min(end - p, s.ow - x);
    runs.push_back({p - p0, y, x, len});
    p += len;
  }
}

/// Per tap (i*kw + j) and run: where it reads and which pixels are inside
/// (x*sw + j*dw - padLeft in [0, w): a range of t, no loop over pixels).
void tapRunsOf(const Im2colSource &s, const std::vector<Run> &runs,
               std::vector<TapRun> &out) {
  // Stride 1 needs no division (a 64-bit divide is ~40 cycles).
  auto ceilDiv = [](int64_t a, int64_t b) { // b > 0
    if (b == 1)
      return a;
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
  };
  // Written field by field in place: a TapRun built on the stack from
  // 16-bit mask stores and then copied whole fails store-to-load
  // forwarding on every copy (half of LeNet's conv time, C = 1, went to
  // that one reload).
  out.resize(s.kh * s.kw * runs.size());
  TapRun *t = out.data();
  for (int64_t i = 0; i < s.kh; ++i)
    for (int64_t j = 0; j < s.kw; ++j)
      for (const Run &r : runs) {
        int64_t iy = r.y * s.sh + i * s.dh - s.padTop;
        int64_t ix0 = r.x0 * s.sw + j * s.dw - s.padLeft;
        bool rowInside = iy >= 0 && iy < s.h;
        t->src = (rowInside ? iy : 0) * s.rowStride + ix0;
        uint64_t valid = 0, in = 0;
        if (rowInside) {
          int64_t lo = std::max<int64_t>(0, ceilDiv(-ix0, s.sw));
          int64_t hi = std::min(r.len, ceilDiv(s.w - ix0, s.sw));
          valid = bitRange(lo, hi);
          if (s.sw <= 2 && hi > lo) {
            // The elements the valid pixels read: sw*t for t in [lo, hi).
            in = bitRange(s.sw * lo, s.sw * (hi - 1) + 1);
            if (s.sw == 2)
              in &= 0x5555555555555555ull;
          }
        }
        t->valid = static_cast<uint32_t>(valid);
        for (int q = 0; q < 4; ++q)
          t->in[q] = static_cast<uint16_t>(in >> (16 * q));
        ++t;
      }
}

/// Per k of [k0, k0 + kc): channel c's plane offset and the tap index.
void channelsAndTaps(const Im2colSource &s, int64_t k0, int64_t kc,
                     std::vector<int64_t> &planes, std::vector<int32_t> &taps) {
  planes.resize(kc);
  taps.resize(kc);
  int64_t per = s.kh * s.kw;
  int64_t c = k0 / per, t = k0 % per;
  for (int64_t q = 0; q < kc; ++q) {
    planes[q] = c * s.planeStride;
    taps[q] = static_cast<int32_t>(t);
    if (++t == per)
      t = 0, ++c;
  }
}

/// Portable: one element at a time.
void packPanelGeneric(const Im2colSource &s, const int64_t *planes,
                      const int32_t *taps, int64_t kc,
                      const std::vector<Run> &runs,
                      const std::vector<TapRun> &tapRuns, int64_t nr,
                      float *out) {
  size_t count = runs.size();
  for (int64_t q = 0; q < kc; ++q) {
    const float *plane = s.input + planes[q];
    const TapRun *tr = tapRuns.data() + taps[q] * count;
    float *row = out + q * nr;
    std::fill(row, row + nr, 0.0f);
    for (size_t r = 0; r < count; ++r)
      for (int64_t t = 0; t < runs[r].len; ++t)
        if (tr[r].valid >> t & 1)
          row[runs[r].dst + t] = plane[tr[r].src + t * s.sw];
  }
}

/// AVX-512: per tap and run, the masks of its (at most 32: a panel is at
/// most 32 wide) pixels, worked out once per panel.
__attribute__((target("avx512f"))) void
packPanelAvx512(const Im2colSource &s, const int64_t *planes,
                const int32_t *taps, int64_t kc, const std::vector<Run> &runs,
                const std::vector<TapRun> &tapRuns, int64_t nr, float *out) {
  if (s.sw > 2 || nr > 32 || runs.size() > 32) {
    packPanelGeneric(s, planes, taps, kc, runs, tapRuns, nr, out);
    return;
  }
  struct Dst {
    int64_t dst;
    __mmask16 out0, out1;
  };
  Dst dsts[32];
  int64_t filled = 0;
  // The 16-lane half q of a panel-wide (<= 32) mask.
  auto half = [](uint64_t mask, int q) {
    return static_cast<__mmask16>(mask >> (16 * q));
  };
  size_t count = runs.size();
  for (size_t r = 0; r < count; ++r) {
    uint64_t lanes = bitRange(0, runs[r].len);
    dsts[r] = {runs[r].dst, half(lanes, 0), half(lanes, 1)};
    filled = runs[r].dst + runs[r].len;
  }
  uint64_t tail = bitRange(filled, nr);
  __mmask16 tail0 = half(tail, 0), tail1 = half(tail, 1);
  const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14,
                                         12, 10, 8, 6, 4, 2, 0);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t q = 0; q < kc; ++q) {
    const float *plane = s.input + planes[q];
    const TapRun *cp = tapRuns.data() + taps[q] * count;
    float *row = out + q * nr;
    for (size_t r = 0; r < count; ++r) {
      const TapRun &c = cp[r];
      const Dst &d = dsts[r];
      const float *src = plane + c.src;
      float *dst = row + d.dst;
      if (s.sw == 1) {
        _mm512_mask_storeu_ps(dst, d.out0, _mm512_maskz_loadu_ps(c.in[0], src));
        if (d.out1)
          _mm512_mask_storeu_ps(dst + 16, d.out1,
                                _mm512_maskz_loadu_ps(c.in[1], src + 16));
      } else {
        __m512 a = _mm512_maskz_loadu_ps(c.in[0], src);
        __m512 b = _mm512_maskz_loadu_ps(c.in[1], src + 16);
        _mm512_mask_storeu_ps(dst, d.out0, _mm512_permutex2var_ps(a, evens, b));
        if (d.out1) {
          a = _mm512_maskz_loadu_ps(c.in[2], src + 32);
          b = _mm512_maskz_loadu_ps(c.in[3], src + 48);
          _mm512_mask_storeu_ps(dst + 16, d.out1,
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
  std::vector<Run> runs;
  std::vector<TapRun> tapRuns;
  std::vector<int64_t> planes;
  std::vector<int32_t> taps;
  channelsAndTaps(src, k0, kc, planes, taps);
  for (int64_t j = 0; j < nc; j += nr, out += kc * nr) {
    runsOf(src, src.col0 + j0 + j, std::min(nr, nc - j), runs);
    tapRunsOf(src, runs, tapRuns);
    if (avx512)
      packPanelAvx512(src, planes.data(), taps.data(), kc, runs, tapRuns, nr,
                      out);
    else
      packPanelGeneric(src, planes.data(), taps.data(), kc, runs, tapRuns, nr,
                       out);
  }
}
