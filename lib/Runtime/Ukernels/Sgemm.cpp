//===- Sgemm.cpp - Packed, register-tiled f32 matmul ukernel --------------===//
//
// The BLIS algorithm: C is computed in NC-wide column blocks and KC-deep
// slices; B's slice is packed into 16-column panels (kept in L1 per panel,
// L3 in all), A's MC x KC block into 6-row panels (L2), and a 6x16
// microkernel keeps 12 AVX2 accumulators in registers while streaming both
// panels: per k step 2 loads of B, 6 broadcasts of A and 12 FMAs.
//
// Why hand-written: MLIR's linalg tiling + vectorization reaches about a
// third of the FMA peak on this machine (see docs/performance.md); packing
// and a register-resident accumulator tile are what close the gap, as in
// IREE's mmt4d ukernels.
//
//===----------------------------------------------------------------------===//
#include "Cpu.h"
#include "flash/Runtime/Ukernels.h"

// GCC 12's avx512fintrin.h reads an intentionally undefined register in
// its helpers (_mm512_undefined_ps) and warns about it in every caller.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace flash::runtime;

namespace {
constexpr int64_t MR = 6, NR = 16; // the default register tile
constexpr int64_t KC = kSgemmKC, MC = kSgemmMC, NC = kSgemmNC; // Ukernels.h

struct AlignedFree {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, AlignedFree>;

Buffer allocate(int64_t elements) {
  size_t bytes = ((elements * sizeof(float) + 63) / 64) * 64;
  return Buffer(static_cast<float *>(std::aligned_alloc(64, bytes)));
}

/// Packs B[0:kc, 0:nc] into ceil(nc/nr) panels of kc x nr, zero-padded.
/// Row by row: each row of B is read once, front to back, and its nr-wide
/// pieces go to their panels. (Panel by panel, the reads were kc rows ldb
/// apart per panel, which the hardware prefetchers do not follow: the row
/// order packs 1.0-1.2x faster overall on ten products here, up to 1.75x
/// where B's rows are 32 KiB apart.)
void packB(int64_t kc, int64_t nc, const float *b, int64_t ldb, int64_t nr,
               float *out) {
  int64_t full = nc / nr * nr;
  for (int64_t p = 0; p < kc; ++p) {
    const float *src = b + p * ldb;
    float *dst = out + p * nr;
    for (int64_t j = 0; j < full; j += nr, dst += kc * nr)
      std::memcpy(dst, src + j, nr * sizeof(float));
    if (full < nc) {
      std::memcpy(dst, src + full, (nc - full) * sizeof(float));
      std::memset(dst + (nc - full), 0, (nr - (nc - full)) * sizeof(float));
    }
  }
}

/// Packs A[0:mc, 0:kc] into ceil(mc/mr) panels of kc x mr (column of mr per
/// k), zero-padded.
/// Eight columns of six rows of A (rows `lda` apart) as eight packed
/// 6-float columns: the 6x8 block (two zero rows added) transposed in
/// registers, each column stored as 8 floats in order so that the next
/// store overwrites the two padding lanes; the last store is masked. The
/// scalar loop reads A a column at a time (6 loads `lda` apart per 6
/// floats): on small products packing A cost as much as the products.
__attribute__((target("avx2,fma"))) void packA6x8Avx2(const float *a,
                                                      int64_t lda, float *out) {
  __m256 r0 = _mm256_loadu_ps(a), r1 = _mm256_loadu_ps(a + lda),
         r2 = _mm256_loadu_ps(a + 2 * lda), r3 = _mm256_loadu_ps(a + 3 * lda),
         r4 = _mm256_loadu_ps(a + 4 * lda), r5 = _mm256_loadu_ps(a + 5 * lda),
         r6 = _mm256_setzero_ps(), r7 = _mm256_setzero_ps();
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
         t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
         t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
         t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
         u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
         u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
         u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  // Column c holds rows 0-5 of A's column c in lanes 0-5 (6, 7: zero).
  __m256 c[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                 _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                 _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                 _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
  for (int q = 0; q < 7; ++q)
    _mm256_storeu_ps(out + 6 * q, c[q]);
  const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
  _mm256_maskstore_ps(out + 42, six, c[7]);
}

void packA(int64_t mc, int64_t kc, const float *a, int64_t lda, int64_t mr,
           float *out) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  for (int64_t i = 0; i < mc; i += mr) {
    int64_t rows = std::min(mr, mc - i);
    int64_t p = 0;
    if (avx2 && mr == 6 && rows == 6)
      for (; p + 8 <= kc; p += 8)
        packA6x8Avx2(a + i * lda + p, lda, out + p * 6);
    for (; p < kc; ++p) {
      for (int64_t r = 0; r < rows; ++r)
        out[p * mr + r] = a[(i + r) * lda + p];
      for (int64_t r = rows; r < mr; ++r)
        out[p * mr + r] = 0.0f;
    }
    out += kc * mr;
  }
}

/// C[0:rows, 0:cols] (+)= acc, the valid part of a register tile whose
/// rows are `nr` apart.
void storeTile(const float *acc, int64_t nr, float *c, int64_t ldc,
               int64_t rows, int64_t cols, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0.0f) + acc[r * nr + j];
}

/// C[0:rows, 0:cols] (+)= Ap^T * Bp over kc; portable version.
void microkernelGeneric(int64_t kc, const float *ap, const float *bp,
                        int64_t bStride, int64_t /*bHalf*/, float *c,
                        int64_t ldc, int64_t rows,
                        int64_t cols, bool accumulate,
                        const SgemmEpilogue *epilogue) {
  float acc[MR * NR] = {};
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t r = 0; r < MR; ++r)
      for (int64_t j = 0; j < NR; ++j)
        acc[r * NR + j] += ap[p * MR + r] * bp[p * bStride + j];
  storeTile(acc, NR, c, ldc, rows, cols, accumulate);
  if (epilogue)
    epilogue->apply(c, ldc, rows, cols);
}

/// B's rows are `bStride` apart: NR in a packed panel, ldb when B is read in
/// place. The same with the 6x16 tile in 12 named AVX2 registers (an array of
/// __m256 is not reliably kept in registers by GCC). A full tile goes to C
/// straight from the registers; an edge tile goes through a buffer.
__attribute__((target("avx2,fma"))) void
microkernelAvx2(int64_t kc, const float *ap, const float *bp, int64_t bStride,
                int64_t /*bHalf*/, float *c, int64_t ldc, int64_t rows, int64_t cols,
                bool accumulate, const SgemmEpilogue *epilogue) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // clang-format off
#define FLASH_ROW(r)                                                           \
  a = _mm256_broadcast_ss(ap + r);                                             \
  c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                                   \
  c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8), a;
    FLASH_ROW(0) FLASH_ROW(1) FLASH_ROW(2) FLASH_ROW(3) FLASH_ROW(4) FLASH_ROW(5)
    ap += MR;
    bp += bStride;
  }
