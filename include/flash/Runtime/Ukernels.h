//===- Ukernels.h - Hand-written CPU microkernels ---------------*- C++ -*-===//
//
// Like IREE's ukernels: a few hot loops where codegen alone does not reach
// the machine's peak are written by hand and called from generated code.
// Compiled code reaches them through the `_mlir_ciface_*` entry points (MLIR's
// C interface for memref arguments); the JIT gets their addresses from
// `registerUkernelSymbols`.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_UKERNELS_H
#define FLASH_RUNTIME_UKERNELS_H

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace flash::runtime {

/// Products of fewer FLOPs than this run on one thread unless a config
/// asks for more (shared with MatmulToUkernel's batch-loop rule).
inline constexpr int64_t kSgemmParallelFlops = 2000000;

/// Whether a batch of `batches` sgemm calls of `callFlops` each runs its
/// calls spread over `threads` threads (each call on one thread) rather
/// than one after the other (each call split into stripes): when each call
/// is too small to split but the batch is worth a fork, and when the calls
/// are big enough to split but the batch fills the threads with at most an
/// eighth of them idle (one fork instead of one per call, no packing
/// duplicated between stripes: 1.1-1.3x on this 2-core machine's
/// 4x128x64x128, 8x128x64x128 and 2x256^3 batches).
/// The one rule: generated code asks the runtime (flash_batch_in_parallel)
/// with the thread count of the call, fc.tune and the simulator through
/// _flashcompile.batch_in_parallel.
inline bool batchInParallel(int64_t batches, double callFlops, int threads) {
  if (batches < 2 || threads < 2)
    return false;
  if (callFlops < kSgemmParallelFlops)
    return callFlops * batches >= kSgemmParallelFlops;
  int64_t rounds = (batches + threads - 1) / threads;
  return rounds * threads * 8 <= batches * 9;
}

/// Whether a convolution over `images` images of `pixels` output pixels
/// each runs as one sgemm call over all images (N*OH*OW columns; the
/// filter packed once, then a pass back to NCHW) rather than one call per
/// image. A per-image call packs the whole filter for OH*OW columns only,
/// which does not pay off below 256 of them; one call over all images
/// needs enough columns to split over the threads. Measured here (2
/// threads): 1.04-2.4x faster on twelve batch-8/16 convolutions with
/// 16-225 pixels and at least 512 columns in all (0.88-0.99x on batch 2
/// with 128-392), 0.78-0.95x on seven with 256-3136 pixels.
/// The one rule: ConvToIm2col's `auto`, the graph cost analysis, fc.tune
/// (through _flashcompile.conv_batch_as_columns).
inline constexpr int64_t kConvColumnsBelowPixels = 256;
inline constexpr int64_t kConvColumnsMinColumns = 512;
inline bool convBatchAsColumns(int64_t images, int64_t pixels) {
  return images > 1 && pixels < kConvColumnsBelowPixels &&
         images * pixels >= kConvColumnsMinColumns;
}

/// Whether a convolution with a `kh` x `kw` kernel and strides `sh`, `sw`
/// over an unpadded input needs no im2col gather: a 1x1 kernel with unit
/// strides reads each image's (C x H*W) input as its patch matrix. The one
/// rule: ConvToIm2col, the graph cost analysis (no gather priced).
inline bool convIsPointwise(int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                            bool padded) {
  return kh == 1 && kw == 1 && sh == 1 && sw == 1 && !padded;
}
/// sgemm's default cache blocking: rows of a packed A block (L2), depth of
/// a packed slice (a 32-wide B panel of 64 KiB streams from L2; deeper
/// slices pass over C fewer times), columns of a packed B block (L3).
inline constexpr int64_t kSgemmMC = 144, kSgemmKC = 512, kSgemmNC = 3072;
/// The largest B block (bytes) for which sgemm runs row groups outer
/// (Sgemm.cpp's sgemmRowsOuter): half of a 1 MiB L2.
inline constexpr int64_t kSgemmRowsOuterBytes = 512 << 10;

/// How one sgemm call splits C over threads: `tasks` stripes of `stripe`
/// columns (`columns`) or rows, each a whole serial GEMM (no shared packing,
/// no synchronization). `requested` is SgemmConfig::threads (0: by size),
/// `threads` the pool's, `mr` x `nr` the register tile, `fewRows` the
/// streaming path for fewer rows than a tile. Column stripes when C has few
/// rows or is at least as wide as tall, else row stripes; each a multiple
/// of the tile. The one rule: Sgemm.cpp, the tuner's and the simulator's
/// models (_flashcompile.sgemm_split).
struct SgemmSplit {
  int tasks = 1;
  bool columns = false;
  int64_t stripe = 0; ///< 0 when it runs on one thread
};
inline SgemmSplit sgemmSplit(int64_t m, int64_t n, int64_t k,
                             int64_t requested, int threads, int64_t mr,
                             int64_t nr, bool fewRows) {
  double flops = 2.0 * m * n * k;
  int64_t tasks = requested > 0 ? (requested < threads ? requested : threads)
                  : (flops < kSgemmParallelFlops ? 1 : threads);
  SgemmSplit split;
  if (tasks <= 1)
    return split;
  split.columns = fewRows || n >= m;
  int64_t along = split.columns ? n : m, unit = split.columns ? nr : mr;
  split.stripe = ((along + tasks - 1) / tasks + unit - 1) / unit * unit;
  split.tasks = static_cast<int>((along + split.stripe - 1) / split.stripe);
  return split;
}
/// A convolution's patch matrix read straight from its input image while
/// sgemm packs B's panels (implicit GEMM: im2col fused into packing, no
/// patch matrix in memory): B[k][p] = input[c][y*sh + i*dh - padTop]
/// [x*sw + j*dw - padLeft] for k = (c*kh + i)*kw + j and column
/// p = y*ow + x, zero where that falls outside the h x w image (the zero
/// padding, never materialized). Why: the gathered patch matrix is KH*KW
/// times the input, written once and read again to be packed, and the
/// padded copy another pass, while the input itself stays in L2; this
/// packs from there.
struct Im2colSource {
  const float *input = nullptr;
  int64_t planeStride = 0, rowStride = 0; ///< channels, rows (inner: 1)
  int64_t h = 0, w = 0;                   ///< the image's rows, columns
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t padTop = 0, padLeft = 0;
  int64_t ow = 1;   ///< output width: column p is pixel (p / ow, p % ow)
  int64_t col0 = 0; ///< B's first column (a thread's stripe starts later)
};
/// Packs B[k0:k0+kc, j0:j0+nc] of `src` (columns relative to src.col0) as
/// packB does: ceil(nc/nr) panels of kc x nr, zero-padded (Im2colPack.cpp).
void packIm2colPanels(const Im2colSource &src, int64_t k0, int64_t kc,
                      int64_t j0, int64_t nc, int64_t nr, float *out);
/// Whether the implicit GEMM's AVX-512 packing reads each k row of a
/// panel with one shifted masked load per 16 columns (Im2colPack.cpp's
/// packPanelFlatAvx512) rather than one per output row the panel crosses:
/// unit strides over input rows `rowStride` floats apart, as long as the
/// output's `ow` (a "same" convolution on contiguous rows). The one rule:
/// Im2colPack.cpp, the graph cost analysis (OpCost.cpp).
inline bool im2colPacksFlat(int64_t sh, int64_t sw, int64_t rowStride,
                            int64_t ow) {
  return sh == 1 && sw == 1 && rowStride == ow;
}
/// Whether a convolution with `channels` input channels, column stride
/// `sw` and dilation `dw` and `ow` output columns runs as a direct kernel
/// over its input (DirectConv.cpp) rather than as an implicit GEMM: a
/// network's stem (RGB in), whose K = C*KH*KW is too small for packing
/// B's panels to pay off, with rows at least a vector (16) wide; AVX-512
/// hosts only (`avx512`; FLASH_CONV_DIRECT=0 turns it off, to compare).
/// The one rule: Entry.cpp, the simulator's host model
/// (_flashcompile.conv_runs_direct).
inline constexpr int64_t kConvDirectMaxChannels = 4;
inline bool convRunsDirect(int64_t channels, int64_t sw, int64_t dw,
                           int64_t ow, bool avx512) {
  return avx512 && channels <= kConvDirectMaxChannels && sw <= 2 &&
         dw == 1 && ow >= 16;
}
/// Whether this process takes the direct path where convRunsDirect
/// allows it: an AVX-512 CPU (and not FLASH_NO_AVX512) and not
/// FLASH_CONV_DIRECT=0.
bool convDirectEnabled();
struct SgemmEpilogue;
/// C[m x oh*ow] = filter * patches (C += with `accumulate`) computed from
/// `src`'s image directly, then `epilogue` if given; `filter` is m x
/// (inChannels*kh*kw), row o at filter + o*lda, or in 6-row panels when
/// `aPanels`. Output rows split over at most `threads` tasks (0: by size).
void convDirect(int64_t m, int64_t inChannels, const float *filter,
                int64_t lda, bool aPanels, const Im2colSource &src,
                int64_t oh, float *c, int64_t ldc, bool accumulate,
                int64_t threads, const SgemmEpilogue *epilogue);
/// Packed B blocks of an implicit GEMM hold at most this many columns:
/// kc x 512 floats (at most 1 MiB with the default kc) stay in L2 or the
/// L3 slice nearest between packing and use.
inline constexpr int64_t kIm2colNC = 512;

/// The tunable parameters of one sgemm call; 0 leaves a choice to sgemm's
/// built-in defaults. fc.tune searches them; compiled code passes them per
/// matmul (the `flash.sgemm` attribute, or the `sgemm` pipeline option).
struct SgemmConfig {
  int64_t mc = 0; ///< rows of a packed A block (L2), rounded to the tile
  int64_t kc = 0; ///< depth of a packed slice (L1)
  int64_t nc = 0; ///< columns of a packed B block (L3), rounded to the tile
  int64_t threads = 0; ///< tasks C is split into (capped by the pool)
  int64_t tile = 0;    ///< register tile: an index into sgemmTiles()
  int64_t packB = 0;   ///< B panels: 0 as sgemmPacksB says, 1 always
                       ///< packed, 2 read in place
  /// B is already in panels (packed when compiling a constant B):
  /// ceil(N/16) panels of K x 16, zero-padded; the 6x16 tile.
  bool bPanels = false;
  /// A is already in panels (packed when compiling a constant A, such as
  /// a convolution's filter): ceil(M/6) panels of K x 6 (row r of panel i
  /// at k is element i*6*K + k*6 + r), zero-padded; the 6x16 tile.
  bool aPanels = false;
};

/// The widths of compiled panels: B's 16 columns, A's 6 rows (the default
/// 6x16 register tile).
inline constexpr int64_t kSgemmPanelColumns = 16;
inline constexpr int64_t kSgemmPanelRows = 6;

/// Whether sgemm packs B's panels for a call with `rows` rows of A, B's
/// rows `ldb` floats apart, A blocks of `mc` rows and SgemmConfig::packB
/// `choice`. By default (0) B is read in place when A is a single block
/// (each panel is swept once: packing costs about what it saves) unless
/// B's rows are a multiple of 4 KiB apart: then a panel's rows all fall in
/// one of L1's 64 sets (8 lines) and evict each other (64 x 288 x 2048:
/// 1.37-1.64x packed). Rows 2 KiB apart (2 sets) measured 0.96-1.19x
/// packed as lone products but 0.88x for the MLP 784-512-512-10 as a
/// whole, so they stay in place. The one rule: Sgemm.cpp, the tuner's and
/// the simulator's models (_flashcompile.sgemm_packs_b).
inline constexpr int64_t kSgemmAliasFloats = 1024;
inline bool sgemmPacksB(int64_t rows, int64_t ldb, int64_t mc,
                        int64_t choice) {
  if (choice == 0)
    return rows > mc || ldb % kSgemmAliasFloats == 0;
  return choice == 1;
}

/// The register tiles (rows, columns) the microkernel comes in on this CPU:
/// 0 is the default, the hand-scheduled AVX-512 6x32 where the CPU has
/// AVX-512 (FLASH_NO_AVX512=1 turns it off), else the AVX2 6x16; the others
/// are generated from one template, the 12x32 (48 accumulators for 16
/// vector registers) kept on purpose as a tile that spills, which
/// fc.analyze must report; the AVX2 6x16 follows where it is not the
/// default. Every default tile has kSgemmPanelRows rows and a multiple of
/// kSgemmPanelColumns columns, so compiled panels serve whichever it is.
std::vector<std::pair<int, int>> sgemmTiles();
/// The column widths the default tile's edge tiles run in (a tile of fewer
/// than 6 rows runs only its rows): {32, 16, 8} with the AVX-512 tile,
/// {16, 8} with the AVX2 6x16 (one vector up to 8 columns, else two),
/// empty where edges run the whole tile (FLASH_SGEMM_EDGE_TILES=0).
std::vector<int> sgemmEdgeColumnBlocks();
/// The AVX-512 tile's edge blocks, whether or not this CPU runs them (what
/// the simulator prices another AVX-512 CPU's edges with).
std::vector<int> sgemmAvx512EdgeColumnBlocks();
/// Columns past a 16-wide AVX-512 edge block that ride on it (edgeTile:
/// 17 or 18 columns as one tile, the extra ones from its A loads, each a
/// 256-bit multiply-add per k step) rather than run as a narrow tile.
inline constexpr int kSgemmEdgeRidingColumns = 2;
/// Per tile of sgemmTiles(): its microkernel's function name (as it reads
/// disassembled, up to the parameters) and the instruction set whose FMA
/// peak bounds it ("avx512", "avx2", "generic").
std::vector<std::pair<std::string, std::string>> sgemmTileKernels();

/// The activation an epilogue ends with, after its clamp (the ukernel
/// calls' `terms` bit 8): HardSwish x * clamp(x/6 + 1/2, 0, 1), a NaN
/// staying NaN. (64-bit: SgemmEpilogue stays 64 bytes, copied per tile in
/// whole 16-byte moves; with a 4-byte field after its bounds GCC copied it
/// with a load spanning two stores, a failed store forwarding per tile.)
enum class Activation : int64_t { None = 0, HardSwish = 1 };

/// The activation a ukernel call's `terms` asks for (bit 8).
inline Activation activationOfTerms(int64_t terms) {
  return terms & 8 ? Activation::HardSwish : Activation::None;
}

/// rows x cols floats at `out` (rows `ld` apart) through the activation,
/// in place (AVX2 when the CPU has it).
void activateRows(float *out, int64_t ld, int64_t rows, int64_t cols,
                  Activation activation);

/// An elementwise epilogue applied to each tile of C as soon as its last K
/// slice is stored (the tile is still in L1), in place of a separate pass
/// over C: out[i][j] = act(clamp(C[i][j] + rowBias[i] + colBias[j] +
/// residual[i][j], lo, hi)), each term only when its pointer is set, the
/// clamp NaN-preserving (a NaN stays NaN, as arith.maximumf). `out` may be
/// C itself. What MatmulToUkernel fuses: bias adds, residual adds,
/// ReLU/ReLU6/clamps and a HardSwish after a matmul or convolution.
/// `apply` does all but the activation, which `activate` runs on the tile
/// once it is final (sgemm calls both; the microkernels only `apply` or its
/// in-register equivalent).
struct SgemmEpilogue {
  const float *rowBias = nullptr; ///< one value per row of C
  const float *colBias = nullptr; ///< one value per column of C
  const float *residual = nullptr;
  int64_t ldr = 0; ///< residual's leading dimension
  float *out = nullptr;
  int64_t ldo = 0;
  float lo = -__builtin_inff(), hi = __builtin_inff();
  Activation activation = Activation::None;

  /// The same epilogue for the block of C starting at (i0, j0).
  SgemmEpilogue at(int64_t i0, int64_t j0) const {
    SgemmEpilogue e = *this;
    if (rowBias)
      e.rowBias += i0;
    if (colBias)
      e.colBias += j0;
    if (residual)
      e.residual += i0 * ldr + j0;
    e.out += i0 * ldo + j0;
    return e;
  }
  /// Applies it to C[0:rows, 0:cols] (C's rows `ldc` apart).
  void apply(const float *c, int64_t ldc, int64_t rows, int64_t cols) const {
    // One branch-free, vectorizable loop per form (tiles are 16 wide).
    bool clamp = lo > -__builtin_inff() || hi < __builtin_inff();
    for (int64_t r = 0; r < rows; ++r) {
      float *o = out + r * ldo;
      const float *in = c + r * ldc;
      const float *res = residual ? residual + r * ldr : nullptr;
      float row = rowBias ? rowBias[r] : 0.0f;
      if (colBias && res)
        for (int64_t j = 0; j < cols; ++j)
          o[j] = in[j] + row + colBias[j] + res[j];
      else if (colBias)
        for (int64_t j = 0; j < cols; ++j)
          o[j] = in[j] + row + colBias[j];
      else if (res)
        for (int64_t j = 0; j < cols; ++j)
          o[j] = in[j] + row + res[j];
      else
        for (int64_t j = 0; j < cols; ++j)
          o[j] = in[j] + row;
      if (clamp)
        for (int64_t j = 0; j < cols; ++j) {
          float v = o[j] < lo ? lo : o[j];
          o[j] = v > hi ? hi : v;
        }
    }
  }
  /// The activation on out[0:rows, 0:cols], once `apply` (or a
  /// microkernel's in-register equivalent) has written it.
  void activate(int64_t rows, int64_t cols) const {
    if (activation != Activation::None)
      activateRows(out, ldo, rows, cols, activation);
  }
};

/// C[M x N] = A[M x K] * B[K x N] (or C += A * B with `accumulate`),
/// row-major with leading dimensions lda/ldb/ldc (elements). Packs A and B
/// into cache-sized panels and runs a register-tiled FMA microkernel
/// (AVX-512 or AVX2/FMA when the CPU has them, portable C++ otherwise),
/// parallel over the configured number of threads; then `epilogue`, if
/// given, tile by tile. With `im2col`, B is that convolution's patch
/// matrix, gathered as it is packed (`b` and `ldb` unused).
void sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
           const float *b, int64_t ldb, float *c, int64_t ldc, bool accumulate,
           const SgemmConfig &config = {},
           const SgemmEpilogue *epilogue = nullptr,
           const Im2colSource *im2col = nullptr);

