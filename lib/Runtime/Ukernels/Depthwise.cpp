//===- Depthwise.cpp - Depthwise convolution ukernel -----------------------===//
//
// One input plane at a time: its rows are copied into a small per-thread
// buffer with the horizontal padding written in and, for a horizontal
// stride s, split into s phases (phase p holds columns p, p+s, p+2s, ...),
// so that every filter tap reads a contiguous run of the buffer: tap j of
// output column x reads phase (j*dw) % s at x + (j*dw) / s. The buffer
// (a plane of at most a few hundred KiB, usually far less) stays in L2 while
// the plane's output rows are computed; each output row is built in
// registers, 32 columns at a time (4 AVX2 accumulators, one broadcast
// filter value per tap), bias first, then the residual and the clamp, and
// stored once; an activation then runs over the plane just written (in
// L1/L2; activateRows). Rows of the vertical padding are skipped, never
// read. With AVX-512, a square 3x3 or 5x5 filter at stride 1 and rows of
// 14 or more, a block of output rows loads each input row's vectors once
// per filter column and feeds every output row whose window covers it
// (rowReuseBlock512), in place of one load per multiply-add.
//
// Generated loops (the linalg.generic FlashToLinalg emits, vectorized along
// a row by LLVM) load and store every output element once per tap, gather
// strided inputs element by element and need the padded input copied
// whole beforehand.
//
//===----------------------------------------------------------------------===//
#include "Activation.h"

// GCC 12's avx512fintrin.h reads an intentionally undefined register in
// its helpers (_mm512_undefined_ps) and warns about it in every caller.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

using namespace flash::runtime;

namespace {
/// Extra floats after each phase: a vector loop reads whole vectors past
/// the last output column (what they hold only reaches lanes that are not
/// stored), and the AVX-512 copy writes whole 16-lane vectors.
constexpr int64_t kSlack = 16;
/// Floats after the plane buffer's row of zeros: the AVX-512 blocks read
/// whole 16-lane vectors past a row's last column.
constexpr int64_t kTailSlack = 16;

/// A per-thread buffer of at least `floats`: slot 0 the plane layout, slot
/// 1 the channel groups' (groupAvx2; the plane path keeps pointers into 0).
float *planeBuffer(size_t floats, int slot = 0) {
  thread_local std::vector<float> buffers[2];
  std::vector<float> &buffer = buffers[slot];
  if (buffer.size() < floats + 16)
    buffer.assign(floats + 16, 0.0f);
  // On a cache line: with rows of whole lines (layoutOf), a row's aligned
  // vectors do not straddle two.
  auto at = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - at % 64) % 64) / sizeof(float);
}

/// Past the input's last element: what a vector load may not cross.
const float *inputEnd(const DepthwiseConv &c) {
  return c.input + (c.batch - 1) * c.inN + (c.channels - 1) * c.inC +
         (c.h - 1) * c.inH + c.w;
}

/// Past the residual's last element (only with a residual: pointer
/// arithmetic on a null one is undefined).
const float *residualEnd(const DepthwiseConv &c) {
  return c.residual + (c.batch - 1) * c.resN +
         (c.channels * c.multiplier - 1) * c.resC + (c.oh - 1) * c.resH + c.ow;
}

/// The layout of one plane in the buffer: h rows of sw phases, then one
/// row of zeros that the taps in the vertical padding read (no branch per
/// tap; their products are zeros).
struct PlaneLayout {
  int64_t width;     ///< padded columns the taps reach (from -padLeft)
  int64_t span;      ///< floats per phase
  int64_t rowFloats; ///< floats per input row: sw phases
};

PlaneLayout layoutOf(const DepthwiseConv &c) {
  // Columns the taps reach, counted from -padLeft.
  int64_t width = (c.ow - 1) * c.sw + (c.kw - 1) * c.dw + 1;
  // Phases of whole cache lines (16 floats).
  int64_t span = ((width + c.sw - 1) / c.sw + kSlack + 15) / 16 * 16;
  return {width, span, span * c.sw};
}

/// One input plane's work: the buffer, tap offsets into a row, per-output
/// row pointers.
struct PlaneTask {
  const DepthwiseConv *c;
  PlaneLayout l;
  float *plane;
  const float *zeros; ///< a row of zeros
  const int64_t *offsets;
  const float *resEnd; ///< past the residual's last element
  /// The input row filter row i of output row y reads (zeros outside).
  const float *row(int64_t y, int64_t i) const {
    return padded(y * c->sh + i * c->dh);
  }
  /// Input row r - padTop (r counted from the top of the padding).
  const float *padded(int64_t r) const {
    r -= c->padTop;
    return r >= 0 && r < c->h ? plane + r * l.rowFloats : zeros;
  }
};

/// Padded column X of the buffer's row (phase X % sw, index X / sw) from
/// input column X - padLeft; the portable path and the edges of the fast one.
inline void fillColumns(const DepthwiseConv &c, const PlaneLayout &l,
                        const float *src, float *row, int64_t from,
                        int64_t to) {
  // Phase and index counted along (no division per column).
  int64_t phase = from % c.sw, index = from / c.sw;
  for (int64_t X = from; X < to; ++X) {
    int64_t x = X - c.padLeft;
    row[phase * l.span + index] = x >= 0 && x < c.w ? src[x] : 0.0f;
    if (++phase == c.sw)
      phase = 0, ++index;
  }
}