#undef FLASH_ROW
  alignas(32) float buffer[MR * NR];
  bool full = rows == MR && cols == NR;
  bool addC = full && accumulate;
  float *out = full ? c : buffer;
  int64_t ld = full ? ldc : NR;
  if (full && epilogue) {
    // The epilogue on the accumulators, written to its output: bias and
    // residual adds, then the clamp (max/min with the bound first keep a
    // NaN accumulator: the second operand wins when either is NaN).
    const SgemmEpilogue &e = *epilogue;
    __m256 col0 = _mm256_setzero_ps(), col1 = _mm256_setzero_ps();
    if (e.colBias)
      col0 = _mm256_loadu_ps(e.colBias), col1 = _mm256_loadu_ps(e.colBias + 8);
    __m256 lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
    bool clamp = e.lo > -__builtin_inff() || e.hi < __builtin_inff();
#define FLASH_EPILOGUE(r)                                                      \
  {                                                                            \
    float *row = c + r * ldc;                                                  \
    if (accumulate) {                                                          \
      c##r##0 = _mm256_add_ps(_mm256_loadu_ps(row), c##r##0);                  \
      c##r##1 = _mm256_add_ps(_mm256_loadu_ps(row + 8), c##r##1);              \
    }                                                                          \
    __m256 bias = e.rowBias ? _mm256_set1_ps(e.rowBias[r]) : col0;             \
    c##r##0 = _mm256_add_ps(c##r##0, e.rowBias && e.colBias                    \
                                         ? _mm256_add_ps(bias, col0) : bias);  \
    c##r##1 = _mm256_add_ps(c##r##1, e.rowBias ? (e.colBias                    \
                                         ? _mm256_add_ps(bias, col1) : bias)   \
                                               : col1);                        \
    if (e.residual) {                                                          \
      const float *res = e.residual + r * e.ldr;                               \
      c##r##0 = _mm256_add_ps(c##r##0, _mm256_loadu_ps(res));                  \
      c##r##1 = _mm256_add_ps(c##r##1, _mm256_loadu_ps(res + 8));              \
    }                                                                          \
    if (clamp) {                                                               \
      c##r##0 = _mm256_min_ps(hi, _mm256_max_ps(lo, c##r##0));                 \
      c##r##1 = _mm256_min_ps(hi, _mm256_max_ps(lo, c##r##1));                 \
    }                                                                          \
    _mm256_storeu_ps(e.out + r * e.ldo, c##r##0);                              \
    _mm256_storeu_ps(e.out + r * e.ldo + 8, c##r##1);                          \
  }
    FLASH_EPILOGUE(0) FLASH_EPILOGUE(1) FLASH_EPILOGUE(2)
    FLASH_EPILOGUE(3) FLASH_EPILOGUE(4) FLASH_EPILOGUE(5)
#undef FLASH_EPILOGUE
    return;
  }
