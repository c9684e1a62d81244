//===- DirectConv.cpp - Convolutions over few input channels, direct -------===//
//
// A network's stem (RGB in, 3x3 or 7x7 at stride 2) has K = C*KH*KW of 27
// to 147: as an implicit GEMM, packing B's panels (27 gathered rows per 16
// pixels, and each panel's tap masks) costs as much as the product itself,
// and 16 or 24 output channels fill the 12- or 6-row register tiles badly
// (measured 3->16 3x3/2 at 224: 37% of the time packing, 10% a 4-row
// edge tile; ONNX Runtime's NCHW-input kernel took half our time). Here
// each output row is built in registers straight from the input: 16
// output pixels in one vector per output channel, up to 16 channels at a
// time; per filter tap one masked load (two and a permute at stride 2:
// the even elements; or one again from rows split into even and odd
// columns once per band, where each row feeds many taps and channel
// blocks: Phases) and one multiply-add per channel with the weight
// broadcast from a packed copy of the filter. Masked-off lanes are never
// read, so the zero padding costs nothing. Bias, residual and clamp are
// applied in registers, the activation over the row just written (L1).
// The rule that picks this path is convRunsDirect (Ukernels.h).
//
//===----------------------------------------------------------------------===//
#include "Cpu.h"
#include "Masks.h"
#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

// GCC 12's avx512fintrin.h reads an intentionally undefined register in
// its helpers (_mm512_undefined_ps) and warns about it in every caller.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

using namespace flash::runtime;

namespace {
/// Output channels per block: one 16-float vector each.
constexpr int kBlock = 16;

/// Bits [lo, hi) of a 32-bit mask (two 16-lane loads).
inline uint32_t bits(int64_t lo, int64_t hi) {
  return static_cast<uint32_t>(bitRange(lo, std::min<int64_t>(hi, 32)));
}

/// One filter column j of a 16-pixel chunk: where its elements start in
/// an input row, and the masks of the (at most two) 16-float loads that
/// read its valid pixels.
struct Column {
  int64_t offset;
  __mmask16 in0, in1;
};

/// Stride 2's input rows split into even and odd columns (each phase row
/// `half` floats), rows [iy0, iy0 + rows) of each channel: then every tap
/// reads its 16 pixels with one load, not two and a permute. Worth it when
/// each input row is read by many taps and channel blocks (a 7x7 stem:
/// 2671 -> 2321 us with the permutes simply left out).
struct Phases {
  const float *data = nullptr;
  int64_t iy0 = 0, rows = 0, half = 0;
  const float *row(int64_t ch, int64_t iy) const {
    return data + (ch * rows + (iy - iy0)) * 2 * half;
  }
};

__attribute__((target("avx512f"))) void
splitPhases(const Im2colSource &s, int64_t channels, float *out,
            const Phases &p) {
  const __m512i evens = strideTwoLanes(0), odds = strideTwoLanes(1);
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t iy = p.iy0; iy < p.iy0 + p.rows; ++iy) {
      const float *src = s.input + ch * s.planeStride + iy * s.rowStride;
      float *even = out + (ch * p.rows + (iy - p.iy0)) * 2 * p.half;
      float *odd = even + p.half;
      for (int64_t x = 0; x < s.w; x += 32) {
        int64_t n = std::min<int64_t>(32, s.w - x);
        uint32_t in = bits(0, n);
        __m512 a = _mm512_maskz_loadu_ps(static_cast<__mmask16>(in), src + x);
        __m512 b = _mm512_maskz_loadu_ps(static_cast<__mmask16>(in >> 16),
                                         src + x + 16);
        _mm512_mask_storeu_ps(even + x / 2,
                              static_cast<__mmask16>(bits(0, (n + 1) / 2)),
                              _mm512_permutex2var_ps(a, evens, b));
        _mm512_mask_storeu_ps(odd + x / 2,
                              static_cast<__mmask16>(bits(0, n / 2)),
                              _mm512_permutex2var_ps(a, odds, b));
      }
    }
}

