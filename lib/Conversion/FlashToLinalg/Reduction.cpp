//===- Reduction.cpp - Lower reduce_sum, reduce_mean, reduce_max ----------===//
//
// A reduction is one linalg.generic with reduction iterators over the
// reduced dimensions (so elementwise producers can fuse into it), into a
// tensor filled with the identity (0, or -inf for max). The mean divides by
// the count afterwards; keepdims re-inserts the unit dimensions with
// tensor.expand_shape, a view.
//
//===----------------------------------------------------------------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>
#include <type_traits>

using namespace mlir;
using namespace mlir::flash;

namespace {
template <typename OpTy>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool isMax = std::is_same_v<OpTy, ReduceMaxOp>;
  static constexpr bool isMean = std::is_same_v<OpTy, ReduceMeanOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type f32 = inType.getElementType();
    int64_t rank = inType.getRank();

    SmallVector<bool> reduced(rank, false);
    for (int64_t axis : op.getAxes())
      reduced[axis] = true;
    SmallVector<int64_t> keptShape;
    SmallVector<AffineExpr> keptDims;
    SmallVector<utils::IteratorType> iterators;
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(reduced[d] ? utils::IteratorType::reduction
                                     : utils::IteratorType::parallel);
      if (reduced[d]) {
        count *= inType.getDimSize(d);
      } else {
        keptShape.push_back(inType.getDimSize(d));
        keptDims.push_back(getAffineDimExpr(d, ctx));
      }
    }
    auto keptType = RankedTensorType::get(keptShape, f32);
    float identity = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
    bool ignoreNan = false;
    if constexpr (isMax)
      ignoreNan = op.getIgnoreNan();
    Value init = linalg::FillOp::create(
                     rewriter, loc,
                     ValueRange{arith::ConstantOp::create(
                         rewriter, loc, rewriter.getFloatAttr(f32, identity))},
                     ValueRange{tensor::EmptyOp::create(rewriter, loc,
                                                        keptShape, f32)})
                     .getResult(0);
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank),
                                AffineMap::get(rank, 0, keptDims, ctx)};
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{keptType}, ValueRange{input},
            ValueRange{init}, maps, iterators,
            [&](OpBuilder &b, Location l, ValueRange args) {
              // reassoc: the reduction may be reordered, which is what lets
              // LLVM vectorize it (a strict left-to-right float sum runs at
              // one add latency per element). NumPy's own sums are pairwise,
              // not left-to-right, so no order is "the" reference.
              auto reassoc = arith::FastMathFlagsAttr::get(
                  b.getContext(), arith::FastMathFlags::reassoc);
              Value combined;
              if constexpr (isMax) {
                // NaN propagates, as in np.max, unless the op skips them.
                if (ignoreNan)
                  combined = arith::MaxNumFOp::create(b, l, args[0], args[1],
                                                      reassoc);
                else
                  combined = arith::MaximumFOp::create(b, l, args[0],
                                                       args[1], reassoc);
              } else {
                combined =
                    arith::AddFOp::create(b, l, args[0], args[1], reassoc);
              }
              linalg::YieldOp::create(b, l, ValueRange{combined});
            })
            .getResult(0);
    if constexpr (isMean)
      result = divide(rewriter, loc, result, static_cast<float>(count));
    if (resultType != keptType)
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, result,
                                             keepdimsGroups(reduced));
    rewriter.replaceOp(op, result);
    return success();
  }

  /// x / divisor elementwise.
  static Value divide(OpBuilder &b, Location loc, Value x, float divisor) {
    auto type = cast<RankedTensorType>(x.getType());
    Value init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                         type.getElementType());
    Value d = arith::ConstantOp::create(
        b, loc, b.getFloatAttr(type.getElementType(), divisor));
    SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(type.getRank()));
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, ValueRange{x}, ValueRange{init}, maps,
               iterators,
               [d](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(
                     nb, l, ValueRange{arith::DivFOp::create(nb, l, args[0], d)});
               })
        .getResult(0);
  }

  /// The reassociation from the reduced shape to the keepdims shape: each
  /// unit (reduced) dimension joins the group of the kept one before it (or
  /// the first group if it leads). None at all if everything was reduced.
  static SmallVector<ReassociationIndices>
  keepdimsGroups(ArrayRef<bool> reduced) {
    int64_t kept = llvm::count(reduced, false);
    SmallVector<ReassociationIndices> groups(kept);
    if (kept == 0)
      return groups;
    int64_t group = -1;
    for (int64_t d = 0, e = reduced.size(); d < e; ++d) {
      if (!reduced[d])
        ++group;
      groups[std::max<int64_t>(group, 0)].push_back(d);
    }
    return groups;
  }
};
} // namespace

void mlir::flash::populateReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<ReduceLowering<ReduceSumOp>, ReduceLowering<ReduceMeanOp>,
               ReduceLowering<ReduceMaxOp>>(patterns.getContext());
}