#define FLASH_STORE(r)                                                         \
  {                                                                            \
    float *row = out + r * ld;                                                 \
    if (addC) {                                                                \
      c##r##0 = _mm256_add_ps(_mm256_loadu_ps(row), c##r##0);                  \
      c##r##1 = _mm256_add_ps(_mm256_loadu_ps(row + 8), c##r##1);              \
    }                                                                          \
    _mm256_storeu_ps(row, c##r##0);                                            \
    _mm256_storeu_ps(row + 8, c##r##1);                                        \
  }
  FLASH_STORE(0) FLASH_STORE(1) FLASH_STORE(2) FLASH_STORE(3) FLASH_STORE(4) FLASH_STORE(5)
#undef FLASH_STORE
      // clang-format on
      if (!full) storeTile(buffer, NR, c, ldc, rows, cols, accumulate);
  if (epilogue) // an edge tile: from C, element by element
    epilogue->apply(c, ldc, rows, cols);
}

/// The last K slice of a tile gets the epilogue (at the tile), if any.
/// `bHalf` is where a 32-wide tile's second 16 columns start, from `bp`:
/// 16 in a 32-wide packed panel or in place, one compiled panel (16 x K)
/// further in compiled panels; tiles of at most 16 columns ignore it.
using Microkernel = void (*)(int64_t, const float *, const float *, int64_t,
                             int64_t, float *, int64_t, int64_t, int64_t, bool,
                             const SgemmEpilogue *);

// clang-format off
/// Row r of a full AVX-512 32-wide tile out of accumulators c<r>0, c<r>1:
/// added to C when `accumulate`, then either stored to C or, with the
/// epilogue `e`, bias and residual adds and the clamp (the bound first: a
/// NaN accumulator stays NaN) and stored to its output. Needs c, ldc,
/// accumulate, e, col0/col1 (the column bias), lo, hi, clamp in scope.
#define FLASH_OUT(r)                                                           \
  {                                                                            \
    float *row = c + r * ldc;                                                  \
    if (accumulate) {                                                          \
      c##r##0 = _mm512_add_ps(_mm512_loadu_ps(row), c##r##0);                  \
      c##r##1 = _mm512_add_ps(_mm512_loadu_ps(row + 16), c##r##1);             \
    }                                                                          \
    if (!e) {                                                                  \
      _mm512_storeu_ps(row, c##r##0);                                          \
      _mm512_storeu_ps(row + 16, c##r##1);                                     \
    } else {                                                                   \
      if (e->rowBias) {                                                        \
        __m512 bias = _mm512_set1_ps(e->rowBias[r]);                           \
        c##r##0 = _mm512_add_ps(c##r##0, bias);                                \
        c##r##1 = _mm512_add_ps(c##r##1, bias);                                \
      }                                                                        \
      if (e->colBias) {                                                        \
        c##r##0 = _mm512_add_ps(c##r##0, col0);                                \
        c##r##1 = _mm512_add_ps(c##r##1, col1);                                \
      }                                                                        \
      if (e->residual) {                                                       \
        const float *res = e->residual + r * e->ldr;                           \
        c##r##0 = _mm512_add_ps(c##r##0, _mm512_loadu_ps(res));                \
        c##r##1 = _mm512_add_ps(c##r##1, _mm512_loadu_ps(res + 16));           \
      }                                                                        \
      if (clamp) {                                                             \
        c##r##0 = _mm512_min_ps(hi, _mm512_max_ps(lo, c##r##0));               \
        c##r##1 = _mm512_min_ps(hi, _mm512_max_ps(lo, c##r##1));               \
      }                                                                        \
      _mm512_storeu_ps(e->out + r * e->ldo, c##r##0);                          \
      _mm512_storeu_ps(e->out + r * e->ldo + 16, c##r##1);                     \
    }                                                                          \
  }
// clang-format on

/// The 12x32 tile in 24 AVX-512 accumulators, for full tiles of 12 rows:
/// two 6-row A panels (`aq` the second), so compiled A panels serve it too.
/// Per k step 2 loads of B, 12 broadcasts of A and 24 FMAs: twice the FMAs
/// per B load and per loop iteration of the 6x32 tile, which on this VM's
/// Xeon leaves the 6x32 loop short of the FMA peak (front end and loads).
__attribute__((target("avx512f"))) void
microkernelAvx512Tall(int64_t kc, const float *ap, const float *aq,
                      const float *bp, int64_t bStride, int64_t bHalf,
                      float *c, int64_t ldc, bool accumulate,
                      const SgemmEpilogue *epilogue) {
  // clang-format off
#define FLASH_ZERO(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
  FLASH_ZERO(0) FLASH_ZERO(1) FLASH_ZERO(2) FLASH_ZERO(3) FLASH_ZERO(4) FLASH_ZERO(5)
  FLASH_ZERO(6) FLASH_ZERO(7) FLASH_ZERO(8) FLASH_ZERO(9) FLASH_ZERO(10) FLASH_ZERO(11)
#undef FLASH_ZERO
  const float *bq = bp + bHalf;
#define FLASH_ROW(r, src, i)                                                   \
  a = _mm512_set1_ps(src[i]);                                                  \
  c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                                   \
  c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bq), a;
    FLASH_ROW(0, ap, 0) FLASH_ROW(1, ap, 1) FLASH_ROW(2, ap, 2)
    FLASH_ROW(3, ap, 3) FLASH_ROW(4, ap, 4) FLASH_ROW(5, ap, 5)
    FLASH_ROW(6, aq, 0) FLASH_ROW(7, aq, 1) FLASH_ROW(8, aq, 2)
    FLASH_ROW(9, aq, 3) FLASH_ROW(10, aq, 4) FLASH_ROW(11, aq, 5)
    ap += MR;
    aq += MR;
    bp += bStride;
    bq += bStride;
  }
#undef FLASH_ROW
  const SgemmEpilogue *e = epilogue;
  __m512 col0 = _mm512_setzero_ps(), col1 = _mm512_setzero_ps();
  if (e && e->colBias)
    col0 = _mm512_loadu_ps(e->colBias), col1 = _mm512_loadu_ps(e->colBias + 16);
  __m512 lo = _mm512_set1_ps(e ? e->lo : 0.0f), hi = _mm512_set1_ps(e ? e->hi : 0.0f);
  bool clamp = e && (e->lo > -__builtin_inff() || e->hi < __builtin_inff());
  FLASH_OUT(0) FLASH_OUT(1) FLASH_OUT(2) FLASH_OUT(3) FLASH_OUT(4) FLASH_OUT(5)
  FLASH_OUT(6) FLASH_OUT(7) FLASH_OUT(8) FLASH_OUT(9) FLASH_OUT(10) FLASH_OUT(11)
  // clang-format on
}


/// The 6x32 tile in 12 AVX-512 accumulators (of 32 registers): per k step
/// 2 loads of B, 6 broadcasts of A and 12 FMAs of 16 lanes, twice the work
/// per instruction of the AVX2 tile. Where the core has two 512-bit FMA
/// units (Intel server cores) that is twice the FLOP rate; where a 512-bit
/// FMA runs as two halves (AMD Zen 4) it is the AVX2 rate with half the
/// instructions. A has the AVX2 tile's 6 rows, so compiled A panels serve
/// both; compiled B panels (16 wide) are read as two, `bHalf` apart.
__attribute__((target("avx512f"))) void
microkernelAvx512(int64_t kc, const float *ap, const float *bp,
                  int64_t bStride, int64_t bHalf, float *c, int64_t ldc,
                  int64_t rows, int64_t cols, bool accumulate,
                  const SgemmEpilogue *epilogue) {
  constexpr int64_t W = 32;
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  const float *bq = bp + bHalf;
  // clang-format off
#define FLASH_ROW(r)                                                           \
  a = _mm512_set1_ps(ap[r]);                                                   \
  c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                                   \
  c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bq), a;
    FLASH_ROW(0) FLASH_ROW(1) FLASH_ROW(2) FLASH_ROW(3) FLASH_ROW(4) FLASH_ROW(5)
    ap += MR;
    bp += bStride;
    bq += bStride;
  }
#undef FLASH_ROW
  alignas(64) float buffer[MR * W];
  bool full = rows == MR && cols == W;
  if (full) { // straight from the registers, with the epilogue if any
    const SgemmEpilogue *e = epilogue;
    __m512 col0 = _mm512_setzero_ps(), col1 = _mm512_setzero_ps();
    if (e && e->colBias)
      col0 = _mm512_loadu_ps(e->colBias), col1 = _mm512_loadu_ps(e->colBias + 16);
    __m512 lo = _mm512_set1_ps(e ? e->lo : 0.0f), hi = _mm512_set1_ps(e ? e->hi : 0.0f);
    bool clamp = e && (e->lo > -__builtin_inff() || e->hi < __builtin_inff());
    FLASH_OUT(0) FLASH_OUT(1) FLASH_OUT(2) FLASH_OUT(3) FLASH_OUT(4) FLASH_OUT(5)
    return;
  }
  // An edge tile: through a buffer, the epilogue element by element.
#define FLASH_STORE(r)                                                         \
  _mm512_storeu_ps(buffer + r * W, c##r##0);                                   \
  _mm512_storeu_ps(buffer + r * W + 16, c##r##1);
  FLASH_STORE(0) FLASH_STORE(1) FLASH_STORE(2) FLASH_STORE(3) FLASH_STORE(4) FLASH_STORE(5)
#undef FLASH_STORE
  // clang-format on
  storeTile(buffer, W, c, ldc, rows, cols, accumulate);
  if (epilogue)
    epilogue->apply(c, ldc, rows, cols);
}

/// The AVX-512 tile's edges: the first R (1-6) rows of a 6-row A panel
/// times W = 8, 16 or 32 columns of B, so an edge tile does only the FMAs
/// its rows and columns need. Before, every edge ran the whole 6x32 tile
/// (or the AVX2 6x16 one): a 7x7 image's 49 output columns cost 64, and
/// DenseNet's 32 output channels cost 36 rows. W = 8 is one 256-bit vector
/// (half the FMA cost of a 512-bit one where those run as two halves, as
/// on AMD Zen 4; the same instruction count elsewhere). Stored through a
/// buffer, the epilogue element by element, as other edge tiles.
///
/// X (1 or 2, W = 16) more columns ride along, from column 16 of the
/// tile (`bp + bHalf`, as edgeTile finds it): A's 6 rows of a k step as
/// one 256-bit vector (the ones the row broadcasts just read, in L1) times
/// each column's B value. Alone, as microkernelNarrow, such a column
/// streams the whole A block from L2 for 6 multiply-adds per k step: a
/// 7x7 image's 49th column took 12% of a 512->512 3x3 convolution for 2%
/// of its work.
template <int R, int W, int X = 0>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void
microkernelEdge(int64_t kc, const float *ap, const float *bp, int64_t bStride,
                int64_t bHalf, float *c, int64_t ldc, int64_t rows,
                int64_t cols, bool accumulate, const SgemmEpilogue *epilogue) {
  static_assert(X == 0 || W == 16, "extra columns ride on 16-wide tiles");
  constexpr int BW = X ? 2 * W : W; // the buffer's row: W + X, rounded
  alignas(64) float buffer[R * BW];
  if constexpr (W == 8) {
    __m256 acc[R];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; ++p) {
      __m256 b0 = _mm256_loadu_ps(bp);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r)
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(ap[r]), b0, acc[r]);
      ap += MR;
      bp += bStride;
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
      _mm256_store_ps(buffer + r * W, acc[r]);
  } else {
    constexpr int V = W / 16;
    __m512 acc[R][V];
    __m256 extra[X ? X : 1];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int x = 0; x < X; ++x)
      extra[x] = _mm256_setzero_ps();
    const float *bq = bp + bHalf;
    const float *bx = bq; // column 16 + x at bx[x]
    const __mmask8 panelRows = (1u << MR) - 1;
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; ++p) {
      __m512 b[V];
      b[0] = _mm512_loadu_ps(bp);
      if constexpr (V == 2)
        b[1] = _mm512_loadu_ps(bq);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        __m512 a = _mm512_set1_ps(ap[r]);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v)
          acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
      }
      if constexpr (X > 0) {
        __m256 a = _mm256_maskz_loadu_ps(panelRows, ap);
#pragma GCC unroll 2
        for (int x = 0; x < X; ++x)
          extra[x] = _mm256_fmadd_ps(a, _mm256_set1_ps(bx[x]), extra[x]);
        bx += bStride;
      }
      ap += MR;
      bp += bStride;
      bq += bStride;
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        _mm512_store_ps(buffer + r * BW + 16 * v, acc[r][v]);
    if constexpr (X > 0) {
      alignas(32) float column[8];
      for (int x = 0; x < X; ++x) {
        _mm256_store_ps(column, extra[x]);
        for (int r = 0; r < R; ++r)
          buffer[r * BW + W + x] = column[r];
      }
    }
  }
  storeTile(buffer, BW, c, ldc, rows, cols, accumulate);
  if (epilogue)
    epilogue->apply(c, ldc, rows, cols);
}

