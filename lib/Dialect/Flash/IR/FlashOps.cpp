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
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::flash;

LogicalResult mlir::flash::verifyAddressableShapes(Operation *op) {
  auto check = [&](Type type) -> LogicalResult {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasStaticShape())
      return success();
    int64_t bytes = std::max<int64_t>(
        1, (shaped.getElementTypeBitWidth() + 7) / 8);
    int64_t elements = 1;
    for (int64_t d : shaped.getShape())
      if (llvm::MulOverflow(elements, d, elements))
        return op->emitOpError() << "has a " << type << " value: "
                                 << "its element count exceeds 64-bit sizes";
    if (llvm::MulOverflow(elements, bytes, bytes))
      return op->emitOpError() << "has a " << type << " value of " << elements
                               << " elements: its byte size exceeds 64-bit sizes";
    return success();
  };
  for (Type t : op->getOperandTypes())
    if (failed(check(t)))
      return failure();
  for (Type t : op->getResultTypes())
    if (failed(check(t)))
      return failure();
  return success();
}

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
// Elementwise binary ops: add, sub, mul, div, pow, max
//===----------------------------------------------------------------------===//

/// The NumPy-broadcast result type of a binary elementwise op.
static LogicalResult inferBroadcast(MLIRContext *ctx,
                                    std::optional<Location> loc,
                                    StringRef opName, ValueRange operands,
                                    SmallVectorImpl<Type> &results) {
  auto ranked = rankedOperands(loc, opName, operands, 2, 2);
  if (failed(ranked))
    return failure();
  auto [lhs, rhs] = *ranked;
  auto shape = broadcastShapes(lhs.getShape(), rhs.getShape());
  if (!shape)
    return emitOptionalError(loc, "'", opName,
                             "' op operands are not broadcast-compatible: ",
                             lhs, " and ", rhs);
  results.push_back(f32Tensor(ctx, *shape));
  return success();
}

/// Folds `fn(lhs, rhs)` elementwise with NumPy broadcasting when both
/// operands are constants. Folding materializes the result: only for small
/// constants, so large weights are not duplicated at compile time.
static OpFoldResult
foldBinary(RankedTensorType type, Attribute lhsAttr, Attribute rhsAttr,
           function_ref<APFloat(const APFloat &, const APFloat &)> fn) {
  auto lhs = dyn_cast_or_null<DenseElementsAttr>(lhsAttr);
  auto rhs = dyn_cast_or_null<DenseElementsAttr>(rhsAttr);
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
    values.push_back(
        fn(lhsValues[flatIndex(lhsType)], rhsValues[flatIndex(rhsType)]));
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return DenseElementsAttr::get(type, values);
}

static APFloat viaFloat(const APFloat &x, const APFloat &y,
                        float (*fn)(float, float)) {
  return APFloat(fn(x.convertToFloat(), y.convertToFloat()));
}

#define FLASH_BINARY_OP(Op, Expr)                                              \
  LogicalResult Op::inferReturnTypes(MLIRContext *ctx,                         \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    return inferBroadcast(ctx, loc, getOperationName(), adaptor.getOperands(), \
                          results);                                            \
  }                                                                            \
  OpFoldResult Op::fold(FoldAdaptor adaptor) {                                 \
    return foldBinary(cast<RankedTensorType>(getType()), adaptor.getLhs(),     \
                      adaptor.getRhs(),                                        \
                      [](const APFloat &x, const APFloat &y) -> APFloat {      \
                        return viaFloat(x, y, [](float a, float b) {           \
                          return static_cast<float>(Expr);                     \
                        });                                                    \
                      });                                                      \
  }

FLASH_BINARY_OP(AddOp, a + b)
FLASH_BINARY_OP(SubOp, a - b)
FLASH_BINARY_OP(MulOp, a * b)
FLASH_BINARY_OP(DivOp, a / b)
FLASH_BINARY_OP(PowOp, std::pow(a, b))
FLASH_BINARY_OP(MaxOp, (std::isnan(a) || std::isnan(b)) ? NAN : std::max(a, b))
FLASH_BINARY_OP(EqualOp, a == b ? 1.0f : 0.0f)
FLASH_BINARY_OP(NotEqualOp, a != b ? 1.0f : 0.0f)
FLASH_BINARY_OP(LessOp, a < b ? 1.0f : 0.0f)
FLASH_BINARY_OP(LessEqualOp, a <= b ? 1.0f : 0.0f)
#undef FLASH_BINARY_OP

