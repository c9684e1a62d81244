//===- Entry.cpp - C-interface entry points of the ukernels ---------------===//
//
// Generated code calls `flash_matmul_f32(A, B, C, accumulate, config...)`
// (or `flash_matmul_panels_f32(..., panels)` where constant operands were
// packed when compiling) on memrefs; MLIR's C interface
// (llvm.emit_c_interface) turns that into a call of `_mlir_ciface_...`
// with pointers to the memref descriptors.
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

using namespace flash::runtime;

namespace {
/// C (+)= A * B with A, B or both in compiled panels (`panels`: 1 A, 2 B),
/// then the epilogue, if any (its `out` may be C).
void matmul(StridedMemRefType<float, 2> *a, StridedMemRefType<float, 2> *b,
            StridedMemRefType<float, 2> *c, bool accumulate, int64_t mc,
            int64_t kc, int64_t nc, int64_t threads, int64_t tile,
            int64_t packB, int64_t panels, const SgemmEpilogue *epilogue);
SgemmEpilogue epilogueOf(StridedMemRefType<float, 1> *rowBias,
                         StridedMemRefType<float, 1> *colBias,
                         StridedMemRefType<float, 2> *residual,
                         StridedMemRefType<float, 2> *out, int64_t terms,
                         float lo, float hi);
/// Whether `e` (with the call's `terms`) leaves C as it is: no terms, no
/// bounds, writing C itself.
bool doesNothing(const SgemmEpilogue &e, StridedMemRefType<float, 2> *c,
                 int64_t terms) {
  return terms == 0 && e.out == c->data + c->offset && e.ldo == c->strides[0] &&
         e.lo == -__builtin_inff() && e.hi == __builtin_inff();
}
} // namespace

extern "C" {
/// C += A * B (C = A * B when `accumulate` is false) for 2-D f32 memrefs,
/// with A, B or both in the panels SgemmConfig::aPanels/bPanels describe,
/// made when the program was compiled from a constant operand (`panels`:
/// 1 A, 2 B, 3 both; 0 neither). A in panels is a memref of ceil(M/6)*K
/// rows of 6, B one of ceil(N/16)*K rows of 16. The other operands need a
/// unit inner stride for the ukernel (any other layout takes a plain loop:
/// correct, just not fast). mc..packB are the call's SgemmConfig (0:
/// default).
void _mlir_ciface_flash_matmul_panels_f32(
    StridedMemRefType<float, 2> *a, StridedMemRefType<float, 2> *b,
    StridedMemRefType<float, 2> *c, bool accumulate, int64_t mc, int64_t kc,
    int64_t nc, int64_t threads, int64_t tile, int64_t packB, int64_t panels) {
  matmul(a, b, c, accumulate, mc, kc, nc, threads, tile, packB, panels,
         nullptr);
}

/// The same followed by an epilogue (SgemmEpilogue) writing `out`:
/// `terms` says which of rowBias (1), colBias (2) and residual (4) are
/// added; then the clamp to [lo, hi] (infinities: no bound); then the
/// activation, HardSwish (8). `out` and the
/// residual need a unit inner stride (MatmulToUkernel only fuses such).
void _mlir_ciface_flash_matmul_epilogue_f32(
    StridedMemRefType<float, 2> *a, StridedMemRefType<float, 2> *b,
    StridedMemRefType<float, 2> *c, bool accumulate, int64_t mc, int64_t kc,
    int64_t nc, int64_t threads, int64_t tile, int64_t packB, int64_t panels,
    StridedMemRefType<float, 1> *rowBias, StridedMemRefType<float, 1> *colBias,
    StridedMemRefType<float, 2> *residual, StridedMemRefType<float, 2> *out,
    int64_t terms, float lo, float hi) {
  SgemmEpilogue epilogue = epilogueOf(rowBias, colBias, residual, out, terms,
                                      lo, hi);
  matmul(a, b, c, accumulate, mc, kc, nc, threads, tile, packB, panels,
         &epilogue);
}

/// A convolution's product with its patch matrix gathered from `image`
/// while B is packed (Im2colSource): `image` is one image's input [C, H, W]
/// (inner stride 1) read as if zero-padded by padTop rows and padLeft
/// columns, the product C = A * patches has OH*OW columns, `ow` the output
/// width; kh..dw the window. A is in panels when
/// `panels` is 1. The epilogue as above; `terms` 0 with `out` C and no
/// bounds is none.
void _mlir_ciface_flash_conv_im2col_f32(
    StridedMemRefType<float, 2> *a, StridedMemRefType<float, 3> *image,
    StridedMemRefType<float, 2> *c, bool accumulate, int64_t mc, int64_t kc,
    int64_t nc, int64_t threads, int64_t tile, int64_t packB, int64_t panels,
    StridedMemRefType<float, 1> *rowBias, StridedMemRefType<float, 1> *colBias,
    StridedMemRefType<float, 2> *residual, StridedMemRefType<float, 2> *out,
    int64_t terms, float lo, float hi, int64_t kh, int64_t kw, int64_t sh,
    int64_t sw, int64_t dh, int64_t dw, int64_t padTop, int64_t padLeft,
    int64_t ow) {
  SgemmEpilogue epilogue = epilogueOf(rowBias, colBias, residual, out, terms,
                                      lo, hi);
  bool none = doesNothing(epilogue, c, terms);
  Im2colSource src;
  src.input = image->data + image->offset;
  src.planeStride = image->strides[0], src.rowStride = image->strides[1];
  src.h = image->sizes[1], src.w = image->sizes[2];
  src.kh = kh, src.kw = kw, src.sh = sh, src.sw = sw, src.dh = dh, src.dw = dw;
  src.padTop = padTop, src.padLeft = padLeft;
  src.ow = ow;
  bool aPanels = panels & 1;
  int64_t m = c->sizes[0], n = c->sizes[1];
  int64_t k = image->sizes[0] * kh * kw;
  if (convRunsDirect(image->sizes[0], sw, dw, ow, convDirectEnabled()) &&
      n % ow == 0) {
    convDirect(m, image->sizes[0], a->data + a->offset,
               aPanels ? kSgemmPanelRows : a->strides[0], aPanels, src, n / ow,
               c->data + c->offset, c->strides[0], accumulate, threads,
               none ? nullptr : &epilogue);
    return;
  }
  SgemmConfig config{mc, kc, nc, threads, tile, packB};
  config.aPanels = aPanels;
  sgemm(m, n, k, a->data + a->offset, aPanels ? kSgemmPanelRows : a->strides[0],
        nullptr, 0, c->data + c->offset, c->strides[0], accumulate, config,
        none ? nullptr : &epilogue, &src);
}
}