/// An edge of C (1 or 2) columns: A's 6 rows of a k step as one vector (a
/// masked load: nothing past the panel is read), times each column's B
/// value broadcast, so a k step is 1 + C loads and C FMAs; the 8-wide edge
/// tile spent 7 loads and 6 FMAs per k step on them (a 7x7 image's 49th
/// column). Four k steps in flight per column (partial sums added at the
/// end): one chain would wait on the FMA's latency every step. Measured
/// (Zen 4, one thread, 960x160 times 160xN): N = 33 144 -> 127 us, 34 146
/// -> 131, 49 188 -> 170; but 35 equal and 36 146 -> 156, so 3-8 columns
/// stay on the 8-wide tile.
template <int C>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void
microkernelNarrow(int64_t kc, const float *ap, const float *bp,
                  int64_t bStride, int64_t /*bHalf*/, float *c, int64_t ldc,
                  int64_t rows, int64_t cols, bool accumulate,
                  const SgemmEpilogue *epilogue) {
  constexpr int U = 4;
  __m256 acc[U][C];
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 4
    for (int j = 0; j < C; ++j)
      acc[u][j] = _mm256_setzero_ps();
  const __mmask8 sixRows = (1u << MR) - 1;
  int64_t p = 0;
  for (; p + U <= kc; p += U) {
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      __m256 a = _mm256_maskz_loadu_ps(sixRows, ap + (p + u) * MR);
      const float *b = bp + (p + u) * bStride;
#pragma GCC unroll 4
      for (int j = 0; j < C; ++j)
        acc[u][j] = _mm256_fmadd_ps(a, _mm256_set1_ps(b[j]), acc[u][j]);
    }
  }
  for (; p < kc; ++p) {
    __m256 a = _mm256_maskz_loadu_ps(sixRows, ap + p * MR);
    const float *b = bp + p * bStride;
#pragma GCC unroll 4
    for (int j = 0; j < C; ++j)
      acc[0][j] = _mm256_fmadd_ps(a, _mm256_set1_ps(b[j]), acc[0][j]);
  }
  // Column j's rows in lanes 0-5: to the row-major tile buffer.
  alignas(32) float column[8];
  alignas(64) float buffer[MR * 8];
  for (int j = 0; j < C; ++j) {
    __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[0][j], acc[1][j]),
                               _mm256_add_ps(acc[2][j], acc[3][j]));
    _mm256_store_ps(column, sum);
    for (int r = 0; r < MR; ++r)
      buffer[r * 8 + j] = column[r];
  }
  storeTile(buffer, 8, c, ldc, rows, cols, accumulate);
  if (epilogue)
    epilogue->apply(c, ldc, rows, cols);
}

/// The AVX2 6x16 tile's edges (CPUs without AVX-512): the first R (1-6)
/// rows of a 6-row A panel times V (1 or 2) vectors of 8 columns, so an
/// edge tile does only the FMAs its rows and columns need (on the whole
/// tile a 7x7 image's 49 columns cost 64, and RegNet's groups of 8 output
/// channels 12 rows). With 4 accumulators or fewer, two k steps in flight
/// (one chain would wait on the FMA's latency every step). Stored through
/// a buffer, the epilogue element by element, as other edge tiles.
template <int R, int V>
__attribute__((target("avx2,fma"))) void
microkernelEdgeAvx2(int64_t kc, const float *ap, const float *bp,
                    int64_t bStride, int64_t /*bHalf*/, float *c, int64_t ldc,
                    int64_t rows, int64_t cols, bool accumulate,
                    const SgemmEpilogue *epilogue) {
  constexpr int U = R * V <= 4 ? 2 : 1;
  __m256 acc[U][R][V];
#pragma GCC unroll 2
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        acc[u][r][v] = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + U <= kc; p += U) {
#pragma GCC unroll 2
    for (int u = 0; u < U; ++u) {
      const float *b = bp + (p + u) * bStride;
      const float *a = ap + (p + u) * MR;
      __m256 bv[V];
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        __m256 av = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v)
          acc[u][r][v] = _mm256_fmadd_ps(av, bv[v], acc[u][r][v]);
      }
    }
  }
  for (; p < kc; ++p) {
    const float *b = bp + p * bStride;
    const float *a = ap + p * MR;
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        acc[0][r][v] =
            _mm256_fmadd_ps(av, _mm256_loadu_ps(b + 8 * v), acc[0][r][v]);
    }
  }
  alignas(32) float buffer[R * 8 * V];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m256 sum = acc[0][r][v];
      if constexpr (U == 2)
        sum = _mm256_add_ps(sum, acc[1][r][v]);
      _mm256_store_ps(buffer + r * 8 * V + 8 * v, sum);
    }
  storeTile(buffer, 8 * V, c, ldc, rows, cols, accumulate);
  if (epilogue)
    epilogue->apply(c, ldc, rows, cols);
}

/// The AVX2 edge kernel for `rows` (1-6) by `cols` (1-16: one vector up to
/// 8 columns, else two).
Microkernel edgeKernelAvx2(int64_t rows, int64_t cols) {
  static constexpr Microkernel one[] = {
      microkernelEdgeAvx2<1, 1>, microkernelEdgeAvx2<2, 1>,
      microkernelEdgeAvx2<3, 1>, microkernelEdgeAvx2<4, 1>,
      microkernelEdgeAvx2<5, 1>, microkernelEdgeAvx2<6, 1>};
  static constexpr Microkernel two[] = {
      microkernelEdgeAvx2<1, 2>, microkernelEdgeAvx2<2, 2>,
      microkernelEdgeAvx2<3, 2>, microkernelEdgeAvx2<4, 2>,
      microkernelEdgeAvx2<5, 2>, microkernelEdgeAvx2<6, 2>};
  return cols <= 8 ? one[rows - 1] : two[rows - 1];
}

/// The edge kernel for `rows` (1-6) by `width` (8, 16 or 32) and X more
/// columns (16 + 1 or 2).
template <int W, int X = 0> Microkernel edgeKernelOfRows(int64_t rows) {
  static constexpr Microkernel kernels[] = {
      microkernelEdge<1, W, X>, microkernelEdge<2, W, X>,
      microkernelEdge<3, W, X>, microkernelEdge<4, W, X>,
      microkernelEdge<5, W, X>, microkernelEdge<6, W, X>};
  return kernels[rows - 1];
}