LogicalResult SelectOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (adaptor.getOperands().size() != 3)
    return emitOptionalError(loc, "'flash.select' op expects 3 operands, got ",
                             adaptor.getOperands().size());
  SmallVector<RankedTensorType> types;
  for (Value v : adaptor.getOperands()) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type)
      return emitOptionalError(loc, "'flash.select' op expects ranked tensors");
    types.push_back(type);
  }
  auto shape = broadcastShapes(types[0].getShape(), types[1].getShape());
  if (shape)
    shape = broadcastShapes(*shape, types[2].getShape());
  if (!shape)
    return emitOptionalError(loc, "'flash.select' op operands are not "
                                  "broadcast-compatible: ",
                             types[0], ", ", types[1], " and ", types[2]);
  results.push_back(f32Tensor(ctx, *shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

/// Folds `fn` over a small constant operand (computed in float, as the
/// generated code does).
static OpFoldResult foldUnary(Attribute attr, float (*fn)(float)) {
  auto input = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!input || input.getNumElements() > kMaxFoldElements)
    return {};
  return input.mapValues(input.getElementType(), [fn](const APFloat &x) {
    return APFloat(fn(x.convertToFloat())).bitcastToAPInt();
  });
}

#define FLASH_UNARY_FOLD(Op, Expr)                                             \
  OpFoldResult Op::fold(FoldAdaptor adaptor) {                                 \
    return foldUnary(adaptor.getInput(),                                       \
                     [](float x) { return static_cast<float>(Expr); });        \
  }

FLASH_UNARY_FOLD(ExpOp, std::exp(x))
FLASH_UNARY_FOLD(TanhOp, std::tanh(x))
FLASH_UNARY_FOLD(SigmoidOp, 1.0f / (1.0f + std::exp(-x)))
FLASH_UNARY_FOLD(GeluOp, 0.5f * x * (1.0f + std::erf(x * float(M_SQRT1_2))))
FLASH_UNARY_FOLD(ErfOp, std::erf(x))
FLASH_UNARY_FOLD(SqrtOp, std::sqrt(x))
FLASH_UNARY_FOLD(NegOp, -x)
#undef FLASH_UNARY_FOLD

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
  int64_t groups = adaptor.getGroupsAttr() ? adaptor.getGroups() : 1;
  if (groups < 1 || input.getDimSize(1) % groups ||
      weight.getDimSize(0) % groups)
    return emitOptionalError(loc, "'flash.conv2d' op groups ", groups,
                             " must be positive and divide the input's ",
                             input.getDimSize(1), " and the weight's ",
                             weight.getDimSize(0), " channels");
  if (input.getDimSize(1) != weight.getDimSize(1) * groups)
    return emitOptionalError(loc, "'flash.conv2d' op input ", input, " has ",
                             input.getDimSize(1), " channels but weight ",
                             weight, " expects ",
                             weight.getDimSize(1) * groups,
                             groups > 1 ? " (over all groups)" : "");
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

//===----------------------------------------------------------------------===//
// BiasAddOp, BatchMatmulOp
//===----------------------------------------------------------------------===//

LogicalResult BiasAddOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 2, 2);
  if (failed(operands))
    return failure();
  auto [input, bias] = *operands;
  if (!adaptor.getAxisAttr())
    return emitOptionalError(loc, "'flash.bias_add' op requires an `axis`");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= input.getRank())
    return emitOptionalError(loc, "'flash.bias_add' op axis ", axis,
                             " is out of range for ", input);
  if (bias.getRank() != 1 || bias.getDimSize(0) != input.getDimSize(axis))
    return emitOptionalError(loc, "'flash.bias_add' op bias ", bias,
                             " must be 1-D of size ", input.getDimSize(axis),
                             " (dimension ", axis, " of ", input, ")");
  results.push_back(input);
  return success();
}

