//===- Layout.cpp - Lower transpose, reshape, concat and slice ------------===//
//
// Layout ops become tensor-dialect views and copies that one-shot
// bufferization turns into memref views where it can (reshape) and into
// copies where it must (transpose, concat, slice).
//
//===----------------------------------------------------------------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <numeric>

using namespace mlir;
using namespace mlir::flash;

namespace {
struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Value init = tensor::EmptyOp::create(rewriter, op.getLoc(),
                                         type.getShape(),
                                         type.getElementType());
    rewriter.replaceOp(op, linalg::TransposeOp::create(
                               rewriter, op.getLoc(), adaptor.getInput(),
                               init, op.getPermutation())
                               .getResult()[0]);
    return success();
  }
};

/// All dimensions in one group: collapse to (or expand from) 1-D.
SmallVector<ReassociationIndices> oneGroup(int64_t rank) {
  if (rank == 0)
    return {};
  ReassociationIndices all(rank);
  std::iota(all.begin(), all.end(), 0);
  return {all};
}

/// Any static reshape as collapse-to-1-D then expand (a rank-0 side uses
/// the empty reassociation); canonicalization merges the pair into one
/// op where the shapes allow.
struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (inType == outType) {
      rewriter.replaceOp(op, input);
      return success();
    }
    auto flatType =
        RankedTensorType::get({inType.getNumElements()}, inType.getElementType());
    Value flat = input;
    if (inType.getRank() == 0)
      flat = tensor::ExpandShapeOp::create(rewriter, loc, flatType, input,
                                           oneGroup(0));
    else if (inType.getRank() > 1)
      flat = tensor::CollapseShapeOp::create(rewriter, loc, flatType, input,
                                             oneGroup(inType.getRank()));
    Value result = flat;
    if (outType.getRank() == 0)
      result = tensor::CollapseShapeOp::create(rewriter, loc, outType, flat,
                                               oneGroup(0));
    else if (outType.getRank() > 1)
      result = tensor::ExpandShapeOp::create(rewriter, loc, outType, flat,
                                             oneGroup(outType.getRank()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Each operand inserted into its slice of one result tensor.
struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis(), rank = type.getRank(), offset = 0;
    Value result = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           type.getElementType());
    for (Value input : adaptor.getInputs()) {
      auto inType = cast<RankedTensorType>(input.getType());
      // An empty piece adds nothing (and its offset, the end of the
      // result, is not a valid insert position).
      if (inType.getNumElements() == 0)
        continue;
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
      offsets[axis] = rewriter.getIndexAttr(offset);
      for (int64_t size : inType.getShape())
        sizes.push_back(rewriter.getIndexAttr(size));
      result = tensor::InsertSliceOp::create(rewriter, loc, input, result,
                                             offsets, sizes, strides);
      offset += inType.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};
/// A strided view copied into a tensor of its own: consumers (the matmul
/// micro-kernels among them) then always see contiguous rows.
struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto attrs = [&](ArrayRef<int64_t> values) {
      SmallVector<OpFoldResult> result;
      for (int64_t v : values)
        result.push_back(rewriter.getIndexAttr(v));
      return result;
    };
    // An empty dimension may start at its end; extract_slice wants 0 there.
    SmallVector<int64_t> starts(op.getStarts());
    for (auto [start, size] : llvm::zip(starts, op.getSizes()))
      if (size == 0)
        start = 0;
    Value view = tensor::ExtractSliceOp::create(
        rewriter, loc, type, adaptor.getInput(), attrs(starts),
        attrs(op.getSizes()), attrs(op.getSteps()));
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    rewriter.replaceOp(
        op, linalg::CopyOp::create(rewriter, loc, view, init).getResult(0));
    return success();
  }
};
} // namespace

void mlir::flash::populateLayoutPatterns(RewritePatternSet &patterns) {
  patterns.add<TransposeLowering, ReshapeLowering, ConcatLowering,
               SliceLowering>(
      patterns.getContext());
}