/// An AVX-512 edge tile (fewer than 6 rows or 32 columns) as the fewest
/// FMAs: columns in blocks of 32, 16 then 8 (17-24 columns as 16 + 8),
/// each block's B from column `o` of the tile: `bp + o` in a 32-wide panel
/// or in place, the next compiled panel (`bHalf` on) from column 16.
void edgeTile(int64_t kc, const float *ap, const float *bp, int64_t bStride,
              int64_t bHalf, float *c, int64_t ldc, int64_t rows, int64_t cols,
              bool accumulate, const SgemmEpilogue *epilogue) {
  for (int64_t o = 0; o < cols;) {
    int64_t left = cols - o;
    int64_t width = left > 24 ? 32 : left > 8 ? 16 : 8;
    // 17 or 18 columns: one or two ride on the 16-wide tile (only from
    // column 0, where the tile's second half starts at bp + bHalf).
    int64_t extra =
        o == 0 && left > 16 && left <= 16 + kSgemmEdgeRidingColumns ? left - 16
                                                                     : 0;
    int64_t part = std::min(width, left) + extra;
    Microkernel kernel = width == 32   ? edgeKernelOfRows<32>(rows)
                         : extra == 1  ? edgeKernelOfRows<16, 1>(rows)
                         : extra == 2  ? edgeKernelOfRows<16, 2>(rows)
                         : width == 16 ? edgeKernelOfRows<16>(rows)
                         : part == 1   ? microkernelNarrow<1>
                         : part == 2   ? microkernelNarrow<2>
                                       : edgeKernelOfRows<8>(rows);
    SgemmEpilogue sub;
    if (epilogue)
      sub = epilogue->at(0, o);
    const float *b = o == 0 ? bp : bp + (o / 16) * bHalf + o % 16;
    kernel(kc, ap, b, bStride, bHalf, c + o, ldc, rows, part, accumulate,
           epilogue ? &sub : nullptr);
    o += part;
  }
}

using Vec8 = float __attribute__((vector_size(32)));

/// The other register tiles: R rows by V vectors of 8 columns, accumulators
/// in an array GCC keeps in registers when they fit (R * V <= 14 of the 16
/// AVX2 registers, with one for A and V for B) and spills when they do not.
template <int R, int V>
__attribute__((target("avx2,fma"))) void
microkernelTile(int64_t kc, const float *ap, const float *bp, int64_t bStride,
                int64_t /*bHalf*/, float *c, int64_t ldc, int64_t rows, int64_t cols,
                bool accumulate, const SgemmEpilogue *epilogue) {
  Vec8 acc[R][V] = {};
  for (int64_t p = 0; p < kc; ++p) {
    Vec8 b[V];
    for (int v = 0; v < V; ++v)
      std::memcpy(&b[v], bp + 8 * v, sizeof(Vec8));
    for (int r = 0; r < R; ++r) {
      Vec8 a = Vec8{} + ap[r]; // broadcast
      for (int v = 0; v < V; ++v)
        acc[r][v] += a * b[v]; // contracted to FMAs
    }
    ap += R;
    bp += bStride;
  }
  alignas(32) float buffer[R * V * 8];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      std::memcpy(buffer + (r * V + v) * 8, &acc[r][v], sizeof(Vec8));
  storeTile(buffer, 8 * V, c, ldc, rows, cols, accumulate);
  if (epilogue)
    epilogue->apply(c, ldc, rows, cols);
}

struct Tile {
  int64_t mr, nr;
  Microkernel kernel;
  const char *name; ///< the function, as fc.analyze finds it disassembled
  const char *isa;  ///< whose FMA peak it runs at (flash-peak's keys)
};

/// The tiles of this CPU, index 0 the default: the AVX-512 6x32 where the
/// CPU has AVX-512, else the hand-scheduled AVX2 6x16 (else the portable
/// one); then the template tiles, and the AVX2 6x16 once more where it is
/// not the default, so the tuner can still choose it.
const std::vector<Tile> &cpuTiles() {
  static const std::vector<Tile> tiles = [] {
    bool avx2 = cpuHasAvx2(), avx512 = cpuUsesAvx512();
    std::vector<Tile> t;
    if (!avx2)
      return std::vector<Tile>{
          {MR, NR, microkernelGeneric, "microkernelGeneric(", "generic"}};
    if (avx512)
      t.push_back({MR, 32, microkernelAvx512, "microkernelAvx512(", "avx512"});
    else
      t.push_back({MR, NR, microkernelAvx2, "microkernelAvx2(", "avx2"});
    t.push_back({4, 24, microkernelTile<4, 3>, "microkernelTile<4, 3>(", "avx2"});
    t.push_back({8, 8, microkernelTile<8, 1>, "microkernelTile<8, 1>(", "avx2"});
    t.push_back({4, 16, microkernelTile<4, 2>, "microkernelTile<4, 2>(", "avx2"});
    t.push_back({12, 32, microkernelTile<12, 4>, "microkernelTile<12, 4>(", "avx2"});
    if (avx512)
      t.push_back({MR, NR, microkernelAvx2, "microkernelAvx2(", "avx2"});
    return t;
  }();
  return tiles;
}

/// Index 0 is the default; the order is sgemmTiles()'s.
const Tile &selectTile(int64_t index) {
  const std::vector<Tile> &tiles = cpuTiles();
  if (index < 0 || index >= static_cast<int64_t>(tiles.size()))
    return tiles[0];
  return tiles[index];
}

/// Edge tiles on (FLASH_SGEMM_EDGE_TILES=0 turns them off, to compare).
bool edgeTilesEnabled() {
  static const bool enabled = [] {
    const char *env = std::getenv("FLASH_SGEMM_EDGE_TILES");
    return !env || std::string(env) != "0";
  }();
  return enabled;
}

/// A call's blocking: the config's choices, or the defaults, rounded so
/// blocks hold whole register tiles.
struct Blocking {
  int64_t mr, nr, mc, kc, nc;
  Microkernel kernel;
  Microkernel narrowKernel; ///< for a 32-wide tile's last 16 columns or fewer
  bool ncDefault; ///< nc is the default, not a tuned choice
  int64_t packB; ///< SgemmConfig::packB
  bool bPanels;  ///< SgemmConfig::bPanels
  bool aPanels;  ///< SgemmConfig::aPanels
  bool edgeTiles; ///< edge tiles by edgeTile (FLASH_SGEMM_EDGE_TILES=0: off)
};

Blocking blockingFor(const SgemmConfig &config) {
  const Tile &tile = selectTile(config.tile);
  auto roundUp = [](int64_t v, int64_t to) { return (v + to - 1) / to * to; };
  Blocking b;
  b.mr = tile.mr, b.nr = tile.nr, b.kernel = tile.kernel;
  // The AVX-512 tile's edge: AVX2 6x16, on the same 6-row A panels.
  b.narrowKernel = tile.kernel == microkernelAvx512 ? microkernelAvx2 : nullptr;
  b.mc = roundUp(config.mc > 0 ? config.mc : MC, tile.mr);
  b.kc = config.kc > 0 ? config.kc : KC;
  b.nc = roundUp(config.nc > 0 ? config.nc : NC, tile.nr);
  b.ncDefault = config.nc <= 0;
  b.packB = config.packB;
  b.bPanels = config.bPanels;
  b.aPanels = config.aPanels;
  b.edgeTiles = edgeTilesEnabled();
  return b;
}

/// Whether a block of `mc` rows (more than one 12-row group), `kc` deep and
/// `nc` wide (at least 256) runs its row groups outer: where its B block
/// fits half of L2, so each group finds it there. Column panels outer, C
/// is written mc rows at a time, 128 bytes per row and tile, and when C is
/// not in cache (a model's large activations, written once per call) the
/// prefetchers do not follow so many streams: MobileNetV3-large's 16->64
/// 1x1 convolution over 112x112 took 300 us alone and 660-700 us inside
/// the model, where ONNX Runtime writes blocked channels as few streams.
/// FLASH_SGEMM_ROWS_OUTER=0 keeps column panels outer (to compare).
bool sgemmRowsOuter(int64_t mc, int64_t kc, int64_t nc) {
  static const bool enabled = [] {
    const char *env = std::getenv("FLASH_SGEMM_ROWS_OUTER");
    return !env || std::string(env) != "0";
  }();
  return enabled && mc > 2 * kSgemmPanelRows && nc >= 256 &&
         kc * nc * int64_t(sizeof(float)) <= kSgemmRowsOuterBytes;
}

