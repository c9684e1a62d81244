//===- FlashOps.cpp - Flash op shape rules and folders --------------------===//
//
// Result-type inference doubles as the verifier: every shape error is reported
// here once, naming the op and the offending types.
//
//===----------------------------------------------------------------------===//
#include "flash/Dialect/Flash/IR/FlashOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::flash;

std::optional<SmallVector<int64_t>>
mlir::flash::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the trailing dimension; a missing dimension acts as 1.
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l != r && l != 1 && r != 1)
      return std::nullopt;
    result[i] = l == 1 ? r : l;
  }
  return result;
}

/// The types of the first two operands as ranked tensors, after checking
/// that there are `min` to `max` operands; otherwise an error naming
/// `opName`. Inference also runs on ops built generically (GraphBuilder),
/// before the verifier has checked the operand count, so it comes first.
static FailureOr<std::pair<RankedTensorType, RankedTensorType>>
rankedOperands(std::optional<Location> loc, StringRef opName,
               ValueRange operands, size_t min, size_t max) {
  size_t count = operands.size();
  if (count < min || count > max) {
    if (min == max)
      return emitOptionalError(loc, "'", opName, "' op expects ", min,
                               " operands, got ", count);
    return emitOptionalError(loc, "'", opName, "' op expects ", min, " to ",
                             max, " operands, got ", count);
  }
  auto lhsType = dyn_cast<RankedTensorType>(operands[0].getType());
  auto rhsType = dyn_cast<RankedTensorType>(operands[1].getType());
  if (!lhsType || !rhsType)
    return emitOptionalError(loc, "'", opName, "' op expects ranked tensors");
  return std::make_pair(lhsType, rhsType);
}

/// Constant folding materializes results; beyond this many elements it is
/// left to run time.
static constexpr int64_t kMaxFoldElements = 1 << 16;

static RankedTensorType f32Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  if (!adaptor.getValueAttr())
    return emitOptionalError(loc, "'flash.constant' op requires a `value` "
                                  "elements attribute");
  results.push_back(adaptor.getValueAttr().getType());
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 2, 2);
  if (failed(operands))
    return failure();
  auto [lhs, rhs] = *operands;
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return emitOptionalError(
        loc, "'flash.matmul' op expects 2-D operands, got ", lhs, " and ", rhs);
  if (lhs.getDimSize(1) != rhs.getDimSize(0))
    return emitOptionalError(
        loc, "'flash.matmul' op contracting dimensions differ: lhs ", lhs,
        " has K=", lhs.getDimSize(1), " but rhs ", rhs,
        " has K=", rhs.getDimSize(0));
  results.push_back(f32Tensor(ctx, {lhs.getDimSize(0), rhs.getDimSize(1)}));
  return success();
}

//===----------------------------------------------------------------------===//
// AddOp
//===----------------------------------------------------------------------===//