/// A depthwise convolution (NCHW, one input channel per group, each giving
/// `multiplier` output channels) with its padding, bias and epilogue:
/// out[n][o][y][x] = act(clamp(bias[o] + residual[n][o][y][x] +
///   sum_{i,j} w[o][i][j] * in[n][o / multiplier][y*sh + i*dh - padTop]
///                                              [x*sw + j*dw - padLeft],
/// lo, hi)), reading zeros outside the input (the padding is not
/// materialized). Strides are in elements; the innermost stride of the
/// input, output and residual is 1; the filter is dense [C*multiplier][kh][kw].
struct DepthwiseConv {
  int64_t batch = 1, channels = 0, multiplier = 1;
  int64_t h = 0, w = 0, oh = 0, ow = 0, kh = 0, kw = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, padTop = 0, padLeft = 0;
  const float *input = nullptr;
  int64_t inN = 0, inC = 0, inH = 0;
  const float *filter = nullptr;
  const float *bias = nullptr; ///< one per output channel, or none
  const float *residual = nullptr;
  int64_t resN = 0, resC = 0, resH = 0;
  float *out = nullptr;
  int64_t outN = 0, outC = 0, outH = 0;
  float lo = -__builtin_inff(), hi = __builtin_inff();
  Activation activation = Activation::None;
};

