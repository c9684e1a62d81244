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
// lanes are never read, which is what makes the padding free. Strides
// above 2 gather, except patch embeddings (window == stride, 4 or 16),
// whose window rows are one contiguous read transposed into their taps'
// rows (patchRows). Unit strides on rows as long as the output's (a "same"
// convolution) need no runs: one shift per tap reads a whole panel row
// (packPanelFlatAvx512), which matters on 7x7 and 14x14 images, where a
// panel crosses several rows. With AVX2 alone, masked loads of 8 and plain stores
// (packPanelAvx2). Portable loops elsewhere (and for strides above 2
// without AVX-512).
//
//===----------------------------------------------------------------------===//
#include "Cpu.h"
#include "Masks.h"
#include "flash/Runtime/Ukernels.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
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
          int64_t lo = std::max<int64_t>(0, ceilDivStride(-ix0, s.sw));
          int64_t hi = std::min(r.len, ceilDivStride(s.w - ix0, s.sw));
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

// GCC 12's unpack and shuffle intrinsics start from an `undefined` vector
// it then warns about (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/// Rows 0..15 of `r` become its columns (r[j] lane p = old r[p] lane j):
/// unpacks within 128-bit lanes, then moves of whole 128-bit lanes.
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + e], 128-bit lane L: element 4L + e of rows 4i .. 4i + 3.
  __m512 u[16];
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int e = 0; e < 4; ++e) {
    __m512 lo01 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x44);
    __m512 hi01 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xEE);
    __m512 lo23 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x44);
    __m512 hi23 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xEE);
    r[e] = _mm512_shuffle_f32x4(lo01, lo23, 0x88);
    r[4 + e] = _mm512_shuffle_f32x4(lo01, lo23, 0xDD);
    r[8 + e] = _mm512_shuffle_f32x4(hi01, hi23, 0x88);
    r[12 + e] = _mm512_shuffle_f32x4(hi01, hi23, 0xDD);
  }
}

/// A patch embedding's rows (window == stride == 4 or 16, no dilation):
/// the kw taps j of one window row read `n` <= 16 whole pixels from the
/// contiguous floats src[0, n * sw), pixel t's at t * sw + j. One pass
/// over them puts each tap's pixels in a vector: a 16x16 transpose for
/// stride 16, two permutes and a lane merge per tap for stride 4 -- where
/// a gather per tap, 16 cache lines apart, cost 4-5 cycles a float (ViT's
/// 16x16/16 embedding spent a third of its time packing).
__attribute__((target("avx512f"))) void patchRows(const float *src, int64_t sw,
                                                  int64_t n, float *row,
                                                  int64_t nr, __mmask16 store) {
  if (sw == 16) {
    __m512 r[16];
    for (int64_t t = 0; t < 16; ++t)
      r[t] = t < n ? _mm512_loadu_ps(src + 16 * t) : _mm512_setzero_ps();
    transpose16(r);
    for (int j = 0; j < 16; ++j)
      _mm512_mask_storeu_ps(row + j * nr, store, r[j]);
    return;
  }
  // Stride 4: vector m holds pixels 4m .. 4m + 3, tap j of pixel 4m + u
  // at lane 4u + j.
  uint64_t floats = bitRange(0, 4 * n);
  __m512 v[4];
  for (int m = 0; m < 4; ++m)
    v[m] = _mm512_maskz_loadu_ps(static_cast<__mmask16>(floats >> (16 * m)),
                                 src + 16 * m);
  for (int j = 0; j < 4; ++j) {
    __m512i lanes =
        _mm512_add_epi32(_mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8,
                                           12, 16, 20, 24, 28),
                         _mm512_set1_epi32(j));
    __m512 low = _mm512_permutex2var_ps(v[0], lanes, v[1]);
    __m512 high = _mm512_permutex2var_ps(v[2], lanes, v[3]);
    _mm512_mask_storeu_ps(row + j * nr, store,
                          _mm512_shuffle_f32x4(low, high, 0x44));
  }
}
#pragma GCC diagnostic pop

/// Where a run goes in the panel: column `dst`, the store masks of its
/// first and second 16 columns.
struct Dst {
  int64_t dst;
  __mmask16 out0, out1;
};