/// Output row y of a block of `valid` (<= CB) channels, from the packed
/// filter `w` ([K][16], zero-padded): into C (from its first channel and
/// pixel y*ow), then `e` (already at that channel and pixel, or null) in
/// registers as SgemmEpilogue::apply does it (bias, residual, clamp) and
/// its activation over the row just written.
template <int CB>
__attribute__((target("avx512f"))) void
rowOfBlock(const float *w, const Im2colSource &s, int64_t channels,
           int64_t y, int64_t valid, float *c, int64_t ldc, bool accumulate,
           const SgemmEpilogue *e, Column *columns /* kw of them */,
           const Phases *phases) {
  bool clamp = e && (e->lo > -__builtin_inff() || e->hi < __builtin_inff());
  bool rawToo = e && e->out != c; // C keeps the product, as in sgemm
  const __m512i evens = strideTwoLanes(0);
  for (int64_t x0 = 0; x0 < s.ow; x0 += 16) {
    int64_t len = std::min<int64_t>(16, s.ow - x0);
    __mmask16 out = static_cast<__mmask16>(bits(0, len));
    for (int64_t j = 0; j < s.kw; ++j) {
      int64_t ix0 = x0 * s.sw + j - s.padLeft;
      // Pixel t is inside when 0 <= ix0 + t*sw < w.
      int64_t lo = std::max<int64_t>(0, ceilDivStride(-ix0, s.sw));
      int64_t hi = std::min(len, ceilDivStride(s.w - ix0, s.sw));
      if (phases) { // pixel t at phase (ix0 & 1), index (ix0 >> 1) + t
        columns[j] = {(ix0 & 1) * phases->half + (ix0 >> 1),
                      static_cast<__mmask16>(bits(lo, hi)), 0};
        continue;
      }
      uint32_t in = 0;
      if (hi > lo) {
        in = bits(s.sw * lo, s.sw * (hi - 1) + 1);
        if (s.sw == 2)
          in &= 0x55555555u;
      }
      columns[j] = {ix0, static_cast<__mmask16>(in),
                    static_cast<__mmask16>(in >> 16)};
    }
    __m512 acc[CB];
#pragma GCC unroll 16
    for (int o = 0; o < CB; ++o)
      acc[o] = accumulate && o < valid
                   ? _mm512_maskz_loadu_ps(out, c + o * ldc + x0)
                   : _mm512_setzero_ps();
    for (int64_t ch = 0; ch < channels; ++ch)
      for (int64_t i = 0; i < s.kh; ++i) {
        int64_t iy = y * s.sh + i * s.dh - s.padTop;
        if (iy < 0 || iy >= s.h)
          continue; // a padding row: adds nothing
        const float *row = phases ? phases->row(ch, iy)
                                  : s.input + ch * s.planeStride +
                                        iy * s.rowStride;
        const float *wk = w + ((ch * s.kh + i) * s.kw) * kBlock;
        for (int64_t j = 0; j < s.kw; ++j, wk += kBlock) {
          const Column &col = columns[j];
          __m512 v;
          if (s.sw == 1 || phases) {
            v = _mm512_maskz_loadu_ps(col.in0, row + col.offset);
          } else {
            __m512 a = _mm512_maskz_loadu_ps(col.in0, row + col.offset);
            __m512 b = _mm512_maskz_loadu_ps(col.in1, row + col.offset + 16);
            v = _mm512_permutex2var_ps(a, evens, b);
          }
#pragma GCC unroll 16
          for (int o = 0; o < CB; ++o)
            acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wk[o]), v, acc[o]);
        }
      }
    if (!e || rawToo)
#pragma GCC unroll 16
      for (int o = 0; o < CB; ++o)
        if (o < valid)
          _mm512_mask_storeu_ps(c + o * ldc + x0, out, acc[o]);
    if (!e)
      continue;
    __m512 col = e->colBias ? _mm512_maskz_loadu_ps(out, e->colBias + x0)
                            : _mm512_setzero_ps();
    __m512 lowest = _mm512_set1_ps(e->lo), highest = _mm512_set1_ps(e->hi);
    // Unrolled, like every loop over acc: an indexed access would put
    // the accumulators in memory.