LogicalResult BatchMatmulOp::inferReturnTypes(MLIRContext *ctx,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 2, 2);
  if (failed(operands))
    return failure();
  auto [lhs, rhs] = *operands;
  if (lhs.getRank() != 3 || rhs.getRank() != 3)
    return emitOptionalError(loc,
                             "'flash.batch_matmul' op expects 3-D operands, "
                             "got ",
                             lhs, " and ", rhs);
  if (lhs.getDimSize(0) != rhs.getDimSize(0))
    return emitOptionalError(loc, "'flash.batch_matmul' op batch sizes differ: ",
                             lhs, " and ", rhs);
  if (lhs.getDimSize(2) != rhs.getDimSize(1))
    return emitOptionalError(
        loc, "'flash.batch_matmul' op contracting dimensions differ: lhs ",
        lhs, " has K=", lhs.getDimSize(2), " but rhs ", rhs,
        " has K=", rhs.getDimSize(1));
  results.push_back(f32Tensor(
      ctx, {lhs.getDimSize(0), lhs.getDimSize(1), rhs.getDimSize(2)}));
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp, ReshapeOp, FlattenOp, ConcatOp
//===----------------------------------------------------------------------===//

/// The single ranked operand of a one-operand op, or an error.
static FailureOr<RankedTensorType> rankedInput(std::optional<Location> loc,
                                               StringRef opName,
                                               ValueRange operands) {
  if (operands.size() != 1)
    return emitOptionalError(loc, "'", opName, "' op expects 1 operand, got ",
                             operands.size());
  auto type = dyn_cast<RankedTensorType>(operands[0].getType());
  if (!type)
    return emitOptionalError(loc, "'", opName, "' op expects a ranked tensor");
  return type;
}

/// Folds a layout op of a constant: result element `index` (row-major
/// over `type`) is input element sourceOf(index, input strides). Splats
/// stay splats; no size limit, as the result is never larger than the input.
static OpFoldResult gatherConstant(
    Attribute inputAttr, RankedTensorType type,
    llvm::function_ref<int64_t(ArrayRef<int64_t>, ArrayRef<int64_t>)>
        sourceOf) {
  auto input = dyn_cast_or_null<DenseElementsAttr>(inputAttr);
  if (!input)
    return {};
  if (input.isSplat())
    return input.resizeSplat(type);
  auto values = llvm::to_vector(input.getValues<float>());
  auto inType = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> inStrides(inType.getRank(), 1);
  for (int64_t d = inType.getRank() - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * inType.getDimSize(d + 1);
  std::vector<float> out(type.getNumElements());
  SmallVector<int64_t> index(rank, 0);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = values[sourceOf(index, inStrides)];
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return DenseElementsAttr::get(type, llvm::ArrayRef<float>(out));
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, getOperationName(), adaptor.getOperands());
  if (failed(input))
    return failure();
  if (!adaptor.getPermutationAttr())
    return emitOptionalError(loc, "'flash.transpose' op requires a "
                                  "`permutation`");
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  int64_t rank = input->getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid)
    return emitOptionalError(loc, "'flash.transpose' op permutation [",
                             perm, "] is not a permutation of the ", rank,
                             " dimensions of ", *input);
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(input->getDimSize(p));
  results.push_back(f32Tensor(ctx, shape));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  if (llvm::equal(getPermutation(),
                  llvm::seq<int64_t>(0, getPermutation().size())))
    return getInput();
  // Transposing a constant (a weight stored as out x in, used as in x out)
  // moves its elements once at compile time; no size limit, as it does not
  // grow.
  ArrayRef<int64_t> perm = getPermutation();
  return gatherConstant(
      adaptor.getInput(), cast<RankedTensorType>(getType()),
      [&](ArrayRef<int64_t> index, ArrayRef<int64_t> inStrides) {
        int64_t src = 0;
        for (size_t d = 0; d < index.size(); ++d)
          src += index[d] * inStrides[perm[d]];
        return src;
      });
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, getOperationName(), adaptor.getOperands());
  if (failed(input))
    return failure();
  if (!adaptor.getShapeAttr())
    return emitOptionalError(loc, "'flash.reshape' op requires a `shape`");
  ArrayRef<int64_t> shape = adaptor.getShape();
  int64_t count = 1;
  for (int64_t size : shape) {
    if (size < 0)
      return emitOptionalError(loc, "'flash.reshape' op shape [", shape,
                               "] has a negative size");
    if (llvm::MulOverflow(count, size, count))
      return emitOptionalError(loc, "'flash.reshape' op shape [", shape,
                               "]: its element count exceeds 64-bit sizes");
  }
  if (count != input->getNumElements())
    return emitOptionalError(loc, "'flash.reshape' op cannot reshape ", *input,
                             " (", input->getNumElements(),
                             " elements) to shape [", shape, "] (", count,
                             " elements)");
  results.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return input.reshape(cast<ShapedType>(getType()));
  return {};
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, getOperationName(), adaptor.getOperands());
  if (failed(input))
    return failure();
  if (!adaptor.getAxisAttr())
    return emitOptionalError(loc, "'flash.flatten' op requires an `axis`");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis > input->getRank())
    return emitOptionalError(loc, "'flash.flatten' op axis ", axis,
                             " is out of range for ", *input);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < input->getRank(); ++d)
    (d < axis ? outer : inner) *= input->getDimSize(d);
  results.push_back(f32Tensor(ctx, {outer, inner}));
  return success();
}

