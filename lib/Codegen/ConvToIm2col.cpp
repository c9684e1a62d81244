//===- ConvToIm2col.cpp - Convolutions as im2col + matmul -----------------===//
//
// linalg.conv_2d_nchw_fchw on tensors becomes, for one image,
//   patches[c*KH*KW, oh, ow] = input[0, c, oh*sh + kh*dh, ow*sw + kw*dw]
//   out[0, o, oh*OW + ow] += filter[o, c*KH*KW] * patches[c*KH*KW, ...]
// for each image of a batch (a batched product, the filter shared), or,
// with `batch-as-columns`, one product over all images,
//   patches[c*KH*KW, n, oh, ow] = input[n, c, ...]
//   product[o, n*OH*OW + p] = filter[o, c*KH*KW] * patches[c*KH*KW, ...]
//   out[n, o, p] += product[o, n, p]
// (one sgemm call with N times the columns: the filter packed once, the
// columns split over the threads; at the cost of a pass over the output to
// put it back in NCHW order; by default where the images are small,
// Ukernels.h's convBatchAsColumns). flash-matmul-to-ukernel sends the
// products to the sgemm ukernel.
//
// A 1x1 convolution with unit strides and no padding needs no gather: each
// image's (C x H*W) input already is its patch matrix.
//
// Why not MLIR's own rewrite (linalg::populateConvertConv2DToImg2ColPatterns):
// it gathers into a 3-D (n, c*KH*KW, oh*OW) tensor, so its innermost loop
// recovers (oh, ow) with a division and a modulo per element and cannot be
// vectorized; keeping oh and ow as separate loops leaves the innermost loop a
// plain strided copy.
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"
#include "flash/Conversion/Passes.h"
#include "flash/Dialect/Flash/IR/Tuning.h"
#include "flash/Runtime/Ukernels.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSwitch.h"

#include <optional>

namespace mlir::flash {
#define GEN_PASS_DEF_CONVTOIM2COL
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// A static NCHW/FCHW convolution's sizes, strides and dilations.
struct ConvShape {
  int64_t n, o, oh, ow, kh, kw, ckk;
  SmallVector<int64_t> strides, dilations;
  Type elementType;
};

/// input[n, k / (KH*KW), y*sh + (k / KW % KH)*dh, x*sw + (k % KW)*dw] over
/// the gather's loops, whatever their order.
AffineMap gatherMap(MLIRContext *ctx, const ConvShape &s, AffineExpr dn,
                    AffineExpr dk, AffineExpr dy, AffineExpr dx) {
  return AffineMap::get(
      4, 0,
      {dn, dk.floorDiv(s.kh * s.kw),
       dy * s.strides[0] + (dk.floorDiv(s.kw) % s.kh) * s.dilations[0],
       dx * s.strides[1] + (dk % s.kw) * s.dilations[1]},
      ctx);
}

/// The patch tensor of `type`: a copy of `input` through `inputMap` into
/// `outputMap` (the identity when null).
Value gather(PatternRewriter &rewriter, Location loc, Value input,
             RankedTensorType type, AffineMap inputMap,
             AffineMap outputMap = {}) {
  Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                        type.getElementType());
  SmallVector<utils::IteratorType> parallel4(4, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             rewriter, loc, TypeRange{type}, ValueRange{input},
             ValueRange{empty},
             ArrayRef<AffineMap>{inputMap,
                                 outputMap ? outputMap
                                           : rewriter.getMultiDimIdentityMap(4)},
             parallel4,
             [](OpBuilder &b, Location l, ValueRange args) {
               linalg::YieldOp::create(b, l, args[0]);
             })
      .getResult(0);
}

/// out[b, o, p] += filter(b, o, k) * patches[b, k, p] over loops (b, o, p,
/// k), the filter indexed by `filterMap` (shared by the batch, or not).
linalg::GenericOp batchedProduct(PatternRewriter &rewriter, Location loc,
                                 Value filter, Value patches, Value init,
                                 AffineMap filterMap) {
  MLIRContext *ctx = rewriter.getContext();
  AffineExpr b, o, p, k;
  bindDims(ctx, b, o, p, k);
  SmallVector<AffineMap> maps = {filterMap, AffineMap::get(4, 0, {b, k, p}, ctx),
                                 AffineMap::get(4, 0, {b, o, p}, ctx)};
  SmallVector<utils::IteratorType> iterators = {
      utils::IteratorType::parallel, utils::IteratorType::parallel,
      utils::IteratorType::parallel, utils::IteratorType::reduction};
  return linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, ValueRange{filter, patches},
      ValueRange{init}, maps, iterators,
      [](OpBuilder &nb, Location l, ValueRange args) {
        Value mul = arith::MulFOp::create(nb, l, args[0], args[1]);
        Value add = arith::AddFOp::create(nb, l, args[2], mul);
        linalg::YieldOp::create(nb, l, add);
      });
}