void fillPlaneGeneric(const DepthwiseConv &c, const PlaneLayout &l,
                      const float *in, float *plane) {
  for (int64_t y = 0; y < c.h; ++y)
    fillColumns(c, l, in + y * c.inH, plane + y * l.rowFloats, 0, l.width);
}

/// The first n (< 8) floats at `src` in a vector, zeros after. When 8
/// floats from `src` stay before `end` (inside the tensor) one full load
/// and a mask; else the floats one by one into registers. Not vmaskmovps,
/// nor a vector load of floats just stored one by one: on the AMD cores
/// here both cost far more (measured: masked moves, then the store-to-load
/// forwarding stall, took most of a 7x7 layer's time).
__attribute__((target("avx2,fma"))) inline __m256 loadPartial(const float *src,
                                                              int64_t n,
                                                              const float *end) {
  alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  if (src + 8 <= end)
    return _mm256_and_ps(
        _mm256_loadu_ps(src),
        _mm256_castsi256_ps(_mm256_loadu_si256(
            reinterpret_cast<const __m256i *>(table + 8 - n))));
  auto at = [&](int k) { return k < n ? src[k] : 0.0f; };
  return _mm256_setr_ps(at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7));
}

/// The first n (< 8) lanes of `v` to `dst`.
__attribute__((target("avx2,fma"))) inline void
storePartial(float *dst, __m256 v, int64_t n) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  for (int k = 0; k < 8; ++k)
    if (k < n)
      dst[k] = lanes[k];
}

/// The next 8 input floats at `src` of which `n` exist (zeros for the rest).
__attribute__((target("avx2,fma"))) inline __m256 load8(const float *src,
                                                        int64_t n,
                                                        const float *end) {
  if (n >= 8)
    return _mm256_loadu_ps(src);
  return n > 0 ? loadPartial(src, n, end) : _mm256_setzero_ps();
}

__attribute__((target("avx2,fma"))) void
fillPlaneAvx2(const DepthwiseConv &c, const PlaneLayout &l, const float *in,
              float *plane) {
  const float *end = inputEnd(c);
  for (int64_t y = 0; y < c.h; ++y) {
    const float *src = in + y * c.inH;
    float *row = plane + y * l.rowFloats;
    // Padded columns [lo, hi) read input columns [lo - padLeft, ...) that
    // all exist: vectors there (stride 1: copies; stride 2: 16 columns
    // split into their two phases), the last one partial with zeros past
    // the input's end (the right padding); the edges column by column.
    int64_t lo = c.padLeft, hi = std::min(l.width, c.padLeft + c.w);
    int64_t X = lo;
    if (c.sw == 1) {
      fillColumns(c, l, src, row, 0, lo);
      for (; X < hi; X += 8)
        _mm256_storeu_ps(row + X, load8(src + X - c.padLeft, hi - X, end));
    } else if (c.sw == 2) {
      X = (lo + 1) / 2 * 2; // whole pairs: X even
      fillColumns(c, l, src, row, 0, X);
      for (; X < hi; X += 16) {
        const float *from = src + X - c.padLeft;
        __m256 a = load8(from, hi - X, end);
        __m256 b = load8(from + 8, hi - X - 8, end);
        __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        // [a0 a2 b0 b2 a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
        even = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
        odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(odd), _MM_SHUFFLE(3, 1, 2, 0)));
        _mm256_storeu_ps(row + X / 2, even);
        _mm256_storeu_ps(row + l.span + X / 2, odd);
      }
    } else {
      X = 0;
    }
    if (X < l.width)
      fillColumns(c, l, src, row, X, l.width);
  }
}

/// The stride-1 copy with AVX-512: each buffer row in whole 16-lane
/// vectors, each loaded under the mask of the input columns it covers
/// (zeros elsewhere: the padding), the masks the same for every row. The
/// AVX2 copy's edges (a scalar loop with a division per call) took a third
/// of its time on 56-wide rows.
__attribute__((target("avx512f"))) void
fillPlaneStride1Avx512(const DepthwiseConv &c, const PlaneLayout &l,
                       const float *in, float *plane) {
  // Lanes of vector v whose input column 16v + lane - padLeft is in [0, w).
  auto maskOf = [&](int64_t v) {
    int64_t first = std::max<int64_t>(0, c.padLeft - 16 * v);
    int64_t end = std::min<int64_t>(16, c.padLeft + c.w - 16 * v);
    return end > first ? static_cast<__mmask16>(((1u << end) - 1) &
                                                ~((1u << first) - 1))
                       : __mmask16(0);
  };
  const int64_t vectors = (l.width + 15) / 16;
  constexpr int64_t kKept = 16; // masks kept for rows up to 256 wide
  __mmask16 masks[kKept];
  for (int64_t v = 0; v < std::min(vectors, kKept); ++v)
    masks[v] = maskOf(v);
  for (int64_t y = 0; y < c.h; ++y) {
    const float *src = in + y * c.inH - c.padLeft;
    float *row = plane + y * l.rowFloats;
    // A masked-off lane is not read: the address may lie outside the row.
    for (int64_t v = 0; v < vectors; ++v)
      _mm512_storeu_ps(row + 16 * v,
                       _mm512_maskz_loadu_ps(v < kKept ? masks[v] : maskOf(v),
                                             src + 16 * v));
  }
}