extern "C" {
/// A 3x3 stride-1 convolution by Winograd F(4x4, 3x3) (WinogradConv):
/// the arguments of flash_conv_im2col_f32, with A the filter transformed
/// when compiling (winogradTransformFilter's 36 panel blocks) and the
/// window 3x3 with unit strides and dilations (MatmulToUkernel only calls
/// it so).
void _mlir_ciface_flash_conv_winograd_f32(
    StridedMemRefType<float, 2> *a, StridedMemRefType<float, 3> *image,
    StridedMemRefType<float, 2> *c, bool accumulate, int64_t mc, int64_t kc,
    int64_t nc, int64_t threads, int64_t tile, int64_t packB, int64_t panels,
    StridedMemRefType<float, 1> *rowBias, StridedMemRefType<float, 1> *colBias,
    StridedMemRefType<float, 2> *residual, StridedMemRefType<float, 2> *out,
    int64_t terms, float lo, float hi, int64_t kh, int64_t kw, int64_t sh,
    int64_t sw, int64_t dh, int64_t dw, int64_t padTop, int64_t padLeft,
    int64_t ow) {
  (void)mc, (void)kc, (void)nc, (void)tile, (void)packB, (void)panels;
  (void)kh, (void)kw, (void)sh, (void)sw, (void)dh, (void)dw;
  SgemmEpilogue epilogue = epilogueOf(rowBias, colBias, residual, out, terms,
                                      lo, hi);
  bool none = doesNothing(epilogue, c, terms);
  WinogradConv cv;
  cv.channels = image->sizes[0], cv.h = image->sizes[1];
  cv.w = image->sizes[2];
  cv.outChannels = c->sizes[0];
  cv.ow = ow, cv.oh = ow ? c->sizes[1] / ow : 0;
  cv.padTop = padTop, cv.padLeft = padLeft;
  cv.input = image->data + image->offset;
  cv.inC = image->strides[0], cv.inH = image->strides[1];
  cv.filter = a->data + a->offset;
  cv.out = c->data + c->offset, cv.ldo = c->strides[0];
  cv.accumulate = accumulate;
  cv.epilogue = none ? nullptr : &epilogue;
  cv.threads = threads;
  winogradConv3x3(cv);
}
}