//===----------------------------------------------------------------------===//
// GatherOp, CastOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (adaptor.getOperands().size() != 2)
    return emitOptionalError(loc, "'flash.gather' op expects 2 operands, got ",
                             adaptor.getOperands().size());
  auto data = dyn_cast<RankedTensorType>(adaptor.getData().getType());
  auto indices = dyn_cast<RankedTensorType>(adaptor.getIndices().getType());
  if (!data || !indices)
    return emitOptionalError(loc, "'flash.gather' op expects ranked tensors");
  if (!adaptor.getAxisAttr())
    return emitOptionalError(loc, "'flash.gather' op requires an `axis`");
  int64_t axis = adaptor.getAxis(), rank = data.getRank();
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, "'flash.gather' op axis ", axis,
                             " is out of range for data ", data);
  if (data.getDimSize(axis) == 0 && indices.getNumElements() > 0)
    return emitOptionalError(loc, "'flash.gather' op indexes an empty axis ",
                             axis, " of ", data);
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  results.push_back(f32Tensor(ctx, shape));
  return success();
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, getOperationName(), adaptor.getOperands());
  if (failed(input))
    return failure();
  results.push_back(f32Tensor(ctx, input->getShape()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  ValueRange inputs = adaptor.getOperands();
  if (inputs.empty())
    return emitOptionalError(loc, "'flash.concat' op expects at least one "
                                  "operand");
  if (!adaptor.getAxisAttr())
    return emitOptionalError(loc, "'flash.concat' op requires an `axis`");
  auto first = dyn_cast<RankedTensorType>(inputs[0].getType());
  if (!first)
    return emitOptionalError(loc, "'flash.concat' op expects ranked tensors");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "'flash.concat' op axis ", axis,
                             " is out of range for ", first);
  SmallVector<int64_t> shape(first.getShape());
  for (Value input : inputs.drop_front()) {
    auto type = dyn_cast<RankedTensorType>(input.getType());
    bool agrees = type && type.getRank() == first.getRank();
    for (int64_t d = 0; agrees && d < first.getRank(); ++d)
      agrees = d == axis || type.getDimSize(d) == first.getDimSize(d);
    if (!agrees)
      return emitOptionalError(loc, "'flash.concat' op operand ", type,
                               " does not match ", first,
                               " outside dimension ", axis);
    shape[axis] += type.getDimSize(axis);
  }
  results.push_back(f32Tensor(ctx, shape));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, getOperationName(), adaptor.getOperands());
  if (failed(input))
    return failure();
  if (!adaptor.getStartsAttr() || !adaptor.getSizesAttr() ||
      !adaptor.getStepsAttr())
    return emitOptionalError(loc, "'flash.slice' op requires `starts`, "
                                  "`sizes` and `steps`");
  ArrayRef<int64_t> starts = adaptor.getStarts(), sizes = adaptor.getSizes(),
                    steps = adaptor.getSteps();
  int64_t rank = input->getRank();
  if (static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(sizes.size()) != rank ||
      static_cast<int64_t>(steps.size()) != rank)
    return emitOptionalError(loc, "'flash.slice' op needs one start, size "
                                  "and step per dimension of ",
                             *input);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = input->getDimSize(d);
    bool ok = starts[d] >= 0 && sizes[d] >= 0 && steps[d] >= 1 &&
              (sizes[d] == 0 ? starts[d] <= dim
                             : starts[d] + (sizes[d] - 1) * steps[d] < dim);
    if (!ok)
      return emitOptionalError(loc, "'flash.slice' op dimension ", d,
                               ": start ", starts[d], ", size ", sizes[d],
                               ", step ", steps[d], " is outside ", *input);
  }
  results.push_back(f32Tensor(ctx, sizes));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput(); // every start 0 and step 1 (sizes are checked)
  ArrayRef<int64_t> starts = getStarts(), steps = getSteps();
  return gatherConstant(
      adaptor.getInput(), cast<RankedTensorType>(getType()),
      [&](ArrayRef<int64_t> index, ArrayRef<int64_t> inStrides) {
        int64_t src = 0;
        for (size_t d = 0; d < index.size(); ++d)
          src += (starts[d] + index[d] * steps[d]) * inStrides[d];
        return src;
      });
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(MLIRContext *ctx, std::optional<Location> loc,
                                 StringRef opName, ValueRange operands,
                                 DenseI64ArrayAttr axesAttr, BoolAttr keepdims,
                                 SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, opName, operands);
  if (failed(input))
    return failure();
  if (!axesAttr)
    return emitOptionalError(loc, "'", opName, "' op requires `axes`");
  int64_t rank = input->getRank();
  SmallVector<bool> reduced(rank, false);
  for (int64_t axis : axesAttr.asArrayRef()) {
    if (axis < 0 || axis >= rank || reduced[axis])
      return emitOptionalError(loc, "'", opName, "' op axes [",
                               axesAttr.asArrayRef(),
                               "] must be distinct dimensions of ", *input);
    reduced[axis] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      shape.push_back(input->getDimSize(d));
    else if (keepdims && keepdims.getValue())
      shape.push_back(1);
  }
  results.push_back(f32Tensor(ctx, shape));
  return success();
}