/// One filter tap (weight `*w`, at offset `o` into each row) into R x V
/// accumulators.
template <int R, int V>
__attribute__((target("avx2,fma"), always_inline)) inline void
tapAvx2(__m256 (&acc)[R][V], const float *const *rows, const float *w,
        int64_t o) {
  __m256 wv = _mm256_broadcast_ss(w);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] =
          _mm256_fmadd_ps(wv, _mm256_loadu_ps(rows[r] + o + 8 * v), acc[r][v]);
}

/// Filter row i (of width KW, or `kw` when KW is 0) over output rows
/// [y0, y0 + R) x vectors [x0, x0 + 8V).
template <int R, int V, int KW>
__attribute__((target("avx2,fma"), always_inline)) inline void
filterRowAvx2(__m256 (&acc)[R][V], const PlaneTask &p, const float *f,
              int64_t kw, int64_t y0, int64_t x0, int64_t i) {
  const float *rows[R];
  for (int r = 0; r < R; ++r)
    rows[r] = p.row(y0 + r, i) + x0;
  const float *fi = f + i * kw;
  if constexpr (KW > 0) {
#pragma GCC unroll 8
    for (int j = 0; j < KW; ++j)
      tapAvx2<R, V>(acc, rows, fi + j, p.offsets[j]);
  } else {
    for (int64_t j = 0; j < kw; ++j)
      tapAvx2<R, V>(acc, rows, fi + j, p.offsets[j]);
  }
}

/// Output rows [y0, y0 + R) x vectors [x0, x0 + 8V) of one output channel
/// (filter `f`, output rows `out`, residual rows `res`, `bias`): R x V
/// accumulators in registers over all taps, then residual, clamp, store.
/// `tail`: the valid columns of the last vector when it passes the row's
/// end (0: it does not). KW > 0: the filter's width, known here, so the
/// taps unroll and the accumulators stay in registers (with a run-time
/// width GCC kept a 2 x 1 block's two accumulators on the stack: two
/// stores and loads per tap).
template <int R, int V, int KW>
__attribute__((target("avx2,fma"))) inline void
blockAvx2(const PlaneTask &p, const float *f, float bias, float *const *out,
          const float *const *res, int64_t y0, int64_t x0, int64_t tail) {
  const DepthwiseConv &c = *p.c;
  __m256 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm256_set1_ps(bias);
  const int64_t kw = KW > 0 ? KW : c.kw;
  // A square filter (KW rows) unrolls whole: the accumulators then live in
  // registers across its rows too (GCC spilled them per row of a loop).
  if constexpr (KW > 0) {
    if (c.kh == KW) {
#pragma GCC unroll 8
      for (int i = 0; i < KW; ++i)
        filterRowAvx2<R, V, KW>(acc, p, f, kw, y0, x0, i);
    } else {
      for (int64_t i = 0; i < c.kh; ++i)
        filterRowAvx2<R, V, KW>(acc, p, f, kw, y0, x0, i);
    }
  } else {
    for (int64_t i = 0; i < c.kh; ++i)
      filterRowAvx2<R, V, KW>(acc, p, f, kw, y0, x0, i);
  }
  const __m256 lo = _mm256_set1_ps(c.lo), hi = _mm256_set1_ps(c.hi);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      int64_t x = x0 + 8 * v;
      bool partial = tail && v == V - 1;
      __m256 a = acc[r][v];
      if (res)
        a = _mm256_add_ps(a, partial ? loadPartial(res[r] + x, tail, p.resEnd)
                                     : _mm256_loadu_ps(res[r] + x));
      // NaN-preserving clamp: max/min return their second operand when
      // one is NaN.
      a = _mm256_min_ps(hi, _mm256_max_ps(lo, a));
      if (partial)
        storePartial(out[r] + x, a, tail);
      else
        _mm256_storeu_ps(out[r] + x, a);
    }
}

/// Rows y..y+R-1 of the output (rows outH apart) and of the residual (or
/// nulls) as pointers, for a block of R rows.
template <int R>
inline void rowPointers(float *out, int64_t outH, const float *res,
                        int64_t resH, int64_t y, float *(&outs)[R],
                        const float *(&ress)[R]) {
  for (int r = 0; r < R; ++r) {
    outs[r] = out + (y + r) * outH;
    ress[r] = res ? res + (y + r) * resH : nullptr;
  }
}

/// Output rows [y, y + n) of one channel over columns [x0, x1) in blocks of
/// V vectors (`tail`: the valid columns of the last block's last vector,
/// 0 when it is whole), R rows at a time, then halving R. Rows outer: a
/// row group's input rows stay in L1 across its column blocks.
template <int R, int V, int KW>
__attribute__((target("avx2,fma"))) void
rowGroupsAvx2(const PlaneTask &p, const float *f, float bias, float *out,
              int64_t outH, const float *res, int64_t resH, int64_t y,
              int64_t n, int64_t x0, int64_t x1, int64_t tail) {
  float *outs[R];
  const float *ress[R];
  for (; n >= R; y += R, n -= R) {
    rowPointers<R>(out, outH, res, resH, y, outs, ress);
    for (int64_t x = x0; x < x1; x += 8 * V)
      blockAvx2<R, V, KW>(p, f, bias, outs, res ? ress : nullptr, y, x,
                          x + 8 * V >= x1 ? tail : 0);
  }
  if constexpr (R > 1)
    if (n > 0)
      rowGroupsAvx2<R / 2, V, KW>(p, f, bias, out, outH, res, resH, y, n, x0,
                                  x1, tail);
}