/// One k row of a panel (packPanelAvx512): the runs not in `done`, from
/// their tap runs `cp` in the channel plane `plane`.
__attribute__((target("avx512f"), always_inline)) inline void
packRunsAvx512(const Im2colSource &s, const float *plane, const TapRun *cp,
               const Dst *dsts, size_t count, uint32_t done, float *row) {
  const __m512i evens = strideTwoLanes(0);
  const __m512 zero = _mm512_setzero_ps();
  // Strides above 2 (other than patchRows' patch embeddings, and their
  // runs that touch the padding): a gather of the valid pixels, sw
  // elements apart.
  const __m512i strided = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int>(s.sw)));
  for (size_t r = 0; r < count; ++r) {
    if (done >> r & 1)
      continue;
    const TapRun &c = cp[r];
    const Dst &d = dsts[r];
    const float *src = plane + c.src;
    float *dst = row + d.dst;
    if (s.sw > 2) {
      auto valid = static_cast<__mmask16>(c.valid);
      _mm512_mask_storeu_ps(
          dst, d.out0, _mm512_mask_i32gather_ps(zero, valid, strided, src, 4));
      if (d.out1) {
        valid = static_cast<__mmask16>(c.valid >> 16);
        _mm512_mask_storeu_ps(
            dst + 16, d.out1,
            _mm512_mask_i32gather_ps(zero, valid, strided, src + 16 * s.sw, 4));
      }
    } else if (s.sw == 1) {
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
}

/// AVX-512: per tap and run, the masks of its (at most 32: a panel is at
/// most 32 wide) pixels, worked out once per panel.
__attribute__((target("avx512f"))) void
packPanelAvx512(const Im2colSource &s, const int64_t *planes,
                const int32_t *taps, int64_t kc, const std::vector<Run> &runs,
                const std::vector<TapRun> &tapRuns, int64_t nr, float *out) {
  if (nr > 32 || runs.size() > 32) {
    packPanelGeneric(s, planes, taps, kc, runs, tapRuns, nr, out);
    return;
  }
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
  const __m512 zero = _mm512_setzero_ps();
  bool patches = s.sw == s.kw && s.dw == 1 && (s.sw == 4 || s.sw == 16);
  for (int64_t q = 0; q < kc; ++q) {
    const float *plane = s.input + planes[q];
    const TapRun *cp = tapRuns.data() + taps[q] * count;
    float *row = out + q * nr;
    // The kw rows of a whole window row at once, for the runs whose pixels
    // all read inside the image (the others tap by tap below).
    bool together = patches && taps[q] % s.kw == 0 && q + s.kw <= kc;
    uint32_t done = 0; // runs packed together
    if (together) {
      const TapRun *last = cp + (s.kw - 1) * count;
      for (size_t r = 0; r < count; ++r) {
        uint64_t all = bitRange(0, runs[r].len);
        if (cp[r].valid != all || last[r].valid != all)
          continue;
        const float *src = plane + cp[r].src;
        patchRows(src, s.sw, std::min<int64_t>(runs[r].len, 16),
                  row + dsts[r].dst, nr, dsts[r].out0);
        if (dsts[r].out1)
          patchRows(src + 16 * s.sw, s.sw, runs[r].len - 16,
                    row + dsts[r].dst + 16, nr, dsts[r].out1);
        done |= 1u << r;
      }
    }
    for (int64_t j = 0, rows = together ? s.kw : 1; j < rows; ++j) {
      cp = tapRuns.data() + taps[q + j] * count;
      row = out + (q + j) * nr;
      packRunsAvx512(s, plane, cp, dsts, count, done, row);
      if (tail0)
        _mm512_mask_storeu_ps(row, tail0, zero);
      if (tail1)
        _mm512_mask_storeu_ps(row + 16, tail1, zero);
    }
    if (together)
      q += s.kw - 1;
  }
}

/// Unit strides over rows as long as the output's (im2colPacksFlat: a
/// "same" convolution on contiguous rows): output pixel p reads input
/// element p + (i*dh - padTop)*ow + j*dw - padLeft for tap (i, j), one
/// shift for the whole panel, so a k row is one masked load per 16
/// columns, its masked-off lanes the padding (never read), whatever the
/// row length. Runs (packPanelAvx512) cost a load and a store for every
/// output row a panel crosses: five per 32 columns of a 7x7 image, where
/// packing took half of a 128->32 3x3 convolution's time.
__attribute__((target("avx512f"))) void
packPanelFlatAvx512(const Im2colSource &s, const int64_t *planes,
                    const int32_t *taps, int64_t kc, int64_t p0,
                    int64_t count, int64_t nr, float *out) {
  // Per tap: where pixel p0 reads, and which of the panel's pixels are
  // inside the image (row and column in range; none past `count`).
  struct FlatTap {
    int64_t shift;
    __mmask16 in0, in1;
  };
  thread_local std::vector<FlatTap> flat;
  flat.resize(s.kh * s.kw);
  const __m512i lane =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i ys[2], xs[2];
  __mmask16 live[2];
  for (int q = 0; q < 2; ++q) {
    // Pixel p0 + 16q + t at row y, column x: p0's, stepped by t, the
    // lanes past the row's end moved to the next row until none is (one
    // step per row the 16 lanes cross), not a division per lane.
    int64_t p = p0 + 16 * q;
    __m512i x = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(p % s.ow)),
                                 lane);
    __m512i y = _mm512_set1_epi32(static_cast<int>(p / s.ow));
    const __m512i ow = _mm512_set1_epi32(static_cast<int>(s.ow));
    for (__mmask16 over = _mm512_cmpge_epi32_mask(x, ow); over;
         over = _mm512_cmpge_epi32_mask(x, ow)) {
      x = _mm512_mask_sub_epi32(x, over, x, ow);
      y = _mm512_mask_add_epi32(y, over, y, _mm512_set1_epi32(1));
    }
    ys[q] = y, xs[q] = x;
    live[q] = static_cast<__mmask16>(bitRange(0, count - 16 * q));
  }
  for (int64_t i = 0; i < s.kh; ++i)
    for (int64_t j = 0; j < s.kw; ++j) {
      int64_t dy = i * s.dh - s.padTop, dx = j * s.dw - s.padLeft;
      FlatTap &f = flat[i * s.kw + j];
      f.shift = p0 + dy * s.rowStride + dx;
      __mmask16 in[2];
      for (int q = 0; q < 2; ++q) {
        // 0 <= y + dy < h and 0 <= x + dx < w, unsigned: one compare each.
        __m512i y = _mm512_add_epi32(ys[q], _mm512_set1_epi32(int(dy)));
        __m512i x = _mm512_add_epi32(xs[q], _mm512_set1_epi32(int(dx)));
        in[q] = _mm512_mask_cmplt_epu32_mask(
            _mm512_mask_cmplt_epu32_mask(live[q], y,
                                         _mm512_set1_epi32(int(s.h))),
            x, _mm512_set1_epi32(int(s.w)));
      }
      f.in0 = in[0], f.in1 = in[1];
    }
  __mmask16 out0 = static_cast<__mmask16>(bitRange(0, nr));
  __mmask16 out1 = static_cast<__mmask16>(bitRange(0, nr - 16));
  for (int64_t q = 0; q < kc; ++q) {
    const FlatTap &f = flat[taps[q]];
    const float *src = s.input + planes[q] + f.shift;
    float *row = out + q * nr;
    _mm512_mask_storeu_ps(row, out0, _mm512_maskz_loadu_ps(f.in0, src));
    if (out1)
      _mm512_mask_storeu_ps(row + 16, out1,
                            _mm512_maskz_loadu_ps(f.in1, src + 16));
  }
}