#define FLASH_REDUCE_OP(Op)                                                    \
  LogicalResult Op::inferReturnTypes(MLIRContext *ctx,                         \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    return inferReduce(ctx, loc, getOperationName(), adaptor.getOperands(),    \
                       adaptor.getAxesAttr(), adaptor.getKeepdimsAttr(),       \
                       results);                                               \
  }
FLASH_REDUCE_OP(ReduceSumOp)
FLASH_REDUCE_OP(ReduceMeanOp)
FLASH_REDUCE_OP(ReduceMaxOp)
#undef FLASH_REDUCE_OP

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (getAxis() < 0 || getAxis() >= rank)
    return emitOpError("axis ") << getAxis() << " is out of range for "
                                << getInput().getType();
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 3, 3);
  if (failed(operands))
    return failure();
  auto [input, scale] = *operands;
  auto bias = dyn_cast<RankedTensorType>(adaptor.getBias().getType());
  if (!adaptor.getAxisAttr() || !adaptor.getEpsilonAttr())
    return emitOptionalError(loc, "'flash.layer_norm' op requires `axis` and "
                                  "`epsilon`");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= input.getRank())
    return emitOptionalError(loc, "'flash.layer_norm' op axis ", axis,
                             " is out of range for ", input);
  ArrayRef<int64_t> normalized = input.getShape().drop_front(axis);
  for (RankedTensorType param : {scale, bias})
    if (!param || param.getShape() != normalized)
      return emitOptionalError(loc, "'flash.layer_norm' op scale ", scale,
                               " and bias ", bias,
                               " must have the normalized shape [", normalized,
                               "] of ", input);
  results.push_back(input);
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 5, 5);
  if (failed(operands))
    return failure();
  auto input = operands->first;
  if (input.getRank() < 2)
    return emitOptionalError(loc, "'flash.batch_norm' op expects an N x C x "
                                  "... input, got ",
                             input);
  if (!adaptor.getEpsilonAttr())
    return emitOptionalError(loc, "'flash.batch_norm' op requires `epsilon`");
  for (Value param : adaptor.getOperands().drop_front()) {
    auto type = dyn_cast<RankedTensorType>(param.getType());
    if (!type || type.getRank() != 1 ||
        type.getDimSize(0) != input.getDimSize(1))
      return emitOptionalError(
          loc, "'flash.batch_norm' op parameter ", param.getType(),
          " must be 1-D with one value per channel (", input.getDimSize(1),
          ") of ", input);
  }
  results.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