/// Runs it, output planes spread over the threads when there is enough
/// work. Why hand-written: a depthwise convolution has no reduction over
/// channels for the sgemm ukernel, and generated loops (vectorized along a
/// row) reload every input and output element once per filter tap and
/// gather strided inputs element by element (docs/ukernels.md).
void depthwiseConv2d(const DepthwiseConv &conv);

/// A 2-D pooling window over NCHW planes with its padding:
/// out[n][c][y][x] = combine over i < kh, j < kw of
///   in[n][c][y*sh + i - padTop][x*sw + j - padLeft],
/// where positions outside the h x w input are skipped (the padding is not
/// materialized). `max`: the largest, NaN if any is NaN (torch's
/// max_pool2d), -inf for a window with no input; else the sum (average
/// pooling's numerator: the divide is the compiled code's). Strides are in
/// elements, the innermost stride of input and output 1.
struct Pool2D {
  bool max = true;
  int64_t batch = 1, channels = 0, h = 0, w = 0, oh = 0, ow = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, padTop = 0, padLeft = 0;
  const float *input = nullptr;
  int64_t inN = 0, inC = 0, inH = 0;
  float *out = nullptr;
  int64_t outN = 0, outC = 0, outH = 0;
};

/// Runs it, planes spread over the threads when there is enough work. Why
/// hand-written: the generated loops need the padded copy of the input
/// (a fill and a copy), an init fill of the output and, at stride 1, a
/// flat-row layout whose extra columns are copied out again: four passes
/// over memory around one; this reads each input row once per output row
/// it reaches and handles the border by clipping the window.
void pool2d(const Pool2D &pool);

/// Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray 2015): a 3x3
/// convolution with unit strides and dilations computes each 4x4 block of
/// its output from the 6x6 block of input under it as
///   Y = A^T [sum over channels of (G g G^T) .* (B^T d B)] A,
/// 36 multiplies per channel pair where the direct product does 144. Per
/// position (a, b) of the 6x6 transformed blocks the sum over channels is
/// a matrix product U_ab[O x C] * V_ab[C x tiles], which sgemm runs.
inline constexpr int64_t kWinogradTile = 4, kWinogradAlpha = 6;

/// The filter transform U = G g G^T of an [O][C][3][3] filter, written as
/// the 36 matrices U_ab [O x C] one after the other, each in sgemm's A
/// panels (ceil(O/6) panels of C x 6, zero-padded): what
/// winogradConv3x3 reads. Done once, when compiling (MatmulToUkernel), in
/// double precision.
inline int64_t winogradFilterFloats(int64_t o, int64_t c) {
  return kWinogradAlpha * kWinogradAlpha *
         ((o + kSgemmPanelRows - 1) / kSgemmPanelRows) * kSgemmPanelRows * c;
}
inline void winogradTransformFilter(const float *g, int64_t o, int64_t c,
                                    float *u) {
  static constexpr double G[6][3] = {{1.0 / 4, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                     {0, 0, 1}};
  int64_t block = winogradFilterFloats(o, c) / 36;
  for (int64_t i = 0; i < winogradFilterFloats(o, c); ++i)
    u[i] = 0.0f;
  for (int64_t f = 0; f < o; ++f)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float *k = g + (f * c + ch) * 9;
      double gk[6][3]; // G g
      for (int a = 0; a < 6; ++a)
        for (int j = 0; j < 3; ++j)
          gk[a][j] = G[a][0] * k[j] + G[a][1] * k[3 + j] + G[a][2] * k[6 + j];
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 6; ++b) {
          double v = gk[a][0] * G[b][0] + gk[a][1] * G[b][1] +
                     gk[a][2] * G[b][2];
          u[(a * 6 + b) * block + (f / kSgemmPanelRows) * c * kSgemmPanelRows +
            ch * kSgemmPanelRows + f % kSgemmPanelRows] = static_cast<float>(v);
        }
    }
}