/// The 8-lane load mask of `bits` (lane t set when bit t is).
__attribute__((target("avx2,fma"))) inline __m256i laneMask(uint32_t bits) {
  const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(
      _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), lanes),
      lanes);
}

/// 8 floats at `src` whose lanes `bits` says to read (the rest zero, and
/// not read: a masked-off lane may lie outside the image).
__attribute__((target("avx2,fma"))) inline __m256 load8(const float *src,
                                                        uint32_t bits) {
  bits &= 0xff;
  if (bits == 0xff)
    return _mm256_loadu_ps(src);
  if (bits == 0)
    return _mm256_setzero_ps();
  return _mm256_maskload_ps(src, laneMask(bits));
}

/// One 8-pixel chunk of a run as one tap reads it (packPanelAvx2): from
/// `src` in the channel's plane, the elements `bits` marks (8 for stride
/// 1, 16 for stride 2), into panel column `dst`.
struct Chunk {
  int64_t src;
  int32_t dst;
  uint32_t bits;
};

/// The chunk's 8 pixels: a masked load (two and a shuffle for stride 2).
template <int Stride>
__attribute__((target("avx2,fma"), always_inline)) inline __m256
loadChunk(const float *plane, const Chunk &c) {
  if constexpr (Stride == 1) {
    return load8(plane + c.src, c.bits);
  } else {
    __m256 a = load8(plane + c.src, c.bits);
    __m256 b = load8(plane + c.src + 8, c.bits >> 8);
    // Even elements: [a0 a2 b0 b2 | a4 a6 b4 b6], then the middle 64-bit
    // pairs swapped.
    return _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8));
  }
}

