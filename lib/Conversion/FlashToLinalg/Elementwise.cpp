//===- Elementwise.cpp - Lower elementwise Flash ops ----------------------===//
//
// Elementwise ops become one linalg.generic each. NumPy broadcasting is
// expressed in the indexing maps (a broadcast dimension reads index 0, a
// missing leading dimension is dropped), so no operand is materialized at the
// broadcast shape.
//
//===----------------------------------------------------------------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

Value scalarBody(SubOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::SubFOp::create(b, loc, x[0], x[1]);
}

Value scalarBody(MulOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::MulFOp::create(b, loc, x[0], x[1]);
}

Value scalarBody(DivOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::DivFOp::create(b, loc, x[0], x[1]);
}

Value scalarBody(PowOp, OpBuilder &b, Location loc, ValueRange x) {
  return math::PowFOp::create(b, loc, x[0], x[1]);
}

Value scalarBody(MaxOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::MaximumFOp::create(b, loc, x[0], x[1]);
}

Value constantLike(OpBuilder &b, Location loc, Value like, double value) {
  return arith::ConstantOp::create(b, loc,
                                   b.getFloatAttr(like.getType(), value));
}

/// 1.0 where `predicate` holds for the two floats, else 0.0.
Value comparison(OpBuilder &b, Location loc, arith::CmpFPredicate predicate,
                 ValueRange x) {
  Value holds = arith::CmpFOp::create(b, loc, predicate, x[0], x[1]);
  return arith::SelectOp::create(b, loc, holds, constantLike(b, loc, x[0], 1.0),
                                 constantLike(b, loc, x[0], 0.0));
}

// Ordered predicates are false when either side is NaN; `une` is true
// then: NumPy's ==, <, <= and != on NaN.
Value scalarBody(EqualOp, OpBuilder &b, Location loc, ValueRange x) {
  return comparison(b, loc, arith::CmpFPredicate::OEQ, x);
}

Value scalarBody(NotEqualOp, OpBuilder &b, Location loc, ValueRange x) {
  return comparison(b, loc, arith::CmpFPredicate::UNE, x);
}

Value scalarBody(LessOp, OpBuilder &b, Location loc, ValueRange x) {
  return comparison(b, loc, arith::CmpFPredicate::OLT, x);
}

Value scalarBody(LessEqualOp, OpBuilder &b, Location loc, ValueRange x) {
  return comparison(b, loc, arith::CmpFPredicate::OLE, x);
}

Value scalarBody(CastOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), x[0]);
}

Value scalarBody(SelectOp, OpBuilder &b, Location loc, ValueRange x) {
  Value zero = constantLike(b, loc, x[0], 0.0);
  Value chosen =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, x[0], zero);
  return arith::SelectOp::create(b, loc, chosen, x[1], x[2]);
}

Value scalarBody(ExpOp, OpBuilder &b, Location loc, ValueRange x) {
  return math::ExpOp::create(b, loc, x[0]);
}

Value scalarBody(TanhOp, OpBuilder &b, Location loc, ValueRange x) {
  return math::TanhOp::create(b, loc, x[0]);
}

Value scalarBody(SigmoidOp, OpBuilder &b, Location loc, ValueRange x) {
  // 1 / (1 + exp(-x)): exp overflows to inf for very negative x, giving 0.
  Value one = constantLike(b, loc, x[0], 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x[0]));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, e));
}

Value scalarBody(GeluOp, OpBuilder &b, Location loc, ValueRange x) {
  // 0.5 * x * (1 + erf(x / sqrt(2))), the exact GELU (torch's default).
  Value scaled = arith::MulFOp::create(
      b, loc, x[0], constantLike(b, loc, x[0], M_SQRT1_2));
  Value cdf = arith::AddFOp::create(b, loc, constantLike(b, loc, x[0], 1.0),
                                    math::ErfOp::create(b, loc, scaled));
  Value half = arith::MulFOp::create(b, loc, x[0],
                                     constantLike(b, loc, x[0], 0.5));
  return arith::MulFOp::create(b, loc, half, cdf);
}

Value scalarBody(ErfOp, OpBuilder &b, Location loc, ValueRange x) {
  return math::ErfOp::create(b, loc, x[0]);
}

Value scalarBody(SqrtOp, OpBuilder &b, Location loc, ValueRange x) {
  return math::SqrtOp::create(b, loc, x[0]);
}

Value scalarBody(NegOp, OpBuilder &b, Location loc, ValueRange x) {
  return arith::NegFOp::create(b, loc, x[0]);
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

/// flash.bias_add: the bias is read at the index of dimension `axis`.
struct BiasAddLowering : OpConversionPattern<BiasAddOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BiasAddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps{
        rewriter.getMultiDimIdentityMap(rank),
        AffineMap::get(rank, 0, getAffineDimExpr(op.getAxis(), ctx)),
        rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type},
        ValueRange{adaptor.getInput(), adaptor.getBias()}, ValueRange{init},
        maps, iterators, [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(
              b, l, ValueRange{arith::AddFOp::create(b, l, args[0], args[1])});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};
} // namespace

void mlir::flash::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering<AddOp>, ElementwiseLowering<SubOp>,
               ElementwiseLowering<MulOp>, ElementwiseLowering<DivOp>,
               ElementwiseLowering<PowOp>, ElementwiseLowering<MaxOp>,
               ElementwiseLowering<ReluOp>, ElementwiseLowering<ExpOp>,
               ElementwiseLowering<TanhOp>, ElementwiseLowering<SigmoidOp>,
               ElementwiseLowering<GeluOp>, ElementwiseLowering<ErfOp>,
               ElementwiseLowering<SqrtOp>, ElementwiseLowering<NegOp>,
               ElementwiseLowering<EqualOp>, ElementwiseLowering<NotEqualOp>,
               ElementwiseLowering<LessOp>, ElementwiseLowering<LessEqualOp>,
               ElementwiseLowering<SelectOp>, ElementwiseLowering<CastOp>,
               BiasAddLowering>(patterns.getContext());
}