/// One thread's share: the whole BLIS loop nest over C[0:m, 0:n].
void sgemmSerial(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float *c, int64_t ldc,
                 bool accumulate, const Blocking &blk,
                 const SgemmEpilogue *epilogue,
                 const Im2colSource *im2col = nullptr) {
  const int64_t mr = blk.mr, nr = blk.nr, MCb = blk.mc, KCb = blk.kc;
  // An implicit GEMM's packed block stays in L2 (kIm2colNC), unless tuned.
  const int64_t NCb = im2col && blk.ncDefault
                          ? std::min(blk.nc, (kIm2colNC + nr - 1) / nr * nr)
                          : blk.nc;
  // Equal slices rather than full blocks plus a sliver: K = 784 runs as
  // 4 x 196, not 3 x 256 + 16 (a sliver costs a whole pass over C).
  int64_t kcStep = (k + (k + KCb - 1) / KCb - 1) / ((k + KCb - 1) / KCb);
  int64_t ncMax = std::min(NCb, (n + nr - 1) / nr * nr);
  int64_t mcMax = std::min(MCb, (m + mr - 1) / mr * mr);
  int64_t kcMax = std::min(kcStep, k);
  Buffer bPacked = allocate(kcMax * ncMax);
  Buffer aPacked = allocate(kcMax * mcMax);
  if (!bPacked || !aPacked) {
    size_t bytes = (kcMax * (ncMax + mcMax)) * sizeof(float);
    bPacked.reset();
    aPacked.reset();
    flash::runtime::outOfMemory(bytes);
  }
  for (int64_t jc = 0; jc < n; jc += NCb) {
    int64_t nc = std::min(NCb, n - jc);
    for (int64_t pc = 0; pc < k; pc += kcStep) {
      int64_t kc = std::min(kcStep, k - pc);
      // A single block of A rows sweeps each B panel once, so B is read
      // in place unless its rows alias in L1 (sgemmPacksB; BLIS always
      // packs B, for its reuse across A blocks).
      // (Compiled panels were packed when the program was compiled.)
      bool bInPlace = !blk.bPanels && !im2col &&
                      !sgemmPacksB(m, ldb, MCb, blk.packB);
      int64_t fullCols = nc / nr * nr;
      if (im2col) // gathered from the convolution's input as it is packed
        packIm2colPanels(*im2col, pc, kc, jc, nc, nr, bPacked.get());
      else if (!blk.bPanels && !bInPlace)
        packB(kc, nc, b + pc * ldb + jc, ldb, nr, bPacked.get());
      else if (bInPlace && fullCols < nc) // only the ragged edge, zero-padded
        packB(kc, nc - fullCols, b + pc * ldb + jc + fullCols, ldb, nr,
              bPacked.get() + fullCols * kc);
      for (int64_t ic = 0; ic < m; ic += MCb) {
        int64_t mc = std::min(MCb, m - ic);
        if (!blk.aPanels)
          packA(mc, kc, a + ic * lda + pc, lda, mr, aPacked.get());
        // One register tile at rows ir, columns jr of the block; returns
        // the rows it covered (12 for the tall tile, else 6).
        auto runTile = [&](int64_t ir, int64_t jr, bool allowTall) {
          int64_t cols = std::min(nr, nc - jr);
          int64_t rows = std::min(mr, mc - ir);
          // Two full 6-row tiles side by side: the 12x32 tile, if any.
          bool tall = allowTall && blk.kernel == microkernelAvx512 &&
                      ir + 2 * mr <= mc && cols == nr;
          // The first K slice overwrites C unless asked to accumulate.
          bool direct = bInPlace && cols == nr;
          // Compiled panels hold all K rows of their 16 columns (a
          // 32-wide tile reads two, one panel apart).
          constexpr int64_t pw = kSgemmPanelColumns;
          const float *bp = blk.bPanels ? b + (jc + jr) * k + pc * pw
                            : direct    ? b + pc * ldb + jc + jr
                                        : bPacked.get() + jr * kc;
          int64_t bStride = blk.bPanels ? pw : direct ? ldb : nr;
          int64_t bHalf = blk.bPanels ? pw * k : 16;
          // Compiled A panels hold all K columns of their 6 rows.
          const float *ap = blk.aPanels ? a + (ic + ir) * k + pc * mr
                                        : aPacked.get() + ir * kc;
          // After the last K slice the tile is final: the epilogue runs
          // on its accumulators before they leave the registers.
          SgemmEpilogue tileEpilogue;
          bool last = epilogue && pc + kc == k;
          if (last)
            tileEpilogue = epilogue->at(ic + ir, jc + jr);
          // A 32-wide tile's last columns, 16 or fewer: the 16-wide
          // tile (a compiled B has no panel past them to read).
          Microkernel kernel =
              blk.narrowKernel && cols <= pw ? blk.narrowKernel : blk.kernel;
          if (tall) {
            const float *aq = blk.aPanels ? ap + mr * k : ap + mr * kc;
            microkernelAvx512Tall(kc, ap, aq, bp, bStride, bHalf,
                                  c + (ic + ir) * ldc + jc + jr, ldc,
                                  accumulate || pc > 0,
                                  last ? &tileEpilogue : nullptr);
            if (last)
              tileEpilogue.activate(2 * mr, cols);
            return 2 * mr;
          }
          if (blk.kernel == microkernelAvx512 && blk.edgeTiles &&
              (rows < mr || cols < nr)) {
            edgeTile(kc, ap, bp, bStride, bHalf,
                     c + (ic + ir) * ldc + jc + jr, ldc, rows, cols,
                     accumulate || pc > 0, last ? &tileEpilogue : nullptr);
            if (last)
              tileEpilogue.activate(rows, cols);
            return mr;
          }
          if (blk.kernel == microkernelAvx2 && blk.edgeTiles &&
              (rows < mr || cols <= nr / 2)) {
            edgeKernelAvx2(rows, cols)(
                kc, ap, bp, bStride, bHalf, c + (ic + ir) * ldc + jc + jr,
                ldc, rows, cols, accumulate || pc > 0,
                last ? &tileEpilogue : nullptr);
            if (last)
              tileEpilogue.activate(rows, cols);
            return mr;
          }
          kernel(kc, ap, bp, bStride, bHalf, c + (ic + ir) * ldc + jc + jr,
                 ldc, rows, cols, accumulate || pc > 0,
                 last ? &tileEpilogue : nullptr);
          if (last)
            tileEpilogue.activate(rows, cols);
          return mr;
        };
        // Column panels outer (a B panel stays in L1 for every A panel),
        // unless sgemmRowsOuter: then groups of rows outer, so that C is
        // written as a few long rows at a time (mc rows 128 bytes at a
        // time defeat the prefetchers when C is not in cache).
        if (!sgemmRowsOuter(mc, kc, nc)) {
          for (int64_t jr = 0; jr < nc; jr += nr)
            for (int64_t ir = 0; ir < mc;)
              ir += runTile(ir, jr, true);
          continue;
        }
        const int64_t group = blk.kernel == microkernelAvx512 ? 2 * mr : mr;
        for (int64_t ir = 0; ir < mc; ir += group)
          for (int64_t jr = 0; jr < nc; jr += nr)
            for (int64_t d = 0; d < group && ir + d < mc;)
              d += runTile(ir + d, jr, d == 0);
      }
    }
  }
}

