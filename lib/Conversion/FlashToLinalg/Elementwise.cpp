//===- Elementwise.cpp - Lower elementwise Flash ops ----------------------===//
//
// Elementwise ops become one linalg.generic each. NumPy broadcasting is
// expressed in the indexing maps (a broadcast dimension reads index 0, a
// missing leading dimension is dropped), so no operand is materialized at the
// broadcast shape.
//
//===----------------------------------------------------------------------===//
#include "flash/Conversion/FlashToLinalg/FlashToLinalg.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
using BodyBuilder =
    function_ref<Value(OpBuilder &, Location, ValueRange /*scalars*/)>;

/// The map from the iteration space (the result's dimensions) to the
/// elements of `operandType` under NumPy broadcasting.
AffineMap broadcastingMap(RankedTensorType operandType,
                          RankedTensorType resultType) {
  MLIRContext *ctx = resultType.getContext();
  int64_t offset = resultType.getRank() - operandType.getRank();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(operandType.getShape())) {
    int64_t resultDim = offset + static_cast<int64_t>(i);
    bool broadcast = size == 1 && resultType.getDimSize(resultDim) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(resultDim, ctx));
  }
  return AffineMap::get(resultType.getRank(), 0, exprs, ctx);
}

/// Builds `result = body(operands...)` elementwise over `resultType` with
/// NumPy broadcasting of every operand.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange operands, BodyBuilder body) {
  SmallVector<AffineMap> maps;
  for (Value operand : operands)
    maps.push_back(
        broadcastingMap(cast<RankedTensorType>(operand.getType()), resultType));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, operands, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

/// The scalar computation of each elementwise op, on its operands' elements.
Value scalarBody(AddOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::AddFOp::create(b, loc, x[0], x[1]);
}

Value scalarBody(ReluOp, OpBuilder &b, Location loc, ValueRange x) {
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(x[0].getType()));
  // maximumf propagates NaN, like np.maximum(x, 0).
  return arith::MaximumFOp::create(b, loc, x[0], zero);
}

/// Any elementwise op with a `scalarBody` overload -> one linalg.generic.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value result = buildElementwise(
        rewriter, op.getLoc(), cast<RankedTensorType>(op.getType()),
        adaptor.getOperands(), [&](OpBuilder &b, Location loc, ValueRange x) {
          return scalarBody(op, b, loc, x);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void mlir::flash::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering<AddOp>, ElementwiseLowering<ReluOp>>(
      patterns.getContext());
}
