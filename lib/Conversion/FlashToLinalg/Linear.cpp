//===- Linear.cpp - Lower flash.matmul and flash.batch_matmul -------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Dialect/Flash/IR/Tuning.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
/// flash.matmul -> linalg.matmul, flash.batch_matmul ->
/// linalg.batch_matmul, accumulating into a zero-filled tensor.
template <typename OpTy, typename LinalgOpTy>
struct MatmulOpLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Value zero = arith::ConstantOp::create(
        rewriter, loc, rewriter.getZeroAttr(resultType.getElementType()));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    Value filled =
        linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);
    auto product = rewriter.replaceOpWithNewOp<LinalgOpTy>(
        op, TypeRange{resultType},
        ValueRange{adaptor.getLhs(), adaptor.getRhs()}, ValueRange{filled});
    copyTuning(op, product);
    return success();
  }
};
} // namespace

void mlir::flash::populateLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulOpLowering<MatmulOp, linalg::MatmulOp>,
               MatmulOpLowering<BatchMatmulOp, linalg::BatchMatmulOp>>(
      patterns.getContext());
}
