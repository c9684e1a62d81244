//===- FoldBatchNorm.cpp - Per-channel scale and shift into conv weights --===//
//
// In inference a batch norm is one multiply and one add per channel
// (flash-decompose folds its statistics into them). After a convolution with
// constant weights both fold into the weights:
//
//   conv(x, W, b) * s + t  =  conv(x, W * s[o], b * s + t)
//
// so the normalization costs nothing at run time: no pass over the
// activations, and the convolution's output is the layer's. The same holds
// for any per-output-channel constant scale or shift (a separate bias add, a
// layer scale), so the patterns match those, not the batch norm op: one
// multiply or add at a time, each folded into the convolution that alone
// uses its operand.
//
//===----------------------------------------------------------------------===//
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Dialect/Flash/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <optional>

namespace mlir::flash {
#define GEN_PASS_DEF_FLASHFOLDBATCHNORM
#include "flash/Dialect/Flash/Transforms/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;
using namespace mlir::flash;

namespace {
/// The f32 values of a constant operand, or nothing.
std::optional<DenseElementsAttr> constantOf(Value v) {
  auto constant = v.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto attr = dyn_cast<DenseElementsAttr>(constant.getValue());
  if (!attr || !attr.getElementType().isF32())
    return std::nullopt;
  return attr;
}

/// One value per output channel of an NCHW `result` when `c` is a constant
/// that broadcasts against it along the channels only (shape C x 1 x 1,
/// 1 x C x 1 x 1, a scalar, ...); nothing otherwise.
std::optional<SmallVector<float>> perChannel(Value c, RankedTensorType result) {
  auto attr = constantOf(c);
  if (!attr)
    return std::nullopt;
  auto type = cast<RankedTensorType>(attr->getType());
  int64_t offset = result.getRank() - type.getRank();
  int64_t channels = result.getDimSize(1);
  if (offset < 0)
    return std::nullopt;
  bool alongChannels = false;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    int64_t size = type.getDimSize(d);
    if (size == 1)
      continue;
    if (d + offset != 1 || size != channels)
      return std::nullopt;
    alongChannels = true;
  }
  // Every dimension but the channels' has size 1: element o is channel o.
  SmallVector<float> values;
  auto all = attr->getValues<float>();
  for (int64_t o = 0; o < channels; ++o)
    values.push_back(alongChannels ? all[o] : all[0]);
  return values;
}

/// The convolution producing `v`, when this is its only use and its weight
/// and bias (if any) are constants: one that can absorb a scale or shift.
Conv2DOp foldableConv(Value v) {
  auto conv = v.getDefiningOp<Conv2DOp>();
  if (!conv || !conv->hasOneUse() || !constantOf(conv.getWeight()))
    return nullptr;
  if (conv.getBias() && !constantOf(conv.getBias()))
    return nullptr;
  return conv;
}

SmallVector<float> valuesOf(DenseElementsAttr attr) {
  auto range = attr.getValues<float>();
  return SmallVector<float>(range.begin(), range.end());
}

/// A new convolution like `conv` with weight `weight` and bias `bias`.
Value rebuild(PatternRewriter &rewriter, Conv2DOp conv, ArrayRef<float> weight,
              ArrayRef<float> bias) {
  Location loc = conv.getLoc();
  auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
  auto biasType =
      RankedTensorType::get({weightType.getDimSize(0)}, rewriter.getF32Type());
  Value w = ConstantOp::create(rewriter, loc,
                               DenseElementsAttr::get(weightType, weight));
  Value b =
      ConstantOp::create(rewriter, loc, DenseElementsAttr::get(biasType, bias));
  OperationState state(loc, Conv2DOp::getOperationName());
  state.addOperands({conv.getInput(), w, b});
  state.addAttributes(conv->getAttrs());
  state.addTypes(conv.getType());
  return rewriter.create(state)->getResult(0);
}

/// The convolution's bias, or zeros.
SmallVector<float> biasOf(Conv2DOp conv, int64_t channels) {
  if (!conv.getBias())
    return SmallVector<float>(channels, 0.0f);
  return valuesOf(*constantOf(conv.getBias()));
}

/// The foldable convolution and the per-channel values of a binary op's
/// operands, in either order: `op` is conv(...) <op> c, shaped like conv.
template <typename OpTy>
std::optional<std::pair<Conv2DOp, SmallVector<float>>> convAndChannels(OpTy op) {
  for (auto [x, c] : {std::pair(op.getLhs(), op.getRhs()),
                      std::pair(op.getRhs(), op.getLhs())}) {
    Conv2DOp conv = foldableConv(x);
    if (!conv || op.getType() != conv.getType())
      continue;
    if (auto values = perChannel(c, cast<RankedTensorType>(conv.getType())))
      return std::make_pair(conv, std::move(*values));
  }
  return std::nullopt;
}

/// conv(x, W, b) * s  ->  conv(x, W * s[o], b * s).
struct FoldScaleIntoConv : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    auto match = convAndChannels(op);
    if (!match)
      return failure();
    auto &[conv, scale] = *match;
    int64_t channels = scale.size();
    SmallVector<float> weight = valuesOf(*constantOf(conv.getWeight()));
    int64_t perFilter = weight.size() / channels;
    for (size_t i = 0; i < weight.size(); ++i)
      weight[i] *= scale[i / perFilter];
    SmallVector<float> bias = biasOf(conv, channels);
    for (int64_t o = 0; o < channels; ++o)
      bias[o] *= scale[o];
    rewriter.replaceOp(op, rebuild(rewriter, conv, weight, bias));
    return success();
  }
};

/// conv(x, W, b) + t  ->  conv(x, W, b + t).
struct FoldShiftIntoConv : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    auto match = convAndChannels(op);
    if (!match)
      return failure();
    auto &[conv, shift] = *match;
    SmallVector<float> bias = biasOf(conv, shift.size());
    for (size_t o = 0; o < bias.size(); ++o)
      bias[o] += shift[o];
    rewriter.replaceOp(op, rebuild(rewriter, conv,
                                   valuesOf(*constantOf(conv.getWeight())), bias));
    return success();
  }
};

struct FlashFoldBatchNorm
    : mlir::flash::impl::FlashFoldBatchNormBase<FlashFoldBatchNorm> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFoldBatchNormPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::flash::populateFoldBatchNormPatterns(RewritePatternSet &patterns) {
  patterns.add<FoldScaleIntoConv, FoldShiftIntoConv>(patterns.getContext());
}
