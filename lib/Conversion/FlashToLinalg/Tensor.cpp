//===- Tensor.cpp - Lower flash.constant ----------------------------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
/// flash.constant -> arith.constant (bufferizes to a read-only global).
struct ConstantOpLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value)
      return rewriter.notifyMatchFailure(op, "value is not a typed attribute");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};
} // namespace

void mlir::flash::populateTensorPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantOpLowering>(patterns.getContext());
}