/// The window half of the Winograd rule: F(4x4, 3x3) computes a 3x3
/// window at unit strides and dilations, nothing else. With a constant
/// filter (transformed when compiling) and convUsesWinograd's size rule, it
/// is the whole rule: MatmulToUkernel, ConvToIm2col and the graph cost
/// analysis all ask this one.
inline bool convWindowTakesWinograd(int64_t kh, int64_t kw, int64_t strideH,
                                    int64_t strideW, int64_t dilationH,
                                    int64_t dilationW) {
  return kh == 3 && kw == 3 && strideH == 1 && strideW == 1 &&
         dilationH == 1 && dilationW == 1;
}

/// Whether a 3x3 convolution with unit strides and dilations over
/// `channels` input channels to `outChannels` with an `oh` x `ow` output
/// runs by winogradConv3x3 rather than as an implicit GEMM. Per 4x4 tile
/// it saves 108 multiply-adds per channel pair and costs transforms per
/// input and per output channel, so it needs C*O/(C+O) >= 12; and enough
/// tiles to feed its 36 small products (16; 9 with C*O/(C+O) >= 32):
/// the transformed filter is 4x the direct one's size, read once per
/// call. Measured one thread, AMD Zen 4, single layers, against the
/// implicit GEMM (docs/ukernels.md). The one rule: MatmulToUkernel, the
/// graph cost analysis.
inline bool convUsesWinograd(int64_t channels, int64_t outChannels,
                             int64_t oh, int64_t ow) {
  int64_t tiles = ((oh + 3) / 4) * ((ow + 3) / 4);
  int64_t product = channels * outChannels, sum = channels + outChannels;
  if (product < 12 * sum)
    return false;
  return tiles >= 16 || (tiles >= 9 && product >= 32 * sum);
}