/// A batch of images as one product: patches (C*KH*KW) x (N*OH*OW), the
/// product (O) x (N*OH*OW) from zero, then added to the init in NCHW order.
LogicalResult rewriteAsOneProduct(linalg::Conv2DNchwFchwOp conv,
                                  PatternRewriter &rewriter,
                                  const ConvShape &shape) {
  Location loc = conv.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Value input = conv.getInputs()[0], filter = conv.getInputs()[1];
  Value init = conv.getOutputs()[0];
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t n = shape.n, o = shape.o, oh = shape.oh, ow = shape.ow;
  int64_t ckk = shape.ckk, p = oh * ow;
  Type elementType = shape.elementType;

  // patches[k, n, y, x] over loops (n, k, y, x): the images outermost, so
  // the thread that gathers an image's columns is the one whose stripe of
  // the product reads them (k outermost put half of every stripe in the
  // other core's cache: 2-3x slower on two threads); the row x innermost.
  AffineExpr dn, dk, dy, dx;
  bindDims(ctx, dn, dk, dy, dx);
  Value patches = gather(
      rewriter, loc, input, RankedTensorType::get({ckk, n, oh, ow}, elementType),
      gatherMap(ctx, shape, dn, dk, dy, dx),
      AffineMap::get(4, 0, {dk, dn, dy, dx}, ctx));
  Value patches2 = tensor::CollapseShapeOp::create(
      rewriter, loc, RankedTensorType::get({ckk, n * p}, elementType), patches,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  Value filter2 = tensor::CollapseShapeOp::create(
      rewriter, loc, RankedTensorType::get({o, ckk}, elementType), filter,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  auto productType = RankedTensorType::get({o, n * p}, elementType);
  Value zero = arith::ConstantOp::create(rewriter, loc, elementType,
                                         rewriter.getZeroAttr(elementType));
  Value zeros =
      linalg::FillOp::create(
          rewriter, loc, zero,
          ValueRange{tensor::EmptyOp::create(rewriter, loc,
                                             productType.getShape(),
                                             elementType)})
          .getResult(0);
  auto gemm = linalg::MatmulOp::create(rewriter, loc, TypeRange{productType},
                                       ValueRange{filter2, patches2},
                                       ValueRange{zeros});
  mlir::flash::copyTuning(conv, gemm);
  Value product3 = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({o, n, p}, elementType),
      gemm.getResult(0), ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  auto out3Type = RankedTensorType::get({n, o, p}, elementType);
  Value init3 = tensor::CollapseShapeOp::create(
      rewriter, loc, out3Type, init,
      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  // out[n, o, p] = init[n, o, p] + product[o, n, p]: rows of p copied.
  AffineExpr bn, bo, bp;
  bindDims(ctx, bn, bo, bp);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {bo, bn, bp}, ctx),
                                 rewriter.getMultiDimIdentityMap(3)};
  Value out3 =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{out3Type}, ValueRange{product3},
          ValueRange{init3}, maps,
          SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
          [](OpBuilder &b, Location l, ValueRange args) {
            linalg::YieldOp::create(
                b, l, ValueRange{arith::AddFOp::create(b, l, args[1], args[0])});
          })
          .getResult(0);
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
      conv, initType, out3, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  return success();
}

/// The `batch-as-columns` choice.
enum class BatchAsColumns { Auto, Always, Never };

/// Whether flash-matmul-to-ukernel will run this convolution by Winograd
/// when it is lowered image by image: its rule (a 3x3 window, unit strides
/// and dilations, a constant filter that is not a splat, convUsesWinograd).
bool runsByWinograd(linalg::Conv2DNchwFchwOp conv, const ConvShape &s) {
  auto constant = conv.getInputs()[1].getDefiningOp<arith::ConstantOp>();
  auto value = constant ? dyn_cast<DenseElementsAttr>(constant.getValue())
                        : DenseElementsAttr();
  return value && !value.isSplat() &&
         ::flash::runtime::convWindowTakesWinograd(
             s.kh, s.kw, s.strides[0], s.strides[1], s.dilations[0],
             s.dilations[1]) &&
         ::flash::runtime::convUsesWinograd(s.ckk / 9, s.o, s.oh, s.ow);
}

