//===- Epilogue.h - Elementwise epilogues a ukernel call absorbs -*- C++ -*-===//
//
// Shared by the ukernel rewrites (MatmulToUkernel, DepthwiseToUkernel): the
// elementwise linalg.generic right after a product or convolution on
// memrefs whose body is bias adds, a residual add and a clamp, which the
// ukernel applies while the output is still in registers or L1
// (SgemmEpilogue, DepthwiseConv in Ukernels.h); and the zero padding before
// a convolution, which its ukernel absorbs by reading the unpadded input.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_CODEGEN_EPILOGUE_H
#define FLASH_LIB_CODEGEN_EPILOGUE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <limits>
#include <optional>

namespace mlir::flash {

/// The buffer a chain of reshapes (collapse/expand_shape) views: the same
/// elements in the same order.
Value rootOf(Value v);

/// The private declaration of ukernel `name` taking `params` (with the C
/// interface the runtime defines), added at the module's start if missing.
func::FuncOp getOrDeclareUkernel(ModuleOp module, StringRef name,
                                 ArrayRef<Type> params);

/// The coefficient of dim `dim` in `expr` (a sum of dims times constants),
/// or nothing when that is not constant.
std::optional<int64_t> coefficient(AffineExpr expr, unsigned dim,
                                   unsigned numDims);

/// A static, identity-layout f32 memref.
bool isDenseStatic(Type type);

/// A static f32 memref of `rank` whose innermost stride is 1 (what the
/// convolution ukernels read).
bool unitInnerStride(Value v, int64_t rank);

/// memref<?x...x?xf32, strided<[?, ...], offset: ?>> of `rank`: one callee
/// type for every shape and layout (the ukernels' argument type).
MemRefType dynamicStridedType(MLIRContext *ctx, int64_t rank);

/// What the ukernel applies after a product (SgemmEpilogue), and the
/// generic it replaces. Tensors of the generic's shape (residual, out) are
/// reshaped to C's shape with `groups` (the generic's dims per C dim).
struct Epilogue {
  linalg::GenericOp generic;
  SmallVector<ReassociationIndices> groups;
  Value rowBias, colBias, residual, out;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  /// The activation after the clamp, as the ukernel calls' `terms` bit
  /// (Ukernels.h's Activation): kHardSwishTerm or 0.
  int64_t activationTerm = 0;
};

constexpr int64_t kHardSwishTerm = 8;

/// The generic's dims grouped per dim of C's shape: consecutive dims whose
/// sizes multiply to each of C's (trailing unit dims join the last group),
/// or nothing.
std::optional<SmallVector<ReassociationIndices>>
groupDims(ArrayRef<int64_t> domain, ArrayRef<int64_t> cShape);

/// The elementwise generic right after `op` (views in between) that reads
/// its result `c` and is a bias / residual / clamp epilogue a ukernel can
/// apply: adds of vectors along C's rows or columns (the two innermost
/// dims of `c`), at most one residual add of a tensor of the result's
/// shape, then a clamp, then at most a HardSwish (as flash.hardswish
/// lowers); nothing otherwise.
std::optional<Epilogue> matchEpilogue(linalg::LinalgOp op, Value c);

/// `v` (the generic's shape, dense) viewed in C's shape.
Value inShapeOfC(OpBuilder &b, Location loc, Value v, const Epilogue &e);

/// The zero padding of a buffer (as tensor.pad bufferizes), which a
/// convolution ukernel absorbs by reading `source` with the offsets: `padded` is an allocation filled with
/// zeros (linalg.map yielding zero, or linalg.fill) with `source` copied
/// into its interior through a unit-stride subview; nothing else uses it.
struct Padding {
  Value source;
  int64_t top = 0, left = 0;
  SmallVector<Operation *> ops; ///< what goes when the padding is absorbed
};
/// `fill` is the padding value (0 for a convolution, -inf for max pooling).
std::optional<Padding> paddingOf(Value padded, Operation *consumer,
                                 double fill = 0.0);

} // namespace mlir::flash

#endif // FLASH_LIB_CODEGEN_EPILOGUE_H