/// Few rows (a matrix-vector product in disguise): packing B would triple
/// the memory traffic of a bandwidth-bound loop, so stream B's rows instead.
/// Cloned for AVX2 and dispatched at load time.
__attribute__((target_clones("avx2", "default"))) void
sgemmFewRows(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
             const float *b, int64_t ldb, float *c, int64_t ldc,
             bool accumulate, const SgemmEpilogue *epilogue) {
  for (int64_t i = 0; i < m; ++i) {
    float *out = c + i * ldc;
    if (!accumulate)
      std::fill(out, out + n, 0.0f);
    const float *ai = a + i * lda;
    int64_t p = 0;
    // Eight rows of B per sweep over C's row: an eighth of the C traffic.
    for (; p + 8 <= k; p += 8) {
      const float *r = b + p * ldb;
      float s[8];
      for (int q = 0; q < 8; ++q)
        s[q] = ai[p + q];
      for (int64_t j = 0; j < n; ++j) { // auto-vectorized
        float sum = out[j];
        for (int q = 0; q < 8; ++q)
          sum += s[q] * r[q * ldb + j];
        out[j] = sum;
      }
    }
    for (; p < k; ++p) {
      float s0 = ai[p];
      const float *r0 = b + p * ldb;
      for (int64_t j = 0; j < n; ++j)
        out[j] += s0 * r0[j];
    }
    if (epilogue) {
      SgemmEpilogue row = epilogue->at(i, 0);
      row.apply(out, ldc, 1, n);
      row.activate(1, n);
    }
  }
}

/// One column of C (N = 1) from A in compiled panels: a 1x1 convolution
/// over a 1x1 image, the fully connected layers of squeeze-and-excitation
/// blocks (MobileNetV3, EfficientNet, RegNet). The register tiles spend a
/// whole vector multiply-add on each of A's values for one useful lane, so
/// an SE layer took twice ONNX Runtime's time (960 -> 240, Zen 4: 38 us
/// alone against 20; now 13). Here each panel (K x 6, row-major: 6 values
/// per k) is read as full vectors: with L lanes, lcm(6, L) floats are a
/// few k-steps, and lane l of the i-th vector meets x[k0 + (L*i + l) / 6],
/// so x's values are spread to the vectors' lanes by permutes; each row's
/// sum is then the sum of its lanes. FLASH_SGEMM_PANEL_GEMV=0 keeps the
/// register tiles (to compare).
bool gemvOverPanels() {
  static const bool enabled = [] {
    const char *env = std::getenv("FLASH_SGEMM_PANEL_GEMV");
    return !env || std::string(env) != "0";
  }();
  return enabled;
}

/// B's column (rows ldb apart), contiguous and zero-padded to a multiple
/// of `group` k-steps. Per thread, reused: no allocation once grown.
const float *paddedColumn(int64_t k, const float *b, int64_t ldb,
                          int64_t group) {
  thread_local std::vector<float> xs;
  xs.assign(static_cast<size_t>((k + group - 1) / group * group), 0.0f);
  for (int64_t p = 0; p < k; ++p)
    xs[p] = b[p * ldb];
  return xs.data();
}

/// Rows [r0, r0 + rows) of C from a panel's lanes: `steps` k-steps of 6
/// values, row r's partial sums at lanes r, r + 6, ...
inline void storePanelSums(const float *lanes, int steps, int64_t rows,
                           float *c, int64_t ldc, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    float sum = 0.0f;
    for (int q = 0; q < steps; ++q)
      sum += lanes[q * kSgemmPanelRows + r];
    float *out = c + r * ldc;
    *out = accumulate ? *out + sum : sum;
  }
}

/// The lanes of an L-lane vector loaded at float `from` of a group that
/// hold one of its `available` floats (a partial group's: past them lie the
/// next panel or the end of the array), as a mask.
template <typename Mask>
inline Mask lanesBelow(int64_t available, int64_t from, int lanes) {
  int64_t left = available - from;
  return left >= lanes ? Mask((1u << lanes) - 1)
         : left <= 0   ? Mask(0)
                       : Mask((1u << left) - 1);
}

__attribute__((target("avx512f"))) void
gemvPanelsAvx512(int64_t m, int64_t k, const float *a, const float *x,
                 float *c, int64_t ldc, bool accumulate) {
  constexpr int64_t mr = kSgemmPanelRows;
  alignas(64) int32_t idx[3][16];
  for (int i = 0; i < 3; ++i)
    for (int l = 0; l < 16; ++l)
      idx[i][l] = static_cast<int32_t>((16 * i + l) / mr);
  const __m512i i0 = _mm512_load_si512(idx[0]), i1 = _mm512_load_si512(idx[1]),
                i2 = _mm512_load_si512(idx[2]);
  const int64_t groups = (k + 7) / 8, full = k / 8;
  for (int64_t r0 = 0; r0 < m; r0 += mr) {
    const float *panel = a + r0 * k;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, t0 = s0, t1 = s0,
           t2 = s0;
    int64_t g = 0;
    // Two groups per iteration: two sets of chains in flight.
    for (; g + 2 <= full; g += 2) {
      const float *at = panel + g * 48;
      __m512 u = _mm512_castps256_ps512(_mm256_loadu_ps(x + g * 8));
      __m512 v = _mm512_castps256_ps512(_mm256_loadu_ps(x + g * 8 + 8));
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(at), _mm512_permutexvar_ps(i0, u), s0);
      s1 = _mm512_fmadd_ps(_mm512_loadu_ps(at + 16), _mm512_permutexvar_ps(i1, u), s1);
      s2 = _mm512_fmadd_ps(_mm512_loadu_ps(at + 32), _mm512_permutexvar_ps(i2, u), s2);
      t0 = _mm512_fmadd_ps(_mm512_loadu_ps(at + 48), _mm512_permutexvar_ps(i0, v), t0);
      t1 = _mm512_fmadd_ps(_mm512_loadu_ps(at + 64), _mm512_permutexvar_ps(i1, v), t1);
      t2 = _mm512_fmadd_ps(_mm512_loadu_ps(at + 80), _mm512_permutexvar_ps(i2, v), t2);
    }
    for (; g < groups; ++g) {
      const float *at = panel + g * 48;
      int64_t n = g < full ? 48 : (k % 8) * mr;
      __m512 u = _mm512_castps256_ps512(_mm256_loadu_ps(x + g * 8));
      s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanesBelow<__mmask16>(n, 0, 16), at),
                           _mm512_permutexvar_ps(i0, u), s0);
      s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanesBelow<__mmask16>(n, 16, 16), at + 16),
                           _mm512_permutexvar_ps(i1, u), s1);
      s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanesBelow<__mmask16>(n, 32, 16), at + 32),
                           _mm512_permutexvar_ps(i2, u), s2);
    }
    alignas(64) float lanes[48];
    _mm512_store_ps(lanes, _mm512_add_ps(s0, t0));
    _mm512_store_ps(lanes + 16, _mm512_add_ps(s1, t1));
    _mm512_store_ps(lanes + 32, _mm512_add_ps(s2, t2));
    storePanelSums(lanes, 8, std::min(mr, m - r0), c + r0 * ldc, ldc,
                   accumulate);
  }
}