namespace {
SgemmEpilogue epilogueOf(StridedMemRefType<float, 1> *rowBias,
                         StridedMemRefType<float, 1> *colBias,
                         StridedMemRefType<float, 2> *residual,
                         StridedMemRefType<float, 2> *out, int64_t terms,
                         float lo, float hi) {
  SgemmEpilogue epilogue;
  if (terms & 1)
    epilogue.rowBias = rowBias->data + rowBias->offset;
  if (terms & 2)
    epilogue.colBias = colBias->data + colBias->offset;
  if (terms & 4) {
    epilogue.residual = residual->data + residual->offset;
    epilogue.ldr = residual->strides[0];
  }
  epilogue.out = out->data + out->offset;
  epilogue.ldo = out->strides[0];
  epilogue.lo = lo, epilogue.hi = hi;
  epilogue.activation = activationOfTerms(terms);
  return epilogue;
}

void matmul(StridedMemRefType<float, 2> *a, StridedMemRefType<float, 2> *b,
            StridedMemRefType<float, 2> *c, bool accumulate, int64_t mc,
            int64_t kc, int64_t nc, int64_t threads, int64_t tile,
            int64_t packB, int64_t panels, const SgemmEpilogue *epilogue) {
  constexpr int64_t rowsA = kSgemmPanelRows, colsB = kSgemmPanelColumns;
  bool aPanels = panels & 1, bPanels = panels & 2;
  int64_t m = c->sizes[0], n = c->sizes[1];
  int64_t k = !aPanels ? a->sizes[1]
              : !bPanels ? b->sizes[0]
                         : b->sizes[0] / ((n + colsB - 1) / colsB);
  const float *pa = a->data + a->offset, *pb = b->data + b->offset;
  float *pc = c->data + c->offset;
  bool unit = c->strides[1] == 1 && (aPanels || a->strides[1] == 1) &&
              (bPanels || b->strides[1] == 1);
  if (unit) {
    SgemmConfig config{mc, kc, nc, threads, tile, packB};
    config.aPanels = aPanels, config.bPanels = bPanels;
    sgemm(m, n, k, pa, aPanels ? rowsA : a->strides[0], pb,
          bPanels ? colsB : b->strides[0], pc, c->strides[0], accumulate,
          config, epilogue);
    return;
  }
  auto at = [&](int64_t i, int64_t p) {
    return aPanels ? pa[(i / rowsA) * k * rowsA + p * rowsA + i % rowsA]
                   : pa[i * a->strides[0] + p * a->strides[1]];
  };
  auto bt = [&](int64_t p, int64_t j) {
    return bPanels ? pb[(j / colsB) * k * colsB + p * colsB + j % colsB]
                   : pb[p * b->strides[0] + j * b->strides[1]];
  };
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = accumulate ? pc[i * c->strides[0] + j * c->strides[1]] : 0;
      for (int64_t p = 0; p < k; ++p)
        sum += at(i, p) * bt(p, j);
      pc[i * c->strides[0] + j * c->strides[1]] = sum;
      if (epilogue) { // one element at a time: C's inner stride is not 1
        SgemmEpilogue one = epilogue->at(i, j);
        one.apply(&pc[i * c->strides[0] + j * c->strides[1]], 0, 1, 1);
        one.activate(1, 1);
      }
    }
}
} // namespace

extern "C" {
/// The same with neither operand in panels.
void _mlir_ciface_flash_matmul_f32(StridedMemRefType<float, 2> *a,
                                   StridedMemRefType<float, 2> *b,
                                   StridedMemRefType<float, 2> *c,
                                   bool accumulate, int64_t mc, int64_t kc,
                                   int64_t nc, int64_t threads, int64_t tile,
                                   int64_t packB) {
  _mlir_ciface_flash_matmul_panels_f32(a, b, c, accumulate, mc, kc, nc,
                                       threads, tile, packB, 0);
}
}

extern "C" {
/// MatmulToUkernel's default batch loop asks at run time, with this call's
/// thread count, whether to spread the batch over the threads (1) or run
/// it one call after the other (0).
int32_t flash_batch_in_parallel(int64_t batches, int64_t callFlops) {
  return batchInParallel(batches, static_cast<double>(callFlops),
                         getNumThreads())
             ? 1
             : 0;
}
}

