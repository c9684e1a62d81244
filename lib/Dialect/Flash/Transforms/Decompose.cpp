//===- Decompose.cpp - Composite Flash ops -> primitive Flash ops ---------===//
//
// Each composite op is rewritten into primitive Flash ops (whose types are
// inferred by the ops themselves), so the lowering to Linalg only knows the
// primitives and the graph-level folders and fusion apply to the pieces.
//
//===----------------------------------------------------------------------===//
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Dialect/Flash/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>
#include <numeric>

namespace mlir::flash {
#define GEN_PASS_DEF_FLASHDECOMPOSE
#include "flash/Dialect/Flash/Transforms/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;
using namespace mlir::flash;

namespace {
/// A rank-0 f32 constant, which broadcasts against any shape.
Value scalar(OpBuilder &b, Location loc, float value) {
  auto type = RankedTensorType::get({}, b.getF32Type());
  return ConstantOp::create(b, loc, DenseElementsAttr::get(type, value));
}

Value reshape(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> shape) {
  return ReshapeOp::create(b, loc, x, b.getDenseI64ArrayAttr(shape));
}

/// sqrt(variance + epsilon), the denominator of both normalizations.
Value stddev(OpBuilder &b, Location loc, Value variance, APFloat epsilon) {
  return SqrtOp::create(
      b, loc,
      AddOp::create(b, loc, variance, scalar(b, loc, epsilon.convertToFloat())));
}

SmallVector<int64_t> trailingAxes(int64_t from, int64_t rank) {
  SmallVector<int64_t> axes(rank - from);
  std::iota(axes.begin(), axes.end(), from);
  return axes;
}

struct DecomposeFlatten : OpRewritePattern<FlattenOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FlattenOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOp(op, reshape(rewriter, op.getLoc(), op.getInput(),
                                   type.getShape()));
    return success();
  }
};

/// exp(x - max) * (1 / sum(exp(x - max))): the maximum keeps exp from
/// overflowing. It skips NaNs (maxNum: half the instructions per vector of
/// the NaN-propagating maximum, which was a quarter of a softmax's time),
/// since a NaN in a row still reaches every output through its exp and the
/// sum; one reciprocal per row, not a division per element. (12x197x197,
/// one thread, Zen 4: 310 -> 250 us.)
Value buildSoftmax(OpBuilder &b, Location loc, Value x, int64_t axis) {
  auto axes = b.getDenseI64ArrayAttr({axis});
  auto keep = b.getBoolAttr(true);
  Value max =
      ReduceMaxOp::create(b, loc, x, axes, keep, /*ignore_nan=*/b.getUnitAttr());
  Value e = ExpOp::create(b, loc, SubOp::create(b, loc, x, max));
  Value sum = ReduceSumOp::create(b, loc, e, axes, keep);
  Value reciprocal = DivOp::create(b, loc, scalar(b, loc, 1.0f), sum);
  return MulOp::create(b, loc, e, reciprocal);
}

struct DecomposeSoftmax : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildSoftmax(rewriter, op.getLoc(), op.getInput(), op.getAxis()));
    return success();
  }
};

struct DecomposeLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    auto axes = rewriter.getDenseI64ArrayAttr(trailingAxes(op.getAxis(), rank));
    auto keep = rewriter.getBoolAttr(true);
    Value mean = ReduceMeanOp::create(rewriter, loc, x, axes, keep);
    Value centered = SubOp::create(rewriter, loc, x, mean);
    // The variance of the centered values: no E[x^2] - E[x]^2 cancellation.
    Value var = ReduceMeanOp::create(
        rewriter, loc, MulOp::create(rewriter, loc, centered, centered), axes,
        keep);
    Value normalized = DivOp::create(
        rewriter, loc, centered, stddev(rewriter, loc, var, op.getEpsilon()));
    // scale and bias have the trailing (normalized) shape: they broadcast.
    Value scaled = MulOp::create(rewriter, loc, normalized, op.getScale());
    rewriter.replaceOp(op, AddOp::create(rewriter, loc, scaled, op.getBias()));
    return success();
  }
};

/// x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a, per
/// channel: with constant statistics a and b fold, leaving one multiply-add.
struct DecomposeBatchNorm : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value a = DivOp::create(
        rewriter, loc, op.getScale(),
        stddev(rewriter, loc, op.getVariance(), op.getEpsilon()));
    Value shift =
        SubOp::create(rewriter, loc, op.getBias(),
                      MulOp::create(rewriter, loc, op.getMean(), a));
    // C -> C x 1 x ... x 1, to broadcast along dimension 1.
    SmallVector<int64_t> perChannel(type.getRank() - 1, 1);
    perChannel[0] = type.getDimSize(1);
    Value y = MulOp::create(rewriter, loc, op.getInput(),
                            reshape(rewriter, loc, a, perChannel));
    rewriter.replaceOp(op, AddOp::create(rewriter, loc, y,
                                         reshape(rewriter, loc, shift,
                                                 perChannel)));
    return success();
  }
};

/// softmax(q k^T * scale [+ causal mask]) v on the leading dimensions
/// collapsed into one batch dimension.
struct DecomposeAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    auto vType = cast<RankedTensorType>(op.getValue().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = qType.getRank();
    int64_t batch = 1;
    for (int64_t d = 0; d < rank - 2; ++d)
      batch *= qType.getDimSize(d);
    int64_t sq = qType.getDimSize(rank - 2), d = qType.getDimSize(rank - 1);
    int64_t sk = kType.getDimSize(rank - 2), dv = vType.getDimSize(rank - 1);
    Value q = reshape(rewriter, loc, op.getQuery(), {batch, sq, d});
    Value k = reshape(rewriter, loc, op.getKey(), {batch, sk, d});
    Value v = reshape(rewriter, loc, op.getValue(), {batch, sk, dv});
    Value kT = TransposeOp::create(rewriter, loc, k,
                                   rewriter.getDenseI64ArrayAttr({0, 2, 1}));
    float scale = op.getScale() ? op.getScale()->convertToFloat()
                                : 1.0f / std::sqrt(static_cast<float>(d));
    Value scores = MulOp::create(rewriter, loc,
                                 BatchMatmulOp::create(rewriter, loc, q, kT),
                                 scalar(rewriter, loc, scale));
    if (op.getCausal()) {
      // Query i sees keys 0..i: -inf above the diagonal (exp gives 0).
      std::vector<float> mask(sq * sk, 0.0f);
      for (int64_t i = 0; i < sq; ++i)
        for (int64_t j = i + 1; j < sk; ++j)
          mask[i * sk + j] = -std::numeric_limits<float>::infinity();
      auto maskType = RankedTensorType::get({sq, sk}, rewriter.getF32Type());
      Value maskValue = ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(maskType, llvm::ArrayRef<float>(mask)));
      scores = AddOp::create(rewriter, loc, scores, maskValue);
    }
    Value probs = buildSoftmax(rewriter, loc, scores, 2);
    Value out = BatchMatmulOp::create(rewriter, loc, probs, v);
    rewriter.replaceOp(op, reshape(rewriter, loc, out, resultType.getShape()));
    return success();
  }
};

struct FlashDecompose
    : mlir::flash::impl::FlashDecomposeBase<FlashDecompose> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDecomposePatterns(patterns);
    // Only the rewrites: folding is the canonicalizer's job, next in the
    // pipeline, so this pass's output shows the decomposition as written.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};
} // namespace

void mlir::flash::populateDecomposePatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeFlatten, DecomposeSoftmax, DecomposeLayerNorm,
               DecomposeBatchNorm, DecomposeAttention>(patterns.getContext());
}