/// One output channel: the columns in whole blocks of 4 vectors, 2 rows at
/// a time, then the rest of each row (1-4 vectors, the last maybe partial)
/// with as many rows at a time as keep 8-9 accumulators (enough
/// independent FMA chains for two FMA units of latency 4; the rest ran 2
/// rows of one vector: two chains).
template <int KW>
__attribute__((target("avx2,fma"))) void
channelAvx2(const PlaneTask &p, const float *f, float bias, float *out,
            int64_t outH, const float *res, int64_t resH) {
  const int64_t oh = p.c->oh, ow = p.c->ow;
  const int64_t full = ow / 32 * 32, tail = ow % 8;
  if (full > 0)
    rowGroupsAvx2<2, 4, KW>(p, f, bias, out, outH, res, resH, 0, oh, 0, full,
                            0);
  auto rest = [&](auto vectors) {
    constexpr int V = decltype(vectors)::value;
    rowGroupsAvx2<V == 1 ? 8 : V == 2 ? 4 : V == 3 ? 3 : 2, V, KW>(
        p, f, bias, out, outH, res, resH, 0, oh, full, ow, tail);
  };
  switch ((ow - full + 7) / 8) {
  case 1: rest(std::integral_constant<int, 1>()); break;
  case 2: rest(std::integral_constant<int, 2>()); break;
  case 3: rest(std::integral_constant<int, 3>()); break;
  case 4: rest(std::integral_constant<int, 4>()); break;
  default: break;
  }
}

/// AVX-512 blocks of R output rows x V 16-lane vectors for a K x K filter
/// at stride 1: the block's R-1+K input rows are walked once; each row's
/// V vectors at filter column j are loaded once and multiplied into every
/// output row r whose window holds that row (filter row t - r). A 4 x 4
/// block of a 3x3 filter loads 72 vectors for 144 multiply-adds, where the
/// AVX2 blocks load one per multiply-add. Lanes past the row's end read the
/// buffer's slack and are not stored (`tail`: the last vector's stored
/// lanes).
template <int R, int V, int K>
__attribute__((target("avx512f"))) inline void
rowReuseBlock512(const PlaneTask &p, const float *f, float bias,
                 float *const *out, const float *const *res, int64_t y0,
                 int64_t x0, __mmask16 tail) {
  const DepthwiseConv &c = *p.c;
  __m512 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm512_set1_ps(bias);
  constexpr int T = R - 1 + K;
#pragma GCC unroll 32
  for (int t = 0; t < T; ++t) {
    const float *row = p.padded(y0 + t) + x0;
#pragma GCC unroll 8
    for (int j = 0; j < K; ++j) {
      __m512 in[V];
      for (int v = 0; v < V; ++v) {
        in[v] = _mm512_loadu_ps(row + p.offsets[j] + 16 * v);
        // In a register: GCC otherwise folds the load into each of the
        // vector's multiply-adds (one load each again).
        __asm__("" : "+v"(in[v]));
      }
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const int i = t - r; // the filter row output row r puts here
        if (i < 0 || i >= K)
          continue;
        const __m512 w = _mm512_set1_ps(f[i * K + j]);
        for (int v = 0; v < V; ++v)
          acc[r][v] = _mm512_fmadd_ps(w, in[v], acc[r][v]);
      }
    }
  }
  const __m512 lo = _mm512_set1_ps(c.lo), hi = _mm512_set1_ps(c.hi);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      const __mmask16 m = v == V - 1 ? tail : __mmask16(0xFFFF);
      const int64_t x = x0 + 16 * v;
      __m512 a = acc[r][v];
      if (res)
        a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, res[r] + x));
      // NaN-preserving clamp: max/min return their second operand when
      // one is NaN.
      a = _mm512_min_ps(hi, _mm512_max_ps(lo, a));
      _mm512_mask_storeu_ps(out[r] + x, m, a);
    }
}

/// Output rows [y, y + n) over columns [x0, x0 + 16V) (`tail`: the last
/// vector's lanes), R rows at a time, then halving R.
template <int R, int V, int K>
__attribute__((target("avx512f"))) void
rowReuseRows512(const PlaneTask &p, const float *f, float bias, float *out,
                int64_t outH, const float *res, int64_t resH, int64_t y,
                int64_t n, int64_t x0, __mmask16 tail) {
  float *outs[R];
  const float *ress[R];
  for (; n >= R; y += R, n -= R) {
    rowPointers<R>(out, outH, res, resH, y, outs, ress);
    rowReuseBlock512<R, V, K>(p, f, bias, outs, res ? ress : nullptr, y, x0,
                              tail);
  }
  if constexpr (R > 1)
    if (n > 0)
      rowReuseRows512<R / 2, V, K>(p, f, bias, out, outH, res, resH, y, n,
                                   x0, tail);
}