#pragma GCC unroll 16
    for (int o = 0; o < CB; ++o) {
      if (o >= valid)
        continue;
      __m512 v = _mm512_add_ps(
          acc[o], _mm512_set1_ps(e->rowBias ? e->rowBias[o] : 0.0f));
      if (e->colBias)
        v = _mm512_add_ps(v, col);
      if (e->residual)
        v = _mm512_add_ps(
            v, _mm512_maskz_loadu_ps(out, e->residual + o * e->ldr + x0));
      if (clamp) // NaN stays NaN: max/min return their second operand then
        v = _mm512_min_ps(highest, _mm512_max_ps(lowest, v));
      _mm512_mask_storeu_ps(e->out + o * e->ldo + x0, out, v);
    }
  }
  if (e)
    e->activate(valid, s.ow);
}
} // namespace

bool flash::runtime::convDirectEnabled() {
  static const bool enabled = [] {
    const char *env = std::getenv("FLASH_CONV_DIRECT");
    return !(env && std::string(env) == "0");
  }();
  return enabled && cpuUsesAvx512();
}

void flash::runtime::convDirect(int64_t m, int64_t inChannels,
                                const float *filter, int64_t lda,
                                bool aPanels, const Im2colSource &src,
                                int64_t oh, float *c, int64_t ldc,
                                bool accumulate, int64_t threads,
                                const SgemmEpilogue *epilogue) {
  int64_t k = inChannels * src.kh * src.kw;
  int64_t blocks = (m + kBlock - 1) / kBlock;
  // The filter as [block][k][16], zero-padded: each tap's weights for a
  // block of channels are one 64-byte line, read as broadcasts.
  std::vector<float> packed(blocks * k * kBlock, 0.0f);
  for (int64_t o = 0; o < m; ++o)
    for (int64_t q = 0; q < k; ++q)
      packed[((o / kBlock) * k + q) * kBlock + o % kBlock] =
          aPanels ? filter[(o / kSgemmPanelRows) * kSgemmPanelRows * k +
                           q * kSgemmPanelRows + o % kSgemmPanelRows]
                  : filter[o * lda + q];
  bool split = src.sw == 2 && blocks * src.kw >= 6;
  auto rows = [&](int64_t y0, int64_t y1) {
    std::vector<Column> columns(src.kw);
    // The input rows this band reads, split once (per task).
    Phases phases;
    std::vector<float> phaseBuffer;
    if (split) {
      phases.iy0 = std::max<int64_t>(0, y0 * src.sh - src.padTop);
      int64_t iy1 = std::min(src.h, (y1 - 1) * src.sh +
                                        (src.kh - 1) * src.dh - src.padTop + 1);
      phases.rows = std::max<int64_t>(0, iy1 - phases.iy0);
      phases.half = (src.w + 1) / 2;
      phaseBuffer.resize(inChannels * phases.rows * 2 * phases.half);
      phases.data = phaseBuffer.data();
      splitPhases(src, inChannels, phaseBuffer.data(), phases);
    }
    const Phases *p = split ? &phases : nullptr;
    for (int64_t y = y0; y < y1; ++y) {
      float *cy = c + y * src.ow;
      for (int64_t b = 0; b < blocks; ++b) {
        int64_t valid = std::min<int64_t>(kBlock, m - b * kBlock);
        const float *w = packed.data() + b * k * kBlock;
        float *cb = cy + b * kBlock * ldc;
        SgemmEpilogue e;
        if (epilogue)
          e = epilogue->at(b * kBlock, y * src.ow);
        const SgemmEpilogue *eb = epilogue ? &e : nullptr;
        if (valid > 8)
          rowOfBlock<16>(w, src, inChannels, y, valid, cb, ldc, accumulate,
                         eb, columns.data(), p);
        else
          rowOfBlock<8>(w, src, inChannels, y, valid, cb, ldc, accumulate, eb,
                        columns.data(), p);
      }
    }
  };
  // Bands of output rows, one per task (as sgemm splits by size).
  double flops = 2.0 * m * k * oh * src.ow;
  int64_t tasks = flops < kSgemmParallelFlops ? 1 : getNumThreads();
  if (threads > 0)
    tasks = std::min(tasks, threads);
  tasks = std::max<int64_t>(1, std::min(tasks, oh));
  if (tasks == 1) {
    rows(0, oh);
    return;
  }
  int64_t band = (oh + tasks - 1) / tasks;
  parallelFor(static_cast<int>(tasks), [&](int t) {
    rows(t * band, std::min(oh, (t + 1) * band));
  });
}