/// One image's 3x3 stride-1 convolution by F(4x4, 3x3): out[o][y*ow + x]
/// (+)= sum over c, i, j of g[o][c][i][j] * in[c][y + i - padTop]
/// [x + j - padLeft] (zeros outside the h x w input), then the epilogue
/// on the output rows just written. `filter` is winogradTransformFilter's.
struct WinogradConv {
  int64_t channels = 0, outChannels = 0, h = 0, w = 0, oh = 0, ow = 0;
  int64_t padTop = 0, padLeft = 0;
  const float *input = nullptr;
  int64_t inC = 0, inH = 0; ///< strides of channels and rows (inner: 1)
  const float *filter = nullptr;
  float *out = nullptr; ///< [outChannels][oh * ow], rows ldo apart
  int64_t ldo = 0;
  bool accumulate = false;
  const SgemmEpilogue *epilogue = nullptr;
  int64_t threads = 0; ///< as SgemmConfig::threads (0: by size)
};
void winogradConv3x3(const WinogradConv &conv);

/// Threads used by the ukernels (default: all hardware threads).
void setNumThreads(int threads);
int getNumThreads();

/// Runs fn(0) ... fn(tasks - 1) on the runtime's thread pool, blocking until
/// all are done.
void parallelFor(int tasks, const std::function<void(int)> &fn);

/// Whether this thread is running a task of a parallel loop: the runtime's
/// own (parallelFor) or one the generated code forked through OpenMP.
bool inParallelRegion();

/// Calls compiled code, fn(args), so that running out of memory is an
/// error instead of a crash: when an allocation of the code's temporaries
/// fails on this thread outside any parallel loop, the call is left (the
/// generated code holds no other resources), the temporaries it had taken
/// are given back, and false is returned with `error` saying how much was
/// asked for. (Unwinding by exception is not possible: JIT-compiled frames
/// carry no unwind tables.)
bool runCatchingOutOfMemory(void (*fn)(void **), void **args,
                            std::string &error);

/// Where every allocation failure of generated code and the ukernels goes:
/// leaves the call guarded by runCatchingOutOfMemory, or where leaving is
/// not safe (inside a parallel loop, whose other threads still run; on a
/// thread without a guard) prints what failed and aborts.
[[noreturn]] void outOfMemory(size_t bytes);

/// (symbol name, address) of every ukernel entry point for the JIT.
std::vector<std::pair<std::string, void *>> ukernelSymbols();

} // namespace flash::runtime

#endif // FLASH_RUNTIME_UKERNELS_H
