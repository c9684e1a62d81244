//===- Winograd.cpp - 3x3 convolutions by Winograd F(4x4, 3x3) ------------===//
//
// A 3x3 stride-1 convolution as 36 matrix products instead of one 9x
// deeper one (Ukernels.h, WinogradConv): the output is cut into 4x4
// tiles; per block of tile rows, the input transform writes V_ab[C x T]
// (T the block's tiles) for the 36 positions (a, b) of the transformed
// 6x6 tiles, sgemm multiplies each by the filter's U_ab[O x C] (made when
// compiling, already in A panels) into M_ab[O x T], and the output
// transform writes the block's output rows from them, then the epilogue
// runs on those rows while they are in cache. That is 4x fewer
// multiplies per output than the direct product (36 per 4x4 tile and
// channel pair, not 144); the transforms are adds (and a few multiplies
// by small constants), each one vectorized loop over all the block's
// tiles.
//
// Why hand-written rather than MLIR's linalg.winograd_* ops: those are
// for NHWC/FHWC convolutions (ours are NCHW) and materialize each
// transformed tensor whole, between separate loop nests, while this runs
// the three steps block by block (V and M of one block, in cache) and
// reuses sgemm's compiled panels and microkernel.
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace flash::runtime;

namespace {
constexpr int64_t kTile = kWinogradTile, kAlpha = kWinogradAlpha;
constexpr int64_t kPositions = kAlpha * kAlpha;

/// How the output is cut: tiles, and blocks of `rows` tile rows (T =
/// rows * tilesX columns of each product).
struct Geometry {
  int64_t tilesX = 0, tilesY = 0, rows = 0, blocks = 0;
};

/// The block's columns aimed at: more columns per sgemm call amortize
/// reading U (36 C x O panels) over more tiles, fewer keep V and M in
/// L2. 192 (a whole 56x56 image) measured 1.05-1.25x faster than 64 on
/// 56x56 layers (one and two threads), the same on 28x28 ones
/// (docs/ukernels.md); FLASH_WINOGRAD_COLUMNS overrides it.
int64_t targetColumns() {
  static const int64_t columns = [] {
    const char *env = std::getenv("FLASH_WINOGRAD_COLUMNS");
    int64_t v = env ? std::atoll(env) : 0;
    return v > 0 ? v : int64_t(192);
  }();
  return columns;
}

Geometry geometryOf(const WinogradConv &cv) {
  Geometry g;
  g.tilesX = (cv.ow + kTile - 1) / kTile;
  g.tilesY = (cv.oh + kTile - 1) / kTile;
  g.rows = std::clamp<int64_t>((targetColumns() + g.tilesX - 1) / g.tilesX, 1,
                               g.tilesY);
  g.blocks = (g.tilesY + g.rows - 1) / g.rows;
  return g;
}

// The lanes of these loops never overlap (distinct rows of one scratch
// buffer, or of V and M): say so, or the compiler leaves them scalar.
#if defined(__clang__)
#define FLASH_INDEPENDENT _Pragma("clang loop vectorize(assume_safety)")
#else
#define FLASH_INDEPENDENT _Pragma("GCC ivdep")
#endif

#define FLASH_WINOGRAD_CLONES                                                  \
  __attribute__((target_clones("avx512f", "avx2", "default")))

/// B^T d for d = d0..d5 (one row or column of a 6x6 input tile), each
/// of `n` lanes: out + j * step is the j-th result. (Six distinct output
/// pointers: with one pointer and offsets the compiler cannot prove the
/// rows apart and leaves the loop scalar.)
inline __attribute__((always_inline)) void
inputTransform6(const float *__restrict d0, const float *__restrict d1,
                const float *__restrict d2, const float *__restrict d3,
                const float *__restrict d4, const float *__restrict d5,
                float *out, int64_t step, int64_t n) {
  float *__restrict o0 = out, *__restrict o1 = out + step,
                    *__restrict o2 = out + 2 * step,
                    *__restrict o3 = out + 3 * step,
                    *__restrict o4 = out + 4 * step,
                    *__restrict o5 = out + 5 * step;
  FLASH_INDEPENDENT
  for (int64_t t = 0; t < n; ++t) {
    float a0 = d0[t], a1 = d1[t], a2 = d2[t], a3 = d3[t], a4 = d4[t],
          a5 = d5[t];
    o0[t] = 4.0f * a0 - 5.0f * a2 + a4;
    o1[t] = -4.0f * (a1 + a2) + a3 + a4;
    o2[t] = 4.0f * (a1 - a2) - a3 + a4;
    o3[t] = 2.0f * (a3 - a1) - a2 + a4;
    o4[t] = 2.0f * (a1 - a3) - a2 + a4;
    o5[t] = 4.0f * a1 - 5.0f * a3 + a5;
  }
}

/// A^T m for m = m0..m5: four results, out + i * step.
inline __attribute__((always_inline)) void
outputTransform4(const float *__restrict m0, const float *__restrict m1,
                 const float *__restrict m2, const float *__restrict m3,
                 const float *__restrict m4, const float *__restrict m5,
                 float *out, int64_t step, int64_t n) {
  float *__restrict o0 = out, *__restrict o1 = out + step,
                    *__restrict o2 = out + 2 * step,
                    *__restrict o3 = out + 3 * step;
  FLASH_INDEPENDENT
  for (int64_t t = 0; t < n; ++t) {
    float s12 = m1[t] + m2[t], d12 = m1[t] - m2[t];
    float s34 = m3[t] + m4[t], d34 = m3[t] - m4[t];
    o0[t] = m0[t] + s12 + s34;
    o1[t] = d12 + 2.0f * d34;
    o2[t] = s12 + 4.0f * s34;
    o3[t] = d12 + 8.0f * d34 + m5[t];
  }
}

/// A task's scratch (sizes in floats, for one block).
struct Scratch {
  std::vector<float> v, m;       ///< V_ab [C x cols], M_ab [O x cols]
  std::vector<float> cols6, rowT; ///< the transforms' intermediates
};

/// One channel's part of V for the block's `rows` tile rows from `ty0`
/// (lanes q = r * tilesX + tx, all the block's tiles at once, so the
/// transforms run as a few long vector loops even on 14-wide images).
/// Each of the block's 4 * rows + 2 input rows y' is zero-padded and cut
/// into the six columns k each tile reads (tile tx: column 4 tx + k),
/// stored by y' mod 4 and y' / 4; then B^T along the rows (per y' mod 4),
/// then down the columns, where row i of tile row r is y' = 4r + i: rows
/// 4 and 5 are rows 0 and 1 of tile row r + 1, one tilesX further.
FLASH_WINOGRAD_CLONES void inputBlock(const WinogradConv &cv,
                                      const Geometry &g, const float *plane,
                                      int64_t ty0, int64_t rows, float *v,
                                      int64_t positionStride, Scratch &s) {
  int64_t n = g.tilesX, span = (rows + 1) * n; // lanes per (y' mod 4, k)
  float *cols6 = s.cols6.data(), *rowT = s.rowT.data();
  // Tiles [lo, hi) read only columns inside the image (4t + k - padLeft
  // in [0, w) for k < 6): straight from the plane; the others, at the
  // borders, one column at a time with the zero padding.
  int64_t lo = std::min(n, (cv.padLeft + kTile - 1) / kTile);
  int64_t hi = std::max(lo, std::min(n, (cv.w + cv.padLeft - kAlpha) / kTile + 1));
  if (cv.w + cv.padLeft < kAlpha)
    hi = lo;
  for (int64_t yr = 0; yr < kTile * rows + 2; ++yr) {
    int64_t y = ty0 * kTile - cv.padTop + yr;
    float *dst = cols6 + (yr % kTile) * kAlpha * span + (yr / kTile) * n;
    if (y < 0 || y >= cv.h) {
      for (int64_t k = 0; k < kAlpha; ++k)
        std::memset(dst + k * span, 0, n * sizeof(float));
      continue;
    }
    const float *line = plane + y * cv.inH;
    auto border = [&](int64_t t) {
      for (int64_t k = 0; k < kAlpha; ++k) {
        int64_t x = kTile * t + k - cv.padLeft;
        dst[k * span + t] = x >= 0 && x < cv.w ? line[x] : 0.0f;
      }
    };
    for (int64_t t = 0; t < lo; ++t)
      border(t);
    const float *__restrict r = line - cv.padLeft;
    float *__restrict c0 = dst, *__restrict c1 = dst + span,
                      *__restrict c2 = dst + 2 * span,
                      *__restrict c3 = dst + 3 * span,
                      *__restrict c4 = dst + 4 * span,
                      *__restrict c5 = dst + 5 * span;
    FLASH_INDEPENDENT
    for (int64_t t = lo; t < hi; ++t) {
      c0[t] = r[4 * t], c1[t] = r[4 * t + 1], c2[t] = r[4 * t + 2];
      c3[t] = r[4 * t + 3], c4[t] = r[4 * t + 4], c5[t] = r[4 * t + 5];
    }
    for (int64_t t = hi; t < n; ++t)
      border(t);
  }
  // Along the rows: rowT[(y' mod 4) * 6 + b][...] = (B^T d)_b.
  for (int64_t p = 0; p < kTile; ++p) {
    const float *c = cols6 + p * kAlpha * span;
    inputTransform6(c, c + span, c + 2 * span, c + 3 * span, c + 4 * span,
                    c + 5 * span, rowT + p * kAlpha * span, span,
                    p < 2 ? span : rows * n);
  }
  // Down the columns, straight into V_(a,b).
  for (int64_t b = 0; b < kAlpha; ++b) {
    const float *r0 = rowT + b * span; // y' mod 4 = 0, column b
    int64_t p = kAlpha * span;         // y' mod 4 -> + 1
    inputTransform6(r0, r0 + p, r0 + 2 * p, r0 + 3 * p, r0 + n, r0 + p + n,
                    v + b * positionStride, kAlpha * positionStride,
                    rows * n);
  }
}

/// One output channel's rows of the block from M_ab (lanes q as in V):
/// A^T down the columns, then along the rows into each output row's four
/// phases, interleaved into it.
FLASH_WINOGRAD_CLONES void outputBlock(const WinogradConv &cv,
                                       const Geometry &g, const float *m,
                                       int64_t positionStride, int64_t ty0,
                                       int64_t rows, float *dst, Scratch &s) {
  int64_t n = g.tilesX, lanes = rows * n;
  float *t4 = s.cols6.data(), *y4 = s.rowT.data();
  // t4[i * 6 + b] = (A^T M_(.,b))_i.
  for (int64_t b = 0; b < kAlpha; ++b) {
    const float *c = m + b * positionStride;
    int64_t a = kAlpha * positionStride; // a -> a + 1
    outputTransform4(c, c + a, c + 2 * a, c + 3 * a, c + 4 * a, c + 5 * a,
                     t4 + b * lanes, kAlpha * lanes, lanes);
  }
  // y4[i * 4 + j] = (A^T t4[i, .])_j: output row 4r + i, column 4tx + j.
  for (int64_t i = 0; i < kTile; ++i) {
    const float *r = t4 + i * kAlpha * lanes;
    outputTransform4(r, r + lanes, r + 2 * lanes, r + 3 * lanes,
                     r + 4 * lanes, r + 5 * lanes, y4 + i * kTile * lanes,
                     lanes, lanes);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < kTile; ++i) {
      int64_t y = (ty0 + r) * kTile + i;
      if (y >= cv.oh)
        break;
      const float *__restrict p0 = y4 + i * kTile * lanes + r * n;
      const float *__restrict p1 = p0 + lanes, *__restrict p2 = p0 + 2 * lanes,
                              *__restrict p3 = p0 + 3 * lanes;
      // Whole tiles straight into the row, the last partial one through
      // a copy.
      float *__restrict d = dst + y * cv.ow;
      int64_t whole = std::min(n, cv.ow / kTile);
      if (cv.accumulate) {
        FLASH_INDEPENDENT
        for (int64_t t = 0; t < whole; ++t) {
          d[4 * t] += p0[t], d[4 * t + 1] += p1[t];
          d[4 * t + 2] += p2[t], d[4 * t + 3] += p3[t];
        }
      } else {
        FLASH_INDEPENDENT
        for (int64_t t = 0; t < whole; ++t) {
          d[4 * t] = p0[t], d[4 * t + 1] = p1[t];
          d[4 * t + 2] = p2[t], d[4 * t + 3] = p3[t];
        }
      }
      if (whole < n) {
        float last[kTile] = {p0[whole], p1[whole], p2[whole], p3[whole]};
        for (int64_t x = kTile * whole; x < cv.ow; ++x)
          d[x] = cv.accumulate ? d[x] + last[x - kTile * whole]
                               : last[x - kTile * whole];
      }
    }
}

/// This thread's scratch for the transforms of `g`'s blocks.
Scratch &scratchFor(const Geometry &g) {
  thread_local Scratch s;
  int64_t span = (g.rows + 1) * g.tilesX;
  s.cols6.resize(kTile * kAlpha * span);
  s.rowT.resize(kTile * kAlpha * span);
  return s;
}

/// One block of the convolution: its tile rows, V and M (`v`, `m`).
struct Block {
  int64_t ty0 = 0, rows = 0, cols = 0;
  float *v = nullptr, *m = nullptr;
  int64_t vStride = 0, mStride = 0; ///< from V_ab to V_ab+1 (M the same)
};

Block blockOf(const WinogradConv &cv, const Geometry &g, int64_t index,
              Scratch &s) {
  Block b;
  b.ty0 = index * g.rows;
  b.rows = std::min(g.rows, g.tilesY - b.ty0);
  b.cols = b.rows * g.tilesX;
  b.vStride = cv.channels * b.cols, b.mStride = cv.outChannels * b.cols;
  s.v.resize(kPositions * b.vStride);
  s.m.resize(kPositions * b.mStride);
  b.v = s.v.data(), b.m = s.m.data();
  return b;
}

/// The three steps of a block, each over a range: input channels,
/// positions (a, b), output channels (with the epilogue on their rows).
void inputs(const WinogradConv &cv, const Geometry &g, const Block &b,
            int64_t begin, int64_t end) {
  Scratch &s = scratchFor(g);
  for (int64_t ch = begin; ch < end; ++ch)
    inputBlock(cv, g, cv.input + ch * cv.inC, b.ty0, b.rows,
               b.v + ch * b.cols, b.vStride, s);
}

void products(const WinogradConv &cv, const Block &b, int64_t begin,
              int64_t end) {
  SgemmConfig config;
  config.threads = 1;
  config.aPanels = true;
  int64_t o = cv.outChannels, c = cv.channels;
  int64_t uStride = winogradFilterFloats(o, c) / kPositions;
  for (int64_t p = begin; p < end; ++p)
    sgemm(o, b.cols, c, cv.filter + p * uStride, kSgemmPanelRows,
          b.v + p * b.vStride, b.cols, b.m + p * b.mStride, b.cols,
          /*accumulate=*/false, config);
}

void outputs(const WinogradConv &cv, const Geometry &g, const Block &b,
             int64_t begin, int64_t end) {
  Scratch &s = scratchFor(g);
  for (int64_t f = begin; f < end; ++f)
    outputBlock(cv, g, b.m + f * b.cols, b.mStride, b.ty0, b.rows,
                cv.out + f * cv.ldo, s);
  if (cv.epilogue && end > begin) {
    int64_t y0 = b.ty0 * kTile, y1 = std::min(cv.oh, (b.ty0 + b.rows) * kTile);
    SgemmEpilogue e = cv.epilogue->at(begin, y0 * cv.ow);
    e.apply(cv.out + begin * cv.ldo + y0 * cv.ow, cv.ldo, end - begin,
            (y1 - y0) * cv.ow);
    e.activate(end - begin, (y1 - y0) * cv.ow);
  }
}
} // namespace