extern "C" {
/// A depthwise convolution (DepthwiseConv): input [N, C, H, W], output
/// [N, C*M, OH, OW], the filter dense [C*M * kh * kw]; the residual, when
/// `terms` & 4, of the output's shape; the bias, when `terms` & 1, one per
/// output channel; then the clamp to [lo, hi] and the activation (`terms`
/// & 8: HardSwish). Innermost strides of input, output and
/// residual are 1 (DepthwiseToUkernel only calls it so).
void _mlir_ciface_flash_depthwise_conv2d_f32(
    StridedMemRefType<float, 4> *input, StridedMemRefType<float, 1> *filter,
    StridedMemRefType<float, 1> *bias, StridedMemRefType<float, 4> *residual,
    StridedMemRefType<float, 4> *out, int64_t kh, int64_t kw, int64_t sh,
    int64_t sw, int64_t dh, int64_t dw, int64_t padTop, int64_t padLeft,
    int64_t terms, float lo, float hi) {
  DepthwiseConv c;
  c.batch = input->sizes[0], c.channels = input->sizes[1];
  c.multiplier = c.channels ? out->sizes[1] / c.channels : 1;
  c.h = input->sizes[2], c.w = input->sizes[3];
  c.oh = out->sizes[2], c.ow = out->sizes[3];
  c.kh = kh, c.kw = kw, c.sh = sh, c.sw = sw, c.dh = dh, c.dw = dw;
  c.padTop = padTop, c.padLeft = padLeft;
  c.input = input->data + input->offset;
  c.inN = input->strides[0], c.inC = input->strides[1];
  c.inH = input->strides[2];
  c.filter = filter->data + filter->offset;
  if (terms & 1)
    c.bias = bias->data + bias->offset;
  if (terms & 4) {
    c.residual = residual->data + residual->offset;
    c.resN = residual->strides[0], c.resC = residual->strides[1];
    c.resH = residual->strides[2];
  }
  c.out = out->data + out->offset;
  c.outN = out->strides[0], c.outC = out->strides[1], c.outH = out->strides[2];
  c.lo = lo, c.hi = hi;
  c.activation = activationOfTerms(terms);
  depthwiseConv2d(c);
}
}

extern "C" {
/// Max (`max` 1) or sum pooling (Pool2D): input [N, C, H, W], output
/// [N, C, OH, OW], innermost strides 1 (PoolToUkernel only calls it so).
void _mlir_ciface_flash_pool2d_f32(StridedMemRefType<float, 4> *input,
                                   StridedMemRefType<float, 4> *out,
                                   int64_t kh, int64_t kw, int64_t sh,
                                   int64_t sw, int64_t padTop, int64_t padLeft,
                                   int64_t max) {
  Pool2D p;
  p.max = max != 0;
  p.batch = input->sizes[0], p.channels = input->sizes[1];
  p.h = input->sizes[2], p.w = input->sizes[3];
  p.oh = out->sizes[2], p.ow = out->sizes[3];
  p.kh = kh, p.kw = kw, p.sh = sh, p.sw = sw;
  p.padTop = padTop, p.padLeft = padLeft;
  p.input = input->data + input->offset;
  p.inN = input->strides[0], p.inC = input->strides[1];
  p.inH = input->strides[2];
  p.out = out->data + out->offset;
  p.outN = out->strides[0], p.outC = out->strides[1], p.outH = out->strides[2];
  pool2d(p);
}
}

extern "C" {
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *ptr);
}

std::vector<std::pair<std::string, void *>> flash::runtime::ukernelSymbols() {
  return {{"_mlir_ciface_flash_matmul_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_matmul_f32)},
          {"_mlir_ciface_flash_matmul_panels_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_matmul_panels_f32)},
          {"_mlir_ciface_flash_matmul_epilogue_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_matmul_epilogue_f32)},
          {"_mlir_ciface_flash_conv_im2col_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_conv_im2col_f32)},
          {"_mlir_ciface_flash_conv_winograd_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_conv_winograd_f32)},
          {"_mlir_ciface_flash_depthwise_conv2d_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_depthwise_conv2d_f32)},
          {"_mlir_ciface_flash_pool2d_f32",
           reinterpret_cast<void *>(&_mlir_ciface_flash_pool2d_f32)},
          {"flash_batch_in_parallel",
           reinterpret_cast<void *>(&flash_batch_in_parallel)},
          // The temporaries' allocator (Allocator.cpp).
          {"_mlir_memref_to_llvm_alloc",
           reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc)},
          {"_mlir_memref_to_llvm_aligned_alloc",
           reinterpret_cast<void *>(&_mlir_memref_to_llvm_aligned_alloc)},
          {"_mlir_memref_to_llvm_free",
           reinterpret_cast<void *>(&_mlir_memref_to_llvm_free)}};
}