/// One output channel: columns in blocks of up to 4 vectors (64), each
/// block's rows R at a time so that R x V accumulators are 15-16 (with a
/// 3x3 filter's 9 weights and V input vectors, within the 32 registers).
template <int K>
__attribute__((target("avx512f"))) void
channelRowReuse512(const PlaneTask &p, const float *f, float bias,
                   float *out, int64_t outH, const float *res, int64_t resH) {
  const int64_t oh = p.c->oh, ow = p.c->ow;
  for (int64_t x0 = 0; x0 < ow; x0 += 64) {
    const int64_t cols = std::min<int64_t>(64, ow - x0);
    const int vectors = static_cast<int>((cols + 15) / 16);
    const __mmask16 tail =
        cols % 16 ? static_cast<__mmask16>((1u << (cols % 16)) - 1)
                  : __mmask16(0xFFFF);
    switch (vectors) {
    case 4:
      rowReuseRows512<4, 4, K>(p, f, bias, out, outH, res, resH, 0, oh,
                               x0, tail);
      break;
    case 3:
      rowReuseRows512<5, 3, K>(p, f, bias, out, outH, res, resH, 0, oh,
                               x0, tail);
      break;
    case 2:
      rowReuseRows512<8, 2, K>(p, f, bias, out, outH, res, resH, 0, oh,
                               x0, tail);
      break;
    default:
      rowReuseRows512<8, 1, K>(p, f, bias, out, outH, res, resH, 0, oh,
                               x0, tail);
      break;
    }
  }
}

/// Whether channelRowReuse512 runs this convolution: AVX-512, a square
/// 3x3 or 5x5 filter at stride 1 (any horizontal dilation: the buffer's
/// columns), rows of at least 14. One-op, one thread, Zen 4, against the
/// AVX2 planes and channel groups: 1.2-1.8x at stride 1 on rows of 14 to
/// 112 (MobileNet and EfficientNet shapes). At stride 2 (where a block
/// reuses a third of the rows; rows split into even and odd columns by
/// AVX-512 permutes) no faster than the channel groups (0.87-1.06x), and
/// on 7x7 planes (one vector, half empty) 0.6x: those keep the AVX2 paths.
/// FLASH_DEPTHWISE_ROW_REUSE=0 keeps the AVX2 paths (to compare).
bool reusesRows(const DepthwiseConv &c) {
  static const bool on = [] {
    const char *env = std::getenv("FLASH_DEPTHWISE_ROW_REUSE");
    return __builtin_cpu_supports("avx512f") &&
           !(env && std::string(env) == "0");
  }();
  return on && c.kh == c.kw && (c.kh == 3 || c.kh == 5) && c.sh == 1 &&
         c.sw == 1 && c.dh == 1 && c.ow >= 14;
}

void rowReuseChannel(const PlaneTask &p, const float *f, float bias,
                     float *out, int64_t outH, const float *res,
                     int64_t resH) {
  if (p.c->kh == 3)
    channelRowReuse512<3>(p, f, bias, out, outH, res, resH);
  else
    channelRowReuse512<5>(p, f, bias, out, outH, res, resH);
}

void channelGeneric(const PlaneTask &p, const float *f, float bias,
                    float *out, int64_t outH, const float *res,
                    int64_t resH) {
  const DepthwiseConv &c = *p.c;
  for (int64_t y = 0; y < c.oh; ++y)
    for (int64_t x = 0; x < c.ow; ++x) {
      float acc = bias;
      for (int64_t i = 0; i < c.kh; ++i) {
        const float *row = p.row(y, i);
        for (int64_t j = 0; j < c.kw; ++j)
          acc += f[i * c.kw + j] * row[p.offsets[j] + x];
      }
      if (res)
        acc += res[y * resH + x];
      // NaN-preserving, as arith.maximumf / minimumf.
      acc = acc < c.lo ? c.lo : acc;
      out[y * outH + x] = activateScalar(acc > c.hi ? c.hi : acc, c.activation);
    }
}

/// Small and mid-size planes, eight channels at once (interleavesChannels):
/// along a row of at most 16 output columns a vector is mostly edge (a
/// 7-wide row used 7 of 8 lanes, and each plane paid its own copy and row
/// setup: 2.6x ONNX Runtime's time on MobileNetV2's 960 x 7 x 7 layers). So the eight planes are interleaved
/// into a padded buffer with one pixel's 8 channels contiguous, each
/// output pixel is 8 channels' FMAs over the taps (one weight vector per
/// tap, full lanes, any stride and dilation), and the outputs are written
/// back plane by plane with the residual and clamp.
constexpr int64_t kGroup = 8;

/// An 8x8 transpose in registers: lane j of r[i] <-> lane i of r[j].
__attribute__((target("avx2,fma"))) inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

/// Rows of up to 16 columns, and rows of up to 64 that the plane path's
/// 32-column blocks do not divide (28, 56: its remainder blocks are
/// smaller and partly empty). One-op A/B on one thread, least of 5
/// processes each (Zen 4), planes vs groups: 192x28x28 3x3 121 -> 85 us,
/// 240x28x28 5x5 291 -> 185, 96x56x56 7x7 644 -> 443, 96x112x112 s2 366
/// -> 302; but 16x64x64 42 -> 48, 64x128x128 656 -> 794, 32x112x112 260
/// -> 263: those stay planes.
bool interleavesChannels(const DepthwiseConv &c) {
  return c.multiplier == 1 && c.channels >= kGroup &&
         (c.ow <= 16 || (c.ow <= 64 && c.ow % 32 != 0));
}