void flash::runtime::winogradConv3x3(const WinogradConv &cv) {
  if (cv.oh <= 0 || cv.ow <= 0 || cv.outChannels <= 0)
    return;
  double flops = 2.0 * kPositions * cv.outChannels * cv.channels *
                 ((cv.oh + 3) / 4) * ((cv.ow + 3) / 4);
  int threads = getNumThreads();
  int tasks = cv.threads > 0 ? static_cast<int>(std::min<int64_t>(
                                   cv.threads, threads))
              : flops < kSgemmParallelFlops ? 1
                                            : threads;
  Geometry g = geometryOf(cv);
  int64_t c = cv.channels, o = cv.outChannels;
  if (tasks <= 1 || g.blocks >= 2 * tasks) {
    // Whole blocks per task (or all on this thread).
    tasks = static_cast<int>(std::min<int64_t>(tasks, g.blocks));
    auto run = [&](int task) {
      for (int64_t index = task; index < g.blocks; index += tasks) {
        Block b = blockOf(cv, g, index, scratchFor(g));
        inputs(cv, g, b, 0, c);
        products(cv, b, 0, kPositions);
        outputs(cv, g, b, 0, o);
      }
    };
    if (tasks <= 1)
      run(0);
    else
      parallelFor(tasks, run);
    return;
  }
  // Too few blocks to go round (a small image): every block's steps in
  // turn, each split over the tasks (three forks a block).
  auto split = [&](int64_t count, int task) {
    return std::make_pair(count * task / tasks, count * (task + 1) / tasks);
  };
  for (int64_t index = 0; index < g.blocks; ++index) {
    Block b = blockOf(cv, g, index, scratchFor(g));
    parallelFor(tasks, [&](int task) {
      auto [begin, end] = split(c, task);
      inputs(cv, g, b, begin, end);
    });
    parallelFor(tasks, [&](int task) {
      auto [begin, end] = split(kPositions, task);
      products(cv, b, begin, end);
    });
    parallelFor(tasks, [&](int task) {
      auto [begin, end] = split(o, task);
      outputs(cv, g, b, begin, end);
    });
  }
}