/// A panel's chunks, tap by tap (`perTap` each, the same for every tap),
/// and the columns its runs fill.
struct PanelChunks {
  const Chunk *chunks;
  int64_t perTap, filled;
};

/// Lists a panel's chunks from its runs and tap runs.
void listChunks(const Im2colSource &s, const std::vector<Run> &runs,
                const std::vector<TapRun> &tapRuns, std::vector<Chunk> &out) {
  size_t count = runs.size();
  int64_t taps = s.kh * s.kw;
  for (int64_t t = 0; t < taps; ++t)
    for (size_t r = 0; r < count; ++r) {
      const TapRun &tr = tapRuns[t * count + r];
      uint64_t in = uint64_t(tr.in[0]) | uint64_t(tr.in[1]) << 16 |
                    uint64_t(tr.in[2]) << 32 | uint64_t(tr.in[3]) << 48;
      for (int64_t p = 0; p < runs[r].len; p += 8)
        out.push_back({tr.src + s.sw * p, static_cast<int32_t>(runs[r].dst + p),
                       static_cast<uint32_t>(in >> (s.sw * p)) &
                           (s.sw == 1 ? 0xffu : 0xffffu)});
    }
}

/// Per thread, the chunk lists of the last convolution geometry's panels
/// (panel p0 / nr), built when first packed and reused by every later call
/// of that geometry: the groups of a grouped convolution, the images of a
/// batch, every K slice. Why: a list costs about as much to make as the
/// panel's rows cost to copy when K is small (RegNet's groups of 8
/// channels, 72 k rows over 9 taps; LeNet's one channel). Geometries whose
/// lists would pass kMaxChunks (large images with large windows, used once
/// per call) are listed panel by panel instead.
class ChunkCache {
public:
  PanelChunks panel(const Im2colSource &s, int64_t p0, int64_t count,
                    int64_t nr) {
    std::array<int64_t, 13> key = {s.h,  s.w,  s.kh,       s.kw,     s.sh,
                                   s.sw, s.dh, s.dw,       s.padTop, s.padLeft,
                                   s.ow, nr,   s.rowStride};
    if (key != key_) {
      key_ = key;
      chunks_.clear();
      where_.clear();
      cacheable_ = true;
    }
    int64_t index = p0 / nr;
    if (cacheable_ && p0 % nr == 0 && index < int64_t(where_.size()) &&
        where_[index].count == count)
      return view(where_[index]);
    runsOf(s, p0, count, runs_);
    tapRunsOf(s, runs_, tapRuns_);
    Entry entry{int64_t(chunks_.size()), 0, count,
                runs_.back().dst + runs_.back().len};
    if (!cacheable_ || p0 % nr != 0 ||
        chunks_.size() + s.kh * s.kw * (count / 8 + runs_.size()) >
            kMaxChunks) {
      cacheable_ = false;
      scratch_.clear();
      listChunks(s, runs_, tapRuns_, scratch_);
      return {scratch_.data(), int64_t(scratch_.size()) / (s.kh * s.kw),
              entry.filled};
    }
    listChunks(s, runs_, tapRuns_, chunks_);
    entry.perTap = (int64_t(chunks_.size()) - entry.start) / (s.kh * s.kw);
    if (index >= int64_t(where_.size()))
      where_.resize(index + 1, Entry{0, 0, -1, 0});
    where_[index] = entry;
    return view(entry);
  }

private:
  static constexpr size_t kMaxChunks = 1 << 15; // 512 KiB
  struct Entry {
    int64_t start, perTap, count, filled;
  };
  PanelChunks view(const Entry &e) const {
    return {chunks_.data() + e.start, e.perTap, e.filled};
  }
  std::array<int64_t, 13> key_{};
  bool cacheable_ = true;
  std::vector<Chunk> chunks_, scratch_;
  std::vector<Entry> where_;
  std::vector<Run> runs_;
  std::vector<TapRun> tapRuns_;
};