static LogicalResult inferPool(MLIRContext *ctx, std::optional<Location> loc,
                               StringRef opName, ValueRange operands,
                               DenseI64ArrayAttr kernelAttr,
                               DenseI64ArrayAttr strideAttr,
                               DenseI64ArrayAttr paddingAttr,
                               SmallVectorImpl<Type> &results) {
  auto input = rankedInput(loc, opName, operands);
  if (failed(input))
    return failure();
  if (input->getRank() != 4)
    return emitOptionalError(loc, "'", opName,
                             "' op expects a 4-D NCHW input, got ", *input);
  if (!kernelAttr || !strideAttr || !paddingAttr ||
      kernelAttr.size() != 2 || strideAttr.size() != 2 ||
      paddingAttr.size() != 4)
    return emitOptionalError(loc, "'", opName,
                             "' op requires `kernel` and `stride` of 2 values "
                             "and `padding` of 4");
  ArrayRef<int64_t> kernel = kernelAttr, stride = strideAttr,
                    padding = paddingAttr;
  if (llvm::any_of(kernel, [](int64_t k) { return k < 1; }) ||
      llvm::any_of(stride, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "'", opName,
                             "' op kernel and stride must be positive and "
                             "padding non-negative");
  SmallVector<int64_t> shape{input->getDimSize(0), input->getDimSize(1)};
  for (int i = 0; i < 2; ++i) {
    // A window must start inside the input or the leading padding, and the
    // padding must be smaller than the window (as in PyTorch), so no
    // window is padding only.
    if (padding[i] >= kernel[i] || padding[i + 2] >= kernel[i])
      return emitOptionalError(loc, "'", opName, "' op padding [", padding,
                               "] must be smaller than the kernel [", kernel,
                               "]");
    int64_t padded = input->getDimSize(2 + i) + padding[i] + padding[i + 2];
    if (padded < kernel[i])
      return emitOptionalError(loc, "'", opName, "' op kernel [", kernel,
                               "] does not fit the padded input ", *input);
    shape.push_back((padded - kernel[i]) / stride[i] + 1);
  }
  results.push_back(f32Tensor(ctx, shape));
  return success();
}

#define FLASH_POOL_OP(Op)                                                      \
  LogicalResult Op::inferReturnTypes(MLIRContext *ctx,                         \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    return inferPool(ctx, loc, getOperationName(), adaptor.getOperands(),      \
                     adaptor.getKernelAttr(), adaptor.getStrideAttr(),         \
                     adaptor.getPaddingAttr(), results);                       \
  }
FLASH_POOL_OP(MaxPool2DOp)
FLASH_POOL_OP(AvgPool2DOp)
#undef FLASH_POOL_OP

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto operands =
      rankedOperands(loc, getOperationName(), adaptor.getOperands(), 3, 3);
  if (failed(operands))
    return failure();
  auto [q, k] = *operands;
  auto v = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  int64_t rank = q.getRank();
  bool valid = v && rank >= 2 && k.getRank() == rank && v.getRank() == rank &&
               q.getShape().drop_back(2) == k.getShape().drop_back(2) &&
               q.getShape().drop_back(2) == v.getShape().drop_back(2) &&
               q.getDimSize(rank - 1) == k.getDimSize(rank - 1) &&
               k.getDimSize(rank - 2) == v.getDimSize(rank - 2);
  if (!valid)
    return emitOptionalError(loc,
                             "'flash.attention' op expects query ... x Sq x D, "
                             "key ... x Sk x D and value ... x Sk x Dv with "
                             "equal leading dimensions, got ",
                             q, ", ", k, " and ", v);
  SmallVector<int64_t> shape(q.getShape());
  shape.back() = v.getDimSize(rank - 1);
  results.push_back(f32Tensor(ctx, shape));
  return success();
}

#define GET_OP_CLASSES
#include "flash/Dialect/Flash/IR/FlashOps.cpp.inc"