/// The same with 8 lanes: 24 floats are 4 k-steps in three vectors.
__attribute__((target("avx2,fma"))) void
gemvPanelsAvx2(int64_t m, int64_t k, const float *a, const float *x, float *c,
               int64_t ldc, bool accumulate) {
  constexpr int64_t mr = kSgemmPanelRows;
  const __m256i i0 = _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 1, 1),
                i1 = _mm256_setr_epi32(1, 1, 1, 1, 2, 2, 2, 2),
                i2 = _mm256_setr_epi32(2, 2, 3, 3, 3, 3, 3, 3);
  const int64_t full = k / 4;
  for (int64_t r0 = 0; r0 < m; r0 += mr) {
    const float *panel = a + r0 * k;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, t0 = s0, t1 = s0,
           t2 = s0;
    int64_t g = 0;
    for (; g + 2 <= full; g += 2) {
      const float *at = panel + g * 24;
      __m256 u = _mm256_castps128_ps256(_mm_loadu_ps(x + g * 4));
      __m256 v = _mm256_castps128_ps256(_mm_loadu_ps(x + g * 4 + 4));
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(at), _mm256_permutevar8x32_ps(u, i0), s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(at + 8), _mm256_permutevar8x32_ps(u, i1), s1);
      s2 = _mm256_fmadd_ps(_mm256_loadu_ps(at + 16), _mm256_permutevar8x32_ps(u, i2), s2);
      t0 = _mm256_fmadd_ps(_mm256_loadu_ps(at + 24), _mm256_permutevar8x32_ps(v, i0), t0);
      t1 = _mm256_fmadd_ps(_mm256_loadu_ps(at + 32), _mm256_permutevar8x32_ps(v, i1), t1);
      t2 = _mm256_fmadd_ps(_mm256_loadu_ps(at + 40), _mm256_permutevar8x32_ps(v, i2), t2);
    }
    alignas(32) float lanes[24];
    _mm256_store_ps(lanes, _mm256_add_ps(s0, t0));
    _mm256_store_ps(lanes + 8, _mm256_add_ps(s1, t1));
    _mm256_store_ps(lanes + 16, _mm256_add_ps(s2, t2));
    // The last groups one k-step at a time (the panel's own floats only).
    for (int64_t p = g * 4; p < k; ++p)
      for (int64_t r = 0; r < mr; ++r)
        lanes[(p % 4) * mr + r] += panel[p * mr + r] * x[p];
    storePanelSums(lanes, 4, std::min(mr, m - r0), c + r0 * ldc, ldc,
                   accumulate);
  }
}

/// C[0:m, 0] (+)= A * B[:, 0] with A in compiled panels, then the epilogue.
void gemvPanels(int64_t m, int64_t k, const float *a, const float *b,
                int64_t ldb, float *c, int64_t ldc, bool accumulate,
                bool avx512, const SgemmEpilogue *epilogue) {
  const float *x = paddedColumn(k, b, ldb, 8);
  if (avx512)
    gemvPanelsAvx512(m, k, a, x, c, ldc, accumulate);
  else
    gemvPanelsAvx2(m, k, a, x, c, ldc, accumulate);
  if (epilogue) {
    epilogue->apply(c, ldc, m, 1);
    epilogue->activate(m, 1);
  }
}
} // namespace

std::vector<std::pair<int, int>> flash::runtime::sgemmTiles() {
  std::vector<std::pair<int, int>> out;
  for (const Tile &t : cpuTiles())
    out.emplace_back(static_cast<int>(t.mr), static_cast<int>(t.nr));
  return out;
}

std::vector<int> flash::runtime::sgemmAvx512EdgeColumnBlocks() {
  return {32, 16, 8}; // edgeTile's blocks
}

std::vector<int> flash::runtime::sgemmEdgeColumnBlocks() {
  if (!edgeTilesEnabled())
    return {};
  if (cpuTiles()[0].kernel == microkernelAvx512)
    return sgemmAvx512EdgeColumnBlocks();
  if (cpuTiles()[0].kernel == microkernelAvx2)
    return {16, 8}; // edgeKernelAvx2's
  return {};
}

std::vector<std::pair<std::string, std::string>>
flash::runtime::sgemmTileKernels() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Tile &t : cpuTiles())
    out.emplace_back(t.name, t.isa);
  return out;
}

void flash::runtime::sgemm(int64_t m, int64_t n, int64_t k, const float *a,
                           int64_t lda, const float *b, int64_t ldb, float *c,
                           int64_t ldc, bool accumulate,
                           const SgemmConfig &config,
                           const SgemmEpilogue *epilogue,
                           const Im2colSource *im2col) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i)
        std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    if (epilogue) {
      epilogue->apply(c, ldc, m, n);
      epilogue->activate(m, n);
    }
    return;
  }
  // Compiled panels are 16 wide and 6 deep: the default tile (6x16, or
  // 6x32 reading two panels), and no B-streaming path.
  SgemmConfig effective = config;
  if (config.bPanels || config.aPanels)
    effective.tile = 0;
  const Blocking blk = blockingFor(effective);
  bool fewRows = m < MR && !config.bPanels && !config.aPanels && !im2col;
  bool panelGemv = n == 1 && config.aPanels && !config.bPanels && !im2col &&
                   (blk.kernel == microkernelAvx512 ||
                    blk.kernel == microkernelAvx2) &&
                   gemvOverPanels();
  // Each stripe's share of the epilogue starts at its own (i0, j0).
  auto serial = [&](int64_t rows, int64_t cols, const float *a0,
                    const float *b0, float *c0, int64_t i0, int64_t j0) {
    SgemmEpilogue part;
    if (epilogue)
      part = epilogue->at(i0, j0);
    const SgemmEpilogue *e = epilogue ? &part : nullptr;
    Im2colSource stripe;
    if (im2col)
      stripe = *im2col, stripe.col0 += j0;
    if (panelGemv)
      gemvPanels(rows, k, a0, b0, ldb, c0, ldc, accumulate,
                 blk.kernel == microkernelAvx512, e);
    else if (fewRows)
      sgemmFewRows(rows, cols, k, a0, lda, b0, ldb, c0, ldc, accumulate, e);
    else
      sgemmSerial(rows, cols, k, a0, lda, b0, ldb, c0, ldc, accumulate, blk,
                  e, im2col ? &stripe : nullptr);
  };
  // Split C into column (or, for narrow C, row) stripes, one per task, each
  // a full serial GEMM: no shared packing buffers, no synchronization.
  SgemmSplit split = sgemmSplit(m, n, k, config.threads, getNumThreads(),
                                blk.mr, blk.nr, fewRows);
  int64_t stripe = split.stripe;
  if (split.tasks > 1 && split.columns) {
    parallelFor(split.tasks, [&](int t) {
      int64_t j0 = t * stripe, cols = std::min(stripe, n - j0);
      // In panels, column j0 (a multiple of 16) starts at panel j0 / 16.
      serial(m, cols, a,
             blk.bPanels ? b + j0 * k : im2col ? b : b + j0, c + j0, 0, j0);
    });
    return;
  }
  if (split.tasks > 1) {
    parallelFor(split.tasks, [&](int t) {
      int64_t i0 = t * stripe, rows = std::min(stripe, m - i0);
      // In panels, row i0 (a multiple of 6) starts at panel i0 / 6.
      serial(rows, n, blk.aPanels ? a + i0 * k : a + i0 * lda, b,
             c + i0 * ldc, i0, 0);
    });
    return;
  }
  serial(m, n, a, b, c, 0, 0);
}