LogicalResult AddOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 2, 2);
  if (failed(operands))
    return failure();
  auto [lhs, rhs] = *operands;
  auto shape = broadcastShapes(lhs.getShape(), rhs.getShape());
  if (!shape)
    return emitOptionalError(
        loc, "'flash.add' op operands are not broadcast-compatible: ", lhs,
        " and ", rhs);
  results.push_back(f32Tensor(ctx, *shape));
  return success();
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  auto lhs = dyn_cast_or_null<DenseElementsAttr>(adaptor.getLhs());
  auto rhs = dyn_cast_or_null<DenseElementsAttr>(adaptor.getRhs());
  auto type = cast<RankedTensorType>(getType());
  // Folding materializes the result: only for small constants, so large
  // weights are not duplicated at compile time.
  if (!lhs || !rhs || type.getNumElements() > kMaxFoldElements)
    return {};
  SmallVector<APFloat> values;
  values.reserve(type.getNumElements());
  auto lhsValues = lhs.getValues<APFloat>();
  auto rhsValues = rhs.getValues<APFloat>();
  // Walk the result index space, reading each operand with NumPy
  // broadcasting (a size-1 or missing dimension reads index 0).
  SmallVector<int64_t> index(type.getRank(), 0);
  auto flatIndex = [&](RankedTensorType operand) {
    int64_t offset = type.getRank() - operand.getRank(), flat = 0;
    for (int64_t d = 0; d < operand.getRank(); ++d) {
      int64_t size = operand.getDimSize(d);
      flat = flat * size + (size == 1 ? 0 : index[d + offset]);
    }
    return flat;
  };
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    APFloat sum = lhsValues[flatIndex(lhsType)];
    sum.add(rhsValues[flatIndex(rhsType)], APFloat::rmNearestTiesToEven);
    values.push_back(sum);
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return DenseElementsAttr::get(type, values);
}

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (!input || input.getNumElements() > kMaxFoldElements)
    return {};
  return input.mapValues(input.getElementType(), [](const APFloat &x) {
    // maximum(x, 0) with NaN propagating, as the lowering computes it.
    return (x.isNegative() && !x.isNaN() ? APFloat::getZero(x.getSemantics())
                                         : x)
        .bitcastToAPInt();
  });
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 2, 3);
  if (failed(operands))
    return failure();
  auto [input, weight] = *operands;
  if (input.getRank() != 4 || weight.getRank() != 4)
    return emitOptionalError(
        loc,
        "'flash.conv2d' op expects a 4-D NCHW input and a 4-D OIHW "
        "weight, got ",
        input, " and ", weight);
  // Inference also runs on ops built generically (GraphBuilder), before the
  // attribute constraints are verified: check presence here.
  if (!adaptor.getStrideAttr() || !adaptor.getPaddingAttr() ||
      !adaptor.getDilationAttr())
    return emitOptionalError(loc, "'flash.conv2d' op requires `stride`, "
                                  "`padding` and `dilation` i64 arrays");
  ArrayRef<int64_t> stride = adaptor.getStride();
  ArrayRef<int64_t> padding = adaptor.getPadding();
  ArrayRef<int64_t> dilation = adaptor.getDilation();
  if (stride.size() != 2 || dilation.size() != 2 || padding.size() != 4)
    return emitOptionalError(loc, "'flash.conv2d' op expects stride and "
                                  "dilation of 2 values and padding of 4");
  if (llvm::any_of(stride, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilation, [](int64_t d) { return d < 1; }))
    return emitOptionalError(loc, "'flash.conv2d' op stride [", stride[0], ", ",
                             stride[1], "] and dilation [", dilation[0], ", ",
                             dilation[1], "] must be positive");
  if (llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "'flash.conv2d' op padding must be "
                                  "non-negative");
  if (input.getDimSize(1) != weight.getDimSize(1))
    return emitOptionalError(loc, "'flash.conv2d' op input ", input, " has ",
                             input.getDimSize(1), " channels but weight ",
                             weight, " expects ", weight.getDimSize(1));
  if (Value bias = adaptor.getBias()) {
    auto biasType = dyn_cast<RankedTensorType>(bias.getType());
    if (!biasType || biasType.getRank() != 1 ||
        biasType.getDimSize(0) != weight.getDimSize(0))
      return emitOptionalError(loc, "'flash.conv2d' op bias ", biasType,
                               " must have one value per output channel of "
                               "weight ",
                               weight);
  }
  int64_t outSize[2];
  for (int i = 0; i < 2; ++i) {
    int64_t padded = input.getDimSize(2 + i) + padding[i] + padding[i + 2];
    int64_t window = dilation[i] * (weight.getDimSize(2 + i) - 1) + 1;
    if (padded < window)
      return emitOptionalError(loc,
                               "'flash.conv2d' op dilated kernel of weight ",
                               weight, " does not fit the padded input ", input,
                               " in dimension ", i == 0 ? "H" : "W");
    outSize[i] = (padded - window) / stride[i] + 1;
  }
  results.push_back(f32Tensor(ctx, {input.getDimSize(0), weight.getDimSize(0),
                                    outSize[0], outSize[1]}));
  return success();
}

#define GET_OP_CLASSES
#include "flash/Dialect/Flash/IR/FlashOps.cpp.inc"
