//===- Convolution.cpp - Lower conv2d and the 2-D pooling ops -------------===//
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Conversion/Passes.h"
#include "flash/Dialect/Flash/IR/Tuning.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>
#include <type_traits>

using namespace mlir;
using namespace mlir::flash;

namespace {
/// flash.conv2d -> tensor.pad (zeros, when padded) + linalg.conv_2d_nchw_fchw
/// accumulating into the bias broadcast over N, H, W (or zeros).
/// Pads H and W of an NCHW tensor by [top, left, bottom, right] with
/// `value` (zero for convolution, -inf for max pooling).
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pad, Value value) {
  if (llvm::all_of(pad, [](int64_t p) { return p == 0; }))
    return input;
  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> low = {0, 0, pad[0], pad[1]};
  SmallVector<int64_t> high = {0, 0, pad[2], pad[3]};
  SmallVector<int64_t> paddedShape(inputType.getShape());
  for (int i = 2; i < 4; ++i)
    paddedShape[i] += low[i] + high[i];
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(paddedShape, inputType.getElementType()),
      input, getAsIndexOpFoldResult(b.getContext(), low),
      getAsIndexOpFoldResult(b.getContext(), high), value);
}

/// A grouped convolution (depthwise: one channel per group) as a generic
/// over the channels split into (groups, channels per group) by
/// expand_shape, the result collapsed back. Not an im2col GEMM (a depthwise
/// convolution has no reduction over channels for a GEMM to exploit): it
/// runs as generated loops, in the order (n, g, f, c, oh, kh, kw, ow) so
/// that the innermost loop runs along an output row (contiguous stores,
/// loads `stride` apart) and LLVM vectorizes it, as for pooling;
/// linalg.conv_2d_ngchw_gfchw puts the 3-trip window loops innermost, which
/// stay scalar.
Value groupedConv(OpBuilder &b, Conv2DOp op, Value input, Value weight,
                  Value init) {
  Location loc = op.getLoc();
  int64_t g = op.getGroups();
  auto split = [&](Value v, int64_t dim) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] /= g;
    shape.insert(shape.begin() + dim, g);
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0, r = 0; d < type.getRank(); ++d) {
      if (d == dim) {
        groups.push_back({r, r + 1});
        r += 2;
      } else {
        groups.push_back({r++});
      }
    }
    return std::make_pair(
        tensor::ExpandShapeOp::create(
            b, loc, RankedTensorType::get(shape, type.getElementType()), v,
            groups)
            .getResult(),
        groups);
  };
  auto [inputG, inputGroups] = split(input, 1);   // N, G, C/G, H, W
  auto [weightG, weightGroups] = split(weight, 0); // G, O/G, C/G, KH, KW
  auto [initG, initGroups] = split(init, 1);       // N, G, O/G, OH, OW
  ArrayRef<int64_t> stride = op.getStride(), dilation = op.getDilation();
  MLIRContext *ctx = b.getContext();
  AffineExpr n, gi, f, c, oh, kh, kw, ow;
  bindDims(ctx, n, gi, f, c, oh, kh, kw, ow);
  SmallVector<AffineMap> maps{
      AffineMap::get(8, 0,
                     {n, gi, c, oh * stride[0] + kh * dilation[0],
                      ow * stride[1] + kw * dilation[1]},
                     ctx),
      AffineMap::get(8, 0, {gi, f, c, kh, kw}, ctx),
      AffineMap::get(8, 0, {n, gi, f, oh, ow}, ctx)};
  using utils::IteratorType;
  SmallVector<IteratorType> iterators{
      IteratorType::parallel,  IteratorType::parallel,
      IteratorType::parallel,  IteratorType::reduction,
      IteratorType::parallel,  IteratorType::reduction,
      IteratorType::reduction, IteratorType::parallel};
  Value conv =
      linalg::GenericOp::create(
          b, loc, TypeRange{initG.getType()}, ValueRange{inputG, weightG},
          ValueRange{initG}, maps, iterators,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value product = arith::MulFOp::create(nb, l, args[0], args[1]);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::AddFOp::create(nb, l, args[2], product)});
          })
          .getResult(0);
  // Several channels per group: a product per group is worth it (the
  // window, for flash-conv-to-im2col).
  if (cast<RankedTensorType>(weight.getType()).getDimSize(1) > 1)
    conv.getDefiningOp()->setAttr(
        kGroupedConvAttr,
        b.getDenseI64ArrayAttr(
            {stride[0], stride[1], dilation[0], dilation[1]}));
  return tensor::CollapseShapeOp::create(b, loc, init.getType(), conv,
                                         initGroups);
}

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

    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), op.getPadding(), zero);

    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         elementType);
    if (Value bias = adaptor.getBias())
      init = linalg::BroadcastOp::create(rewriter, loc, bias, init,
                                         ArrayRef<int64_t>{0, 2, 3})
                 .getResult()[0];
    else
      init = linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);

    if (op.getGroups() > 1) {
      rewriter.replaceOp(op, groupedConv(rewriter, op, input,
                                         adaptor.getWeight(), init));
      return success();
    }
    auto conv = rewriter.replaceOpWithNewOp<linalg::Conv2DNchwFchwOp>(
        op, TypeRange{resultType}, ValueRange{input, adaptor.getWeight()},
        ValueRange{init}, rewriter.getI64TensorAttr(op.getStride()),
        rewriter.getI64TensorAttr(op.getDilation()));
    copyTuning(op, conv);
    return success();
  }
};
/// The max of a pooling window: NaN-propagating (torch's max_pool2d), but
/// with no order between -0 and +0 (equal values; sorting them cost LLVM's
/// maximum three more vector instructions per element).
Value windowMax(OpBuilder &b, Location loc, Value acc, Value x) {
  auto max = arith::MaximumFOp::create(b, loc, acc, x);
  max.setFastmath(arith::FastMathFlags::nsz);
  return max;
}