struct Conv2DNchwFchwToIm2col : OpRewritePattern<linalg::Conv2DNchwFchwOp> {
  Conv2DNchwFchwToIm2col(MLIRContext *ctx, BatchAsColumns batchAsColumns,
                         bool winograd)
      : OpRewritePattern(ctx), batchAsColumns(batchAsColumns),
        winograd(winograd) {}
  BatchAsColumns batchAsColumns;
  bool winograd;
  LogicalResult matchAndRewrite(linalg::Conv2DNchwFchwOp conv,
                                PatternRewriter &rewriter) const override {
    if (!conv.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(conv, "needs tensor semantics");
    Value input = conv.getInputs()[0], filter = conv.getInputs()[1];
    Value init = conv.getOutputs()[0];
    auto inputType = cast<RankedTensorType>(input.getType());
    auto filterType = cast<RankedTensorType>(filter.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    if (!inputType.hasStaticShape() || !filterType.hasStaticShape() ||
        !initType.hasStaticShape())
      return rewriter.notifyMatchFailure(conv, "needs static shapes");
    ConvShape shape{initType.getDimSize(0),
                    initType.getDimSize(1),
                    initType.getDimSize(2),
                    initType.getDimSize(3),
                    filterType.getDimSize(2),
                    filterType.getDimSize(3),
                    filterType.getDimSize(1) * filterType.getDimSize(2) *
                        filterType.getDimSize(3),
                    SmallVector<int64_t>(conv.getStrides().getValues<int64_t>()),
                    SmallVector<int64_t>(conv.getDilations().getValues<int64_t>()),
                    initType.getElementType()};
    bool oneProduct =
        batchAsColumns == BatchAsColumns::Auto
            ? ::flash::runtime::convBatchAsColumns(shape.n,
                                                   shape.oh * shape.ow) &&
                  !(winograd && runsByWinograd(conv, shape))
            : batchAsColumns == BatchAsColumns::Always;
    if (shape.n > 1 && oneProduct)
      return rewriteAsOneProduct(conv, rewriter, shape);

    Location loc = conv.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = shape.n, o = shape.o, oh = shape.oh, ow = shape.ow;
    int64_t ckk = shape.ckk;
    Type elementType = shape.elementType;

    // patches[n, k, y, x] = input[n, k / (KH*KW), y*sh + (k / KW % KH)*dh,
    //                             x*sw + (k % KW)*dw]
    AffineExpr dn, dk, dy, dx;
    bindDims(ctx, dn, dk, dy, dx);
    auto patchesType = RankedTensorType::get({n, ckk, oh, ow}, elementType);
    // A 1x1 convolution with unit strides over an unpadded input is a plain
    // matrix product: the patches are the input itself, no copy.
    bool pointwise = ::flash::runtime::convIsPointwise(
        shape.kh, shape.kw, shape.strides[0], shape.strides[1],
        /*padded=*/inputType != patchesType);
    Value patches = pointwise
                        ? input
                        : gather(rewriter, loc, input, patchesType,
                                 gatherMap(ctx, shape, dn, dk, dy, dx));
    // The window, for flash-matmul-to-ukernel to gather the patches while
    // it packs them instead (implicit GEMM) and drop this copy.
    if (!pointwise)
      patches.getDefiningOp()->setAttr(
          mlir::flash::kIm2colAttr,
          rewriter.getDenseI64ArrayAttr(
              {shape.kh, shape.kw, shape.strides[0], shape.strides[1],
               shape.dilations[0], shape.dilations[1]}));

    // out[n, o, p] += filter[o, k] * patches[n, k, p], p = y*OW + x.
    Value patches3 = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({n, ckk, oh * ow}, elementType),
        patches, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    Value filter2 = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({o, ckk}, elementType), filter,
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    auto out3Type = RankedTensorType::get({n, o, oh * ow}, elementType);
    Value init3 = tensor::CollapseShapeOp::create(
        rewriter, loc, out3Type, init,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    AffineExpr bn, bo, bp, bk;
    bindDims(ctx, bn, bo, bp, bk);
    auto gemm = batchedProduct(rewriter, loc, filter2, patches3, init3,
                               AffineMap::get(4, 0, {bo, bk}, ctx));
    mlir::flash::copyTuning(conv, gemm);
    Value product = gemm.getResult(0);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        conv, initType, product,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

/// A grouped convolution with several channels per group (the generic
/// FlashToLinalg marks with flash.grouped_conv: input [N, G, C/G, H, W],
/// filter [G, O/G, C/G, KH, KW], init [N, G, O/G, OH, OW]) as a product per
/// image and group, a batch over b = n*G + g:
///   patches[b, k, y, x] = input[b, k / (KH*KW), ...]   (input as [N*G, C/G, H, W])
///   out[b, o, y*OW + x] += filter[b mod G, o, k] * patches[b, k, ...]
/// for the sgemm ukernel, which gathers each element's patches as it packs
/// them (implicit GEMM; the input is an ungrouped convolution's with N*G
/// images of C/G channels). With one image the filter's map is plain b.
/// Why: as generated loops these ran at 3-10 GFLOP/s (RegNet's group width
/// 8 convolutions were most of its time, at batch 8 still half of it).
struct GroupedConvToIm2col : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp conv,
                                PatternRewriter &rewriter) const override {
    auto window =
        conv->getAttrOfType<DenseI64ArrayAttr>(mlir::flash::kGroupedConvAttr);
    if (!window || window.size() != 4 || !conv.hasPureTensorSemantics() ||
        conv.getNumDpsInputs() != 2 || conv.getNumDpsInits() != 1)
      return rewriter.notifyMatchFailure(conv, "not a grouped convolution");
    Value input = conv.getDpsInputs()[0], filter = conv.getDpsInputs()[1];
    Value init = conv.getDpsInits()[0];
    auto inputType = cast<RankedTensorType>(input.getType());
    auto filterType = cast<RankedTensorType>(filter.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    if (!inputType.hasStaticShape() || !filterType.hasStaticShape() ||
        !initType.hasStaticShape() || inputType.getRank() != 5 ||
        filterType.getRank() != 5 || initType.getRank() != 5)
      return rewriter.notifyMatchFailure(conv, "needs static shapes");
    Location loc = conv.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type elementType = initType.getElementType();
    int64_t n = initType.getDimSize(0);
    int64_t g = filterType.getDimSize(0), o = filterType.getDimSize(1);
    int64_t kh = filterType.getDimSize(3), kw = filterType.getDimSize(4);
    int64_t ckk = filterType.getDimSize(2) * kh * kw;
    int64_t oh = initType.getDimSize(3), ow = initType.getDimSize(4);
    ConvShape shape{n * g, o,  oh, ow, kh, kw, ckk,
                    {window[0], window[1]}, {window[2], window[3]},
                    elementType};
    // The images' groups as images of C/G channels.
    Value images = tensor::CollapseShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({n * g, inputType.getDimSize(2),
                               inputType.getDimSize(3), inputType.getDimSize(4)},
                              elementType),
        input, ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
    AffineExpr db, dk, dy, dx;
    bindDims(ctx, db, dk, dy, dx);
    Value patches = gather(
        rewriter, loc, images,
        RankedTensorType::get({n * g, ckk, oh, ow}, elementType),
        gatherMap(ctx, shape, db, dk, dy, dx));
    patches.getDefiningOp()->setAttr(
        mlir::flash::kIm2colAttr,
        rewriter.getDenseI64ArrayAttr(
            {kh, kw, window[0], window[1], window[2], window[3]}));
    Value patches3 = tensor::CollapseShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({n * g, ckk, oh * ow}, elementType), patches,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    Value filter3 = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({g, o, ckk}, elementType), filter,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3, 4}});
    auto out3Type = RankedTensorType::get({n * g, o, oh * ow}, elementType);
    Value init3 = tensor::CollapseShapeOp::create(
        rewriter, loc, out3Type, init,
        ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3, 4}});
    AffineExpr bb, bo, bp, bk;
    bindDims(ctx, bb, bo, bp, bk);
    auto gemm = batchedProduct(
        rewriter, loc, filter3, patches3, init3,
        AffineMap::get(4, 0, {n > 1 ? bb % g : bb, bo, bk}, ctx));
    mlir::flash::copyTuning(conv, gemm);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        conv, initType, gemm.getResult(0),
        ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3, 4}});
    return success();
  }
};

struct ConvToIm2col : mlir::flash::impl::ConvToIm2colBase<ConvToIm2col> {
  using Base::Base;
  void runOnOperation() override {
    std::optional<BatchAsColumns> choice =
        llvm::StringSwitch<std::optional<BatchAsColumns>>(batchAsColumns)
            .Case("auto", BatchAsColumns::Auto)
            .Cases({"true", "1"}, BatchAsColumns::Always)
            .Cases({"false", "0"}, BatchAsColumns::Never)
            .Default(std::nullopt);
    if (!choice) {
      getOperation().emitError()
          << "flash-conv-to-im2col: batch-as-columns must be auto, true or "
             "false, got '"
          << batchAsColumns << "'";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<Conv2DNchwFchwToIm2col>(&getContext(), *choice, winograd);
    patterns.add<GroupedConvToIm2col>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