/// P output pixels of a row, eight channels each, from the interleaved
/// input at `at` (the first pixel's window's top-left; rows wp pixels
/// apart) into `out`: P accumulators in registers over all taps.
/// (K > 0: a K x K filter, its taps unrolled; 0: c.kh x c.kw.)
template <int P, int K>
__attribute__((target("avx2,fma"))) inline void
pixelsAvx2(const DepthwiseConv &c, const float *at, int64_t wp,
           const float *weights, __m256 bias, float *out) {
  __m256 acc[P];
  for (int q = 0; q < P; ++q)
    acc[q] = bias;
  const int64_t step = c.sw * kGroup;
  const int64_t kh = K > 0 ? K : c.kh, kw = K > 0 ? K : c.kw;
#pragma GCC unroll 7
  for (int64_t i = 0; i < kh; ++i) {
    const float *row = at + i * c.dh * wp * kGroup;
#pragma GCC unroll 7
    for (int64_t j = 0; j < kw; ++j) {
      __m256 w = _mm256_loadu_ps(weights + (i * kw + j) * kGroup);
      const float *tap = row + j * c.dw * kGroup;
#pragma GCC unroll 8
      for (int q = 0; q < P; ++q)
        acc[q] = _mm256_fmadd_ps(w, _mm256_loadu_ps(tap + q * step), acc[q]);
    }
  }
  for (int q = 0; q < P; ++q)
    _mm256_storeu_ps(out + q * kGroup, acc[q]);
}

/// A row's blocks of up to 8 pixels (`count`), the filter size K as above.
template <int K>
__attribute__((target("avx2,fma"))) void
pixelBlockAvx2(const DepthwiseConv &c, int64_t count, const float *at,
               int64_t wp, const float *weights, __m256 bias, float *o) {
  switch (count) {
  case 8: pixelsAvx2<8, K>(c, at, wp, weights, bias, o); break;
  case 7: pixelsAvx2<7, K>(c, at, wp, weights, bias, o); break;
  case 6: pixelsAvx2<6, K>(c, at, wp, weights, bias, o); break;
  case 5: pixelsAvx2<5, K>(c, at, wp, weights, bias, o); break;
  case 4: pixelsAvx2<4, K>(c, at, wp, weights, bias, o); break;
  case 3: pixelsAvx2<3, K>(c, at, wp, weights, bias, o); break;
  case 2: pixelsAvx2<2, K>(c, at, wp, weights, bias, o); break;
  default: pixelsAvx2<1, K>(c, at, wp, weights, bias, o); break;
  }
}

/// The taps x 8 weights of eight channels (`filter`: channel-major, taps
/// per channel) tap-major: one vector of the eight channels per tap.
/// Eight taps at a time through a transpose, the rest one by one (as
/// scalar moves, 72 per 3x3 group, they took 9% of a 7x7 layer).
__attribute__((target("avx2,fma"))) inline void
interleaveWeights(const float *filter, int64_t taps, float *weights) {
  int64_t t = 0;
  for (; t + 8 <= taps; t += 8) {
    __m256 r[8];
    for (int g = 0; g < 8; ++g)
      r[g] = _mm256_loadu_ps(filter + g * taps + t);
    transpose8(r);
    for (int q = 0; q < 8; ++q)
      _mm256_storeu_ps(weights + (t + q) * kGroup, r[q]);
  }
  for (; t < taps; ++t)
    for (int64_t g = 0; g < kGroup; ++g)
      weights[t * kGroup + g] = filter[g * taps + t];
}

/// Input row `y` of the eight planes at `planes` into `row`: wp padded
/// columns of eight channels each, zeros outside the image (a row of the
/// vertical padding is all zeros).
__attribute__((target("avx2,fma"))) inline void
interleaveRow(const DepthwiseConv &c, const float *planes, int64_t y,
              int64_t wp, const float *end, float *row) {
  if (y < 0 || y >= c.h) {
    std::fill(row, row + wp * kGroup, 0.0f);
    return;
  }
  std::fill(row, row + std::min(c.padLeft, wp) * kGroup, 0.0f);
  // Eight input columns at a time, transposed: eight pixels' channel
  // vectors (past the row's end: zeros).
  int64_t X = c.padLeft;
  for (int64_t x = 0; x < c.w && X < wp; x += 8, X += 8) {
    __m256 v[8];
    for (int g = 0; g < 8; ++g)
      v[g] = load8(planes + g * c.inC + y * c.inH + x, c.w - x, end);
    transpose8(v);
    int64_t store = std::min<int64_t>(8, wp - X);
    // Whole blocks unrolled: as a loop GCC made the stores a memcpy
    // (rep movsq), 8% of a 7x7 layer.
    if (store == 8) {
      for (int q = 0; q < 8; ++q)
        _mm256_storeu_ps(row + (X + q) * kGroup, v[q]);
    } else {
      for (int q = 0; q < 8; ++q)
        if (q < store)
          _mm256_storeu_ps(row + (X + q) * kGroup, v[q]);
    }
  }
  if (X < wp) // the right padding past the last block
    std::fill(row + X * kGroup, row + wp * kGroup, 0.0f);
}

