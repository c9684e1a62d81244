//===- ConvToIm2col.cpp - Convolutions as im2col + matmul -----------------===//
//
// linalg.conv_2d_nchw_fchw on tensors becomes
//   patches[n, c*KH*KW, oh, ow] = input[n, c, oh*sh + kh*dh, ow*sw + kw*dw]
//   out[n, o, oh*OW + ow] += filter[o, c*KH*KW] * patches[n, c*KH*KW, ...]
// The contraction is a (batched, filter shared) matrix product that
// flash-matmul-to-ukernel sends to the sgemm ukernel.
//
// Why not MLIR's own rewrite (linalg::populateConvertConv2DToImg2ColPatterns):
// it gathers into a 3-D (n, c*KH*KW, oh*OW) tensor, so its innermost loop
// recovers (oh, ow) with a division and a modulo per element and cannot be
// vectorized; keeping oh and ow as separate loops leaves the innermost loop a
// plain strided copy.
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"
#include "flash/Dialect/Flash/IR/Tuning.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::flash {
#define GEN_PASS_DEF_CONVTOIM2COL
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
struct Conv2DNchwFchwToIm2col : OpRewritePattern<linalg::Conv2DNchwFchwOp> {
  using OpRewritePattern::OpRewritePattern;
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
    SmallVector<int64_t> strides(conv.getStrides().getValues<int64_t>());
    SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());

    Location loc = conv.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t n = initType.getDimSize(0), o = initType.getDimSize(1);
    int64_t oh = initType.getDimSize(2), ow = initType.getDimSize(3);
    int64_t c = filterType.getDimSize(1), kh = filterType.getDimSize(2);
    int64_t kw = filterType.getDimSize(3), ckk = c * kh * kw;
    Type elementType = initType.getElementType();

    // patches[n, k, y, x] = input[n, k / (KH*KW), y*sh + (k / KW % KH)*dh,
    //                             x*sw + (k % KW)*dw]
    AffineExpr dn, dk, dy, dx;
    bindDims(ctx, dn, dk, dy, dx);
    AffineMap inputMap =
        AffineMap::get(4, 0,
                       {dn, dk.floorDiv(kh * kw),
                        dy * strides[0] + (dk.floorDiv(kw) % kh) * dilations[0],
                        dx * strides[1] + (dk % kw) * dilations[1]},
                       ctx);
    auto patchesType = RankedTensorType::get({n, ckk, oh, ow}, elementType);
    Value empty = tensor::EmptyOp::create(rewriter, loc, patchesType.getShape(),
                                          elementType);
    SmallVector<utils::IteratorType> parallel4(4,
                                               utils::IteratorType::parallel);
    Value patches =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{patchesType}, ValueRange{input},
            ValueRange{empty},
            ArrayRef<AffineMap>{inputMap, rewriter.getMultiDimIdentityMap(4)},
            parallel4,
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(b, l, args[0]);
            })
            .getResult(0);

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
    SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {bo, bk}, ctx),
                                   AffineMap::get(4, 0, {bn, bk, bp}, ctx),
                                   AffineMap::get(4, 0, {bn, bo, bp}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::parallel, utils::IteratorType::reduction};
    auto gemm = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out3Type}, ValueRange{filter2, patches3},
        ValueRange{init3}, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange args) {
          Value mul = arith::MulFOp::create(b, l, args[0], args[1]);
          Value add = arith::AddFOp::create(b, l, args[2], mul);
          linalg::YieldOp::create(b, l, add);
        });
    flash::copyTuning(conv, gemm);
    Value product = gemm.getResult(0);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        conv, initType, product,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

struct ConvToIm2col : mlir::flash::impl::ConvToIm2colBase<ConvToIm2col> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<Conv2DNchwFchwToIm2col>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
