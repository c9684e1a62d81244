//===- Convolution.cpp - Lower flash.conv2d -------------------------------===//
#include "flash/Conversion/FlashToLinalg/FlashToLinalg.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
/// flash.conv2d -> tensor.pad (zeros, when padded) + linalg.conv_2d_nchw_fchw
/// accumulating into the bias broadcast over N, H, W (or zeros).
struct Conv2DOpLowering : OpConversionPattern<Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elementType = resultType.getElementType();
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getZeroAttr(elementType));

    Value input = adaptor.getInput();
    ArrayRef<int64_t> pad = op.getPadding(); // [top, left, bottom, right]
    if (llvm::any_of(pad, [](int64_t p) { return p != 0; })) {
      auto inputType = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> low = {0, 0, pad[0], pad[1]};
      SmallVector<int64_t> high = {0, 0, pad[2], pad[3]};
      SmallVector<int64_t> paddedShape(inputType.getShape());
      for (int i = 2; i < 4; ++i)
        paddedShape[i] += low[i] + high[i];
      input = tensor::PadOp::create(
          rewriter, loc, RankedTensorType::get(paddedShape, elementType), input,
          getAsIndexOpFoldResult(rewriter.getContext(), low),
          getAsIndexOpFoldResult(rewriter.getContext(), high), zero);
    }

    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         elementType);
    if (Value bias = adaptor.getBias())
      init = linalg::BroadcastOp::create(rewriter, loc, bias, init,
                                         ArrayRef<int64_t>{0, 2, 3})
                 .getResult()[0];
    else
      init = linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);

    rewriter.replaceOpWithNewOp<linalg::Conv2DNchwFchwOp>(
        op, TypeRange{resultType}, ValueRange{input, adaptor.getWeight()},
        ValueRange{init}, rewriter.getI64TensorAttr(op.getStride()),
        rewriter.getI64TensorAttr(op.getDilation()));
    return success();
  }
};
} // namespace

void mlir::flash::populateConvolutionPatterns(RewritePatternSet &patterns) {
  patterns.add<Conv2DOpLowering>(patterns.getContext());
}
