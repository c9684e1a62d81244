//===- Indexing.cpp - Lower flash.gather ----------------------------------===//
//
// flash.gather becomes one linalg.generic over the result whose body reads
// the data element with tensor.extract at the run-time index (the form
// MLIR's vectorizer recognizes as a gather). (flash.cast is elementwise:
// Elementwise.cpp.)
//
//===----------------------------------------------------------------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
/// result[o..., i..., t...] = data[o..., wrap(indices[i...]), t...] where o
/// are the dimensions before `axis` and t those after it.
struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto dataType = cast<RankedTensorType>(adaptor.getData().getType());
    auto indexType = cast<RankedTensorType>(adaptor.getIndices().getType());
    int64_t axis = op.getAxis(), rank = type.getRank();
    int64_t indexRank = indexType.getRank();
    int64_t extent = dataType.getDimSize(axis);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t d = 0; d < indexRank; ++d)
      indexExprs.push_back(getAffineDimExpr(axis + d, ctx));
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, indexExprs, ctx),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    Value data = adaptor.getData();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{adaptor.getIndices()},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          // Wrap negative indices (ONNX), then clamp into [0, extent): the
          // runtime rejects out-of-range argument indices before the call;
          // the clamp keeps every read inside `data` regardless.
          Value i = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value n = arith::ConstantIndexOp::create(b, l, extent);
          Value last = arith::ConstantIndexOp::create(b, l, extent - 1);
          Value negative = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::slt, i, zero);
          i = arith::SelectOp::create(b, l, negative,
                                      arith::AddIOp::create(b, l, i, n), i);
          i = arith::MaxSIOp::create(b, l, i, zero);
          i = arith::MinSIOp::create(b, l, i, last);
          SmallVector<Value> at;
          for (int64_t d = 0; d < axis; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          at.push_back(i);
          for (int64_t d = axis + indexRank; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          Value element = tensor::ExtractOp::create(b, l, data, at);
          linalg::YieldOp::create(b, l, element);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::flash::populateIndexingPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherLowering>(patterns.getContext());
}