/// Max pooling: -inf padding, linalg.pooling_nchw_max into a -inf fill.
/// Average pooling: zero padding, linalg.pooling_nchw_sum, then a divide by
/// the window size (count_include_pad) or by the number of input elements
/// in each window (a constant computed here).
template <typename OpTy>
struct Pool2DLowering : OpConversionPattern<OpTy> {
  Pool2DLowering(MLIRContext *ctx, bool flatRows)
      : OpConversionPattern<OpTy>(ctx), flatRows(flatRows) {}
  static constexpr bool isMax = std::is_same_v<OpTy, MaxPool2DOp>;
  bool flatRows; ///< stride 1 over flat padded planes (poolFlatRows)

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type f32 = resultType.getElementType();
    float padValue = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
    Value padConstant = arith::ConstantOp::create(
        rewriter, loc, rewriter.getFloatAttr(f32, padValue));
    ArrayRef<int64_t> pad = op.getPadding(), kernel = op.getKernel(),
                      stride = op.getStride();
    if (flatRows && stride[0] == 1 && stride[1] == 1) {
      Value pooled = poolFlatRows(rewriter, op, adaptor.getInput(), padConstant);
      if constexpr (!isMax)
        pooled = divideByCount(rewriter, loc, op, pooled);
      rewriter.replaceOp(op, pooled);
      return success();
    }
    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), pad, padConstant);
    // A generic rather than linalg.pooling_nchw_{max,sum}: loops in the
    // order (n, c, oh, kh, kw, ow), so the innermost loop runs along an
    // output row (contiguous stores, loads `stride` apart) and LLVM
    // vectorizes it; the named ops put the 2- or 3-trip window loops
    // innermost, which stay scalar (measured: 2x2 max pooling of
    // 16x6x28x28, 89 us before).
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr n, c, oh, kh, kw, ow;
    bindDims(ctx, n, c, oh, kh, kw, ow);
    SmallVector<AffineMap> maps{
        AffineMap::get(6, 0, {n, c, oh * stride[0] + kh, ow * stride[1] + kw},
                       ctx),
        AffineMap::get(6, 0, {kh, kw}, ctx),
        AffineMap::get(6, 0, {n, c, oh, ow}, ctx)};
    using utils::IteratorType;
    SmallVector<IteratorType> iterators{
        IteratorType::parallel,  IteratorType::parallel,
        IteratorType::parallel,  IteratorType::reduction,
        IteratorType::reduction, IteratorType::parallel};
    Value pooled = poolGeneric(rewriter, loc, resultType, input, kernel,
                               padConstant, maps, iterators);
    if constexpr (!isMax)
      pooled = divideByCount(rewriter, loc, op, pooled);
    rewriter.replaceOp(op, pooled);
    return success();
  }

  /// The pooling generic: `input` combined (max or sum) over the window
  /// into a `type` tensor filled with `padConstant` (-inf or 0). The
  /// window's extent lives in the loop bounds: a kernel-shaped operand that
  /// is never read carries it.
  static Value poolGeneric(OpBuilder &b, Location loc, RankedTensorType type,
                           Value input, ArrayRef<int64_t> kernel,
                           Value padConstant, ArrayRef<AffineMap> maps,
                           ArrayRef<utils::IteratorType> iterators) {
    Type f32 = type.getElementType();
    Value init = linalg::FillOp::create(
                     b, loc, padConstant,
                     tensor::EmptyOp::create(b, loc, type.getShape(), f32)
                         .getResult())
                     .getResult(0);
    Value window = tensor::EmptyOp::create(b, loc, kernel, f32);
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, ValueRange{input, window},
               ValueRange{init}, maps, iterators,
               [](OpBuilder &nb, Location l, ValueRange args) {
                 Value combined =
                     isMax ? windowMax(nb, l, args[2], args[0])
                           : arith::AddFOp::create(nb, l, args[2], args[0])
                                 .getResult();
                 linalg::YieldOp::create(nb, l, ValueRange{combined});
               })
        .getResult(0);
  }

  /// Stride-1 pooling over each channel's padded plane as one flat row:
  /// output j of a plane Wp wide (Wp = padded width) reads input j + kh*Wp
  /// + kw, so the innermost loop runs over OH*Wp outputs, not along one
  /// output row (14 or 7 wide in a CNN's late stages: mostly loop overhead
  /// and scalar remainders; GoogLeNet's 3x3 stride-1 pools ran at 1/7 of
  /// ONNX Runtime's speed). The Wp - OW columns past each row's end are
  /// computed and dropped (an extract_slice); one more padded row keeps the
  /// last row's reads inside the plane.
  Value poolFlatRows(OpBuilder &b, OpTy op, Value source,
                     Value padConstant) const {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto sourceType = cast<RankedTensorType>(source.getType());
    Type f32 = resultType.getElementType();
    ArrayRef<int64_t> pad = op.getPadding(), kernel = op.getKernel();
    int64_t n = resultType.getDimSize(0), c = resultType.getDimSize(1);
    int64_t oh = resultType.getDimSize(2), ow = resultType.getDimSize(3);
    int64_t h = sourceType.getDimSize(2), w = sourceType.getDimSize(3);
    int64_t wp = w + pad[1] + pad[3];
    // Rows the windows touch, plus one for the last row's overrun.
    int64_t rows = std::max(h + pad[0] + pad[2], oh + kernel[0]);
    Value padded = padSpatial(b, loc, source,
                              {pad[0], pad[1], rows - h - pad[0], pad[3]},
                              padConstant);
    Value planes = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({n, c, rows * wp}, f32), padded,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    auto flatType = RankedTensorType::get({n, c, oh * wp}, f32);
    MLIRContext *ctx = b.getContext();
    AffineExpr dn, dc, kh, kw, j;
    bindDims(ctx, dn, dc, kh, kw, j);
    SmallVector<AffineMap> maps{
        AffineMap::get(5, 0, {dn, dc, j + kh * wp + kw}, ctx),
        AffineMap::get(5, 0, {kh, kw}, ctx),
        AffineMap::get(5, 0, {dn, dc, j}, ctx)};
    using utils::IteratorType;
    SmallVector<IteratorType> iterators{
        IteratorType::parallel, IteratorType::parallel,
        IteratorType::reduction, IteratorType::reduction,
        IteratorType::parallel};
    Value flat = poolGeneric(b, loc, flatType, planes, kernel, padConstant,
                             maps, iterators);
    Value wide = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({n, c, oh, wp}, f32), flat,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return tensor::ExtractSliceOp::create(
        b, loc, resultType, wide, getAsIndexOpFoldResult(ctx, {0, 0, 0, 0}),
        getAsIndexOpFoldResult(ctx, {n, c, oh, ow}),
        getAsIndexOpFoldResult(ctx, {1, 1, 1, 1}));
  }

  Value divideByCount(OpBuilder &b, Location loc, AvgPool2DOp op,
                      Value sum) const {
    auto type = cast<RankedTensorType>(sum.getType());
    ArrayRef<int64_t> pad = op.getPadding(), kernel = op.getKernel(),
                      stride = op.getStride();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    int64_t oh = type.getDimSize(2), ow = type.getDimSize(3);
    // Elements of the (unpadded) input inside window i along one dimension.
    auto count = [&](int dim, int64_t i) {
      int64_t start = i * stride[dim], size = inputType.getDimSize(2 + dim);
      if (op.getCountIncludePad())
        return kernel[dim];
      return std::min(start + kernel[dim], pad[dim] + size) -
             std::max(start, pad[dim]);
    };
    std::vector<float> counts(oh * ow);
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        counts[i * ow + j] = static_cast<float>(count(0, i) * count(1, j));
    auto countType = RankedTensorType::get({oh, ow}, type.getElementType());
    Value divisor = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(countType, ArrayRef<float>(counts)));
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineMap> maps{
        b.getMultiDimIdentityMap(4),
        AffineMap::get(4, 0,
                       {getAffineDimExpr(2, ctx), getAffineDimExpr(3, ctx)},
                       ctx),
        b.getMultiDimIdentityMap(4)};
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    Value init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                         type.getElementType());
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, ValueRange{sum, divisor},
               ValueRange{init}, maps, iterators,
               [](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(
                     nb, l,
                     ValueRange{arith::DivFOp::create(nb, l, args[0], args[1])});
               })
        .getResult(0);
  }
  Value divideByCount(OpBuilder &, Location, MaxPool2DOp, Value sum) const {
    return sum;
  }
};
} // namespace

void mlir::flash::populateConvolutionPatterns(RewritePatternSet &patterns,
                                              bool poolFlatRows) {
  patterns.add<Conv2DOpLowering>(patterns.getContext());
  patterns.add<Pool2DLowering<MaxPool2DOp>, Pool2DLowering<AvgPool2DOp>>(
      patterns.getContext(), poolFlatRows);
}