/// `count` (<= 8) pixels of eight channels, pixel-major at `at`, to the
/// eight planes at `out` (planes outC apart) with the residual at `res`
/// (resC apart, or none) and the clamp. `at` may be read 8 pixels long:
/// the lanes past `count` are not stored.
__attribute__((target("avx2,fma"))) inline void
writeBack(const DepthwiseConv &c, const float *at, int64_t count, float *out,
          const float *res) {
  __m256 r[8];
  for (int q = 0; q < 8; ++q)
    r[q] = _mm256_loadu_ps(at + q * kGroup);
  transpose8(r);
  const __m256 lo = _mm256_set1_ps(c.lo), hi = _mm256_set1_ps(c.hi);
  for (int g = 0; g < 8; ++g) {
    __m256 v = r[g];
    if (res) {
      const float *rg = res + g * c.resC;
      v = _mm256_add_ps(v, count == 8 ? _mm256_loadu_ps(rg)
                                      : loadPartial(rg, count, residualEnd(c)));
    }
    // NaN-preserving clamp: max/min return their second operand when one
    // is NaN.
    v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    float *og = out + g * c.outC;
    if (count == 8)
      _mm256_storeu_ps(og, v);
    else
      storePartial(og, v, count);
  }
}

__attribute__((target("avx2,fma"))) void
groupAvx2(const DepthwiseConv &c, int64_t n, int64_t ch0) {
  // Output rows in strips of about 1024 pixels, so a strip's interleaved
  // input and output (~32 KiB each) stay in L1/L2; a whole 112x112 group
  // was 0.8 MiB. The rows a strip's taps reach are interleaved per strip
  // (the (kh-1)*dh rows two strips share, twice).
  const int64_t stripRows = std::max<int64_t>(1, std::min(c.oh, 1024 / c.ow));
  const int64_t hp = (stripRows - 1) * c.sh + (c.kh - 1) * c.dh + 1;
  const int64_t wp = layoutOf(c).width; // columns the taps reach from -pad
  const int64_t taps = c.kh * c.kw, pixels = stripRows * c.ow;
  float *buf = planeBuffer(
      static_cast<size_t>((hp * wp + taps + pixels + 8) * kGroup), 1);
  float *in = buf, *weights = buf + hp * wp * kGroup, *outs = weights + taps * kGroup;
  interleaveWeights(c.filter + ch0 * taps, taps, weights);
  alignas(32) float biasLanes[kGroup];
  for (int64_t g = 0; g < kGroup; ++g)
    biasLanes[g] = c.bias ? c.bias[ch0 + g] : 0.0f;
  const __m256 bias = _mm256_load_ps(biasLanes);
  const float *end = inputEnd(c);
  const float *planes = c.input + n * c.inN + ch0 * c.inC;
  float *out = c.out + n * c.outN + ch0 * c.outC;
  const float *res = c.residual ? c.residual + n * c.resN + ch0 * c.resC : nullptr;
  // Where a plane's rows are contiguous (its row stride is its width, as
  // in any dense NCHW tensor) the write-back runs flat across rows: a 7x7
  // plane is six whole vectors and one pixel, not seven 7-lane partial
  // stores (which took an eighth of a 7x7 layer).
  const bool flat = c.outH == c.ow && (!res || c.resH == c.ow);
  for (int64_t y0 = 0; y0 < c.oh; y0 += stripRows) {
    const int64_t rows = std::min(stripRows, c.oh - y0);
    const int64_t top = y0 * c.sh - c.padTop; // input row of buffer row 0
    const int64_t used = (rows - 1) * c.sh + (c.kh - 1) * c.dh + 1;
    for (int64_t r = 0; r < used; ++r)
      interleaveRow(c, planes, top + r, wp, end, in + r * wp * kGroup);
    // Up to 8 pixels of a row in flight: 8 independent FMA chains.
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x0 = 0; x0 < c.ow; x0 += 8) {
        float *o = outs + (y * c.ow + x0) * kGroup;
        const float *at = in + (y * c.sh * wp + x0 * c.sw) * kGroup;
        int64_t count = std::min<int64_t>(8, c.ow - x0);
        if (c.kh == 3 && c.kw == 3)
          pixelBlockAvx2<3>(c, count, at, wp, weights, bias, o);
        else if (c.kh == 5 && c.kw == 5)
          pixelBlockAvx2<5>(c, count, at, wp, weights, bias, o);
        else if (c.kh == 7 && c.kw == 7)
          pixelBlockAvx2<7>(c, count, at, wp, weights, bias, o);
        else
          pixelBlockAvx2<0>(c, count, at, wp, weights, bias, o);
      }
    // Back to planes, eight pixels at a time: residual, clamp, store.
    const int64_t lines = flat ? 1 : rows, width = flat ? rows * c.ow : c.ow;
    for (int64_t y = 0; y < lines; ++y)
      for (int64_t x = 0; x < width; x += 8)
        writeBack(c, outs + (y * width + x) * kGroup,
                  std::min<int64_t>(8, width - x),
                  out + (y0 + y) * c.outH + x,
                  res ? res + (y0 + y) * c.resH + x : nullptr);
    // The activation over the strip's rows just written (still in L1/L2),
    // 16 lanes at a time where the CPU has them (activateRows).
    if (c.activation != Activation::None)
      for (int64_t g = 0; g < kGroup; ++g)
        activateRows(out + g * c.outC + y0 * c.outH, c.outH, rows, c.ow,
                     c.activation);
  }
}