/// AVX2 (no AVX-512, e.g. AMD Zen 2/3): each run's chunks of 8 pixels are
/// a masked load (masked-off lanes are neither read nor nonzero) and a
/// plain store, from the panel's list (ChunkCache; the same for every
/// channel). The runs of a row are written in order from column 0, so a
/// chunk's lanes past its run are overwritten by the next run's, or are the
/// row's zeros; lanes past the row's end are the next row's, written after
/// it. Only the panel's last row may not spill (the next panel may be
/// another thread's): masked stores there. Why not masked stores
/// throughout: AMD runs VMASKMOVPS stores as microcode before Zen 4 (the
/// portable loop this replaces made convolutions 1.3-2x slower than their
/// plain matrix product on a Zen 3).
template <int Stride>
__attribute__((target("avx2,fma"))) void
packPanelAvx2(const Im2colSource &s, const int64_t *planes, const int32_t *taps,
              int64_t kc, const PanelChunks &panel, int64_t nr, float *out) {
  const float *input = s.input;
  int64_t perTap = panel.perTap, filled = panel.filled;
  for (int64_t q = 0; q < kc; ++q) {
    const float *plane = input + planes[q];
    const Chunk *tap = panel.chunks + taps[q] * perTap;
    float *row = out + q * nr;
    if (q + 1 < kc) {
      for (int64_t i = 0; i < perTap; ++i)
        _mm256_storeu_ps(row + tap[i].dst, loadChunk<Stride>(plane, tap[i]));
    } else {
      for (int64_t i = 0; i < perTap; ++i) {
        __m256 v = loadChunk<Stride>(plane, tap[i]);
        int64_t room = nr - tap[i].dst;
        if (room >= 8)
          _mm256_storeu_ps(row + tap[i].dst, v);
        else
          _mm256_maskstore_ps(row + tap[i].dst, laneMask((1u << room) - 1), v);
      }
    }
    if (filled < nr) // the zero columns of a last, partial panel
      std::fill(row + filled, row + nr, 0.0f);
  }
}
} // namespace

void flash::runtime::packIm2colPanels(const Im2colSource &src, int64_t k0,
                                      int64_t kc, int64_t j0, int64_t nc,
                                      int64_t nr, float *out) {
  // Per thread, so that no call allocates.
  thread_local std::vector<Run> runs;
  thread_local std::vector<TapRun> tapRuns;
  thread_local std::vector<int64_t> planes;
  thread_local std::vector<int32_t> taps;
  thread_local ChunkCache chunkCache;
  channelsAndTaps(src, k0, kc, planes, taps);
  bool avx2 = !cpuUsesAvx512() && cpuHasAvx2() && src.sw <= 2 && nr <= 32;
  bool flat = cpuUsesAvx512() && nr <= 32 &&
              im2colPacksFlat(src.sh, src.sw, src.rowStride, src.ow);
  for (int64_t j = 0; j < nc; j += nr, out += kc * nr) {
    int64_t p0 = src.col0 + j0 + j, count = std::min(nr, nc - j);
    if (avx2) {
      PanelChunks panel = chunkCache.panel(src, p0, count, nr);
      if (src.sw == 1)
        packPanelAvx2<1>(src, planes.data(), taps.data(), kc, panel, nr, out);
      else
        packPanelAvx2<2>(src, planes.data(), taps.data(), kc, panel, nr, out);
      continue;
    }
    if (flat) {
      packPanelFlatAvx512(src, planes.data(), taps.data(), kc, p0, count, nr,
                          out);
      continue;
    }
    runsOf(src, p0, count, runs);
    tapRunsOf(src, runs, tapRuns);
    if (cpuUsesAvx512())
      packPanelAvx512(src, planes.data(), taps.data(), kc, runs, tapRuns, nr,
                      out);
    else
      packPanelGeneric(src, planes.data(), taps.data(), kc, runs, tapRuns, nr,
                       out);
  }
}