/// The next input plane toward L1 while this one is computed. Why: the
/// planes are one sequential stream, but read in bursts (a plane's copy,
/// then its compute) that the hardware prefetcher does not run ahead of.
/// One op, one thread, Zen 4, against none: 1.25-1.55x on the row-reuse
/// shapes (144 x 56 x 56: 235 -> 167-175 us); whole MobileNetV2 8.53 ->
/// 8.16 ms.
void prefetchPlane(const DepthwiseConv &c, int64_t plane) {
  const int64_t n = plane / c.channels, ch = plane % c.channels;
  const char *in =
      reinterpret_cast<const char *>(c.input + n * c.inN + ch * c.inC);
  const int64_t rowBytes = c.w * static_cast<int64_t>(sizeof(float));
  const int64_t rows = c.inH == c.w ? 1 : c.h; // contiguous: one run
  const int64_t runBytes = c.inH == c.w ? c.h * rowBytes : rowBytes;
  for (int64_t y = 0; y < rows; ++y)
    for (int64_t b = 0; b < runBytes; b += 64)
      _mm_prefetch(in + y * c.inH * static_cast<int64_t>(sizeof(float)) + b,
                   _MM_HINT_T0);
}

/// Input planes [first, last) of the batch (plane = image * channels + c).
void runPlanes(const DepthwiseConv &c, int64_t first, int64_t last) {
  static const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  PlaneTask p;
  p.c = &c;
  p.l = layoutOf(c);
  // h rows, then the row of zeros.
  p.plane = planeBuffer(
      static_cast<size_t>((c.h + 1) * p.l.rowFloats + kTailSlack));
  float *zeros = p.plane + c.h * p.l.rowFloats;
  std::fill(zeros, zeros + p.l.rowFloats, 0.0f);
  p.zeros = zeros;
  std::vector<int64_t> offsets(c.kw);
  for (int64_t j = 0; j < c.kw; ++j)
    offsets[j] = (j * c.dw) % c.sw * p.l.span + (j * c.dw) / c.sw;
  p.offsets = offsets.data();
  p.resEnd = c.residual ? residualEnd(c) : nullptr;
  const bool rowReuse = reusesRows(c);
  const bool groups = avx2 && !rowReuse && interleavesChannels(c);
  for (int64_t plane = first; plane < last; ++plane) {
    int64_t n = plane / c.channels, ch = plane % c.channels;
    // Eight channels of one image at once, where they are all this task's.
    if (groups && plane + kGroup <= last && ch + kGroup <= c.channels) {
      groupAvx2(c, n, ch);
      plane += kGroup - 1;
      continue;
    }
    const float *in = c.input + n * c.inN + ch * c.inC;
    if (rowReuse)
      fillPlaneStride1Avx512(c, p.l, in, p.plane);
    else if (avx2)
      fillPlaneAvx2(c, p.l, in, p.plane);
    else
      fillPlaneGeneric(c, p.l, in, p.plane);
    if (rowReuse && plane + 1 < last)
      prefetchPlane(c, plane + 1);
    for (int64_t m = 0; m < c.multiplier; ++m) {
      int64_t o = ch * c.multiplier + m;
      const float *f = c.filter + o * c.kh * c.kw;
      float bias = c.bias ? c.bias[o] : 0.0f;
      float *out = c.out + n * c.outN + o * c.outC;
      const float *res =
          c.residual ? c.residual + n * c.resN + o * c.resC : nullptr;
      if (rowReuse)
        rowReuseChannel(p, f, bias, out, c.outH, res, c.resH);
      else if (!avx2)
        channelGeneric(p, f, bias, out, c.outH, res, c.resH);
      else if (c.kw == 3) // the filter widths of MobileNets, EfficientNets,
        channelAvx2<3>(p, f, bias, out, c.outH, res, c.resH);
      else if (c.kw == 5) // ConvNeXt (7)
        channelAvx2<5>(p, f, bias, out, c.outH, res, c.resH);
      else if (c.kw == 7)
        channelAvx2<7>(p, f, bias, out, c.outH, res, c.resH);
      else
        channelAvx2<0>(p, f, bias, out, c.outH, res, c.resH);
      if (avx2 || rowReuse) // (channelGeneric applies it per element)
        activateRows(out, c.outH, c.oh, c.ow, c.activation);
    }
  }
}
} // namespace

void flash::runtime::depthwiseConv2d(const DepthwiseConv &c) {
  int64_t planes = c.batch * c.channels;
  if (planes == 0 || c.oh == 0 || c.ow == 0)
    return;
  // Below a sgemm-sized share of work a fork costs more than it saves.
  double flops = 2.0 * planes * c.multiplier * c.oh * c.ow * c.kh * c.kw;
  int tasks = flops < kSgemmParallelFlops / 4
                  ? 1
                  : static_cast<int>(std::min<int64_t>(getNumThreads(), planes));
  if (tasks <= 1) {
    runPlanes(c, 0, planes);
    return;
  }
  parallelFor(tasks, [&](int task) {
    runPlanes(c, planes * task / tasks, planes * (task + 1) / tasks);
  });
}
