//===- DepthwiseToUkernel.cpp - Depthwise convolutions -> ukernel calls ---===//
//
// Matches the grouped-convolution generic of FlashToLinalg (Convolution.cpp)
// with one input channel per group, after bufferization, together with the
// zero padding before it, the bias or zeros it starts from and a residual /
// clamp epilogue after it, and calls the runtime's depthwise ukernel
// (Ukernels.h, DepthwiseConv) for all of it.
//
//===----------------------------------------------------------------------===//
#include "Epilogue.h"
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::flash {
#define GEN_PASS_DEF_DEPTHWISETOUKERNEL
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;
using namespace mlir::flash;

namespace {
constexpr StringLiteral kDepthwiseUkernel = "flash_depthwise_conv2d_f32";

/// flash_depthwise_conv2d_f32(input, filter, bias, residual, out, kh, kw,
/// sh, sw, dh, dw, padTop, padLeft, terms, lo, hi) (Entry.cpp).
func::FuncOp depthwiseUkernel(ModuleOp module) {
  OpBuilder b(module.getContext());
  MLIRContext *ctx = module.getContext();
  MemRefType image = dynamicStridedType(ctx, 4), vector = dynamicStridedType(ctx, 1);
  SmallVector<Type> params = {image, vector, vector, image, image};
  params.append(9, b.getI64Type());
  params.append({b.getF32Type(), b.getF32Type()});
  return mlir::flash::getOrDeclareUkernel(module, kDepthwiseUkernel, params);
}

/// A depthwise convolution generic, with what it reads and writes.
struct Depthwise {
  linalg::GenericOp conv;
  Value input, filter, output; ///< input/output: the 4-D roots
  int64_t kh, kw, sh, sw, dh, dw;
};


std::optional<Depthwise> matchDepthwise(linalg::GenericOp op) {
  using utils::IteratorType;
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 8)
    return std::nullopt;
  SmallVector<IteratorType> iterators = op.getIteratorTypesArray();
  const IteratorType P = IteratorType::parallel, R = IteratorType::reduction;
  if (iterators != SmallVector<IteratorType>{P, P, P, R, P, R, R, P})
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges[3] != 1) // one input channel per group
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *ctx = op.getContext();
  AffineMap in = maps[0];
  if (in.getNumResults() != 5)
    return std::nullopt;
  Depthwise d;
  auto coef = [&](unsigned result, unsigned dim) {
    return coefficient(in.getResult(result), dim, 8);
  };
  auto sh = coef(3, 4), dh = coef(3, 5), sw = coef(4, 7), dw = coef(4, 6);
  if (!sh || !dh || !sw || !dw || *sh < 1 || *sw < 1 || *dh < 1 || *dw < 1)
    return std::nullopt;
  AffineExpr n, g, f, c, oh, kh, kw, ow;
  bindDims(ctx, n, g, f, c, oh, kh, kw, ow);
  if (in != AffineMap::get(8, 0,
                           {n, g, c, oh * *sh + kh * *dh, ow * *sw + kw * *dw},
                           ctx) ||
      maps[1] != AffineMap::get(8, 0, {g, f, c, kh, kw}, ctx) ||
      maps[2] != AffineMap::get(8, 0, {n, g, f, oh, ow}, ctx))
    return std::nullopt;
  // Body: out + in * filter.
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                 : nullptr;
  if (!add || body.getOperations().size() != 3)
    return std::nullopt;
  Value acc = body.getArgument(2), product = add.getRhs();
  if (add.getLhs() != acc)
    product = add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || (add.getLhs() != acc && add.getRhs() != acc) ||
      !((mul.getLhs() == body.getArgument(0) &&
         mul.getRhs() == body.getArgument(1)) ||
        (mul.getLhs() == body.getArgument(1) &&
         mul.getRhs() == body.getArgument(0))))
    return std::nullopt;
  d.conv = op;
  d.input = rootOf(op.getDpsInputs()[0]);
  d.filter = op.getDpsInputs()[1];
  d.output = rootOf(op.getDpsInits()[0]);
  if (!unitInnerStride(d.input, 4) || !isDenseStatic(d.output.getType()) ||
      cast<MemRefType>(d.output.getType()).getRank() != 4 ||
      !isDenseStatic(d.filter.getType()))
    return std::nullopt;
  d.kh = ranges[5], d.kw = ranges[6];
  d.sh = *sh, d.sw = *sw, d.dh = *dh, d.dw = *dw;
  return d;
}

/// What the output starts from: zeros (no bias) or a bias broadcast over
/// N, H, W; the op that writes it is the last before the convolution,
/// views aside.
std::optional<std::pair<Operation *, Value>> initOf(const Depthwise &d) {
  Operation *prev = d.conv->getPrevNode();
  while (prev && isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(prev))
    prev = prev->getPrevNode();
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(prev)) {
    if (fill.hasPureBufferSemantics() &&
        rootOf(fill.getOutputs()[0]) == d.output &&
        matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
      return std::make_pair(prev, Value());
    return std::nullopt;
  }
  auto broadcast = dyn_cast_or_null<linalg::BroadcastOp>(prev);
  if (!broadcast || !broadcast.hasPureBufferSemantics() ||
      rootOf(broadcast.getInit()) != d.output ||
      broadcast.getDimensions() != ArrayRef<int64_t>{0, 2, 3})
    return std::nullopt;
  auto biasType = cast<MemRefType>(broadcast.getInput().getType());
  if (biasType.getRank() != 1 || !biasType.getElementType().isF32())
    return std::nullopt;
  return std::make_pair(prev, broadcast.getInput());
}

struct DepthwiseToUkernel
    : mlir::flash::impl::DepthwiseToUkernelBase<DepthwiseToUkernel> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::GenericOp> generics;
    erased.clear();
    module.walk([&](linalg::GenericOp op) { generics.push_back(op); });
    for (linalg::GenericOp op : generics) {
      if (erased.contains(op)) // an earlier rewrite's epilogue or init
        continue;
      std::optional<Depthwise> d = matchDepthwise(op);
      if (!d)
        continue;
      auto init = initOf(*d);
      if (!init)
        continue; // it adds to what the output holds: generated loops
      rewrite(module, *d, *init);
    }
  }

  void rewrite(ModuleOp module, Depthwise &d,
               std::pair<Operation *, Value> init) {
    Location loc = d.conv.getLoc();
    std::optional<Padding> padding = paddingOf(d.input, d.conv);
    Value input = padding ? padding->source : d.input;
    std::optional<Epilogue> epi =
        epilogue ? matchEpilogue(d.conv, d.output) : std::nullopt;
    if (epi && (epi->rowBias || epi->colBias || rootOf(epi->out) == rootOf(input)))
      epi.reset();
    OpBuilder b(epi ? epi->generic.getOperation() : d.conv.getOperation());
    MLIRContext *ctx = b.getContext();
    auto cast = [&](Value v, int64_t rank) {
      return memref::CastOp::create(b, loc, dynamicStridedType(ctx, rank), v)
          .getResult();
    };
    auto filterType = ::llvm::cast<MemRefType>(d.filter.getType());
    ReassociationIndices all;
    for (int64_t i = 0; i < filterType.getRank(); ++i)
      all.push_back(i);
    Value filter = cast(
        memref::CollapseShapeOp::create(b, loc, d.filter,
                                        ArrayRef<ReassociationIndices>{all}),
        1);
    Value out = cast(epi ? inShapeOfC(b, loc, epi->out, *epi) : d.output, 4);
    Value residual = epi && epi->residual
                         ? cast(inShapeOfC(b, loc, epi->residual, *epi), 4)
                         : out;
    Value bias = init.second ? cast(init.second, 1) : filter;
    int64_t terms = (init.second ? 1 : 0) | (epi && epi->residual ? 4 : 0) |
                    (epi ? epi->activationTerm : 0);
    auto i64 = [&](int64_t v) {
      return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v)
          .getResult();
    };
    auto f32 = [&](float v) {
      return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v))
          .getResult();
    };
    float lo = epi ? epi->lo : -std::numeric_limits<float>::infinity();
    float hi = epi ? epi->hi : std::numeric_limits<float>::infinity();
    SmallVector<Value> args = {cast(input, 4), filter, bias, residual, out,
                               i64(d.kh), i64(d.kw), i64(d.sh), i64(d.sw),
                               i64(d.dh), i64(d.dw),
                               i64(padding ? padding->top : 0),
                               i64(padding ? padding->left : 0), i64(terms),
                               f32(lo), f32(hi)};
    func::CallOp::create(b, loc, depthwiseUkernel(module), args);
    Value convInput = d.conv.getDpsInputs()[0];
    if (epi)
      erase(epi->generic);
    erase(d.conv);
    erase(init.first);
    // The views of the padded buffer the convolution read, then the rest.
    while (convInput.use_empty() && convInput != d.input) {
      Operation *view = convInput.getDefiningOp();
      convInput = view->getOperand(0);
      erase(view);
    }
    if (padding)
      for (Operation *dead : padding->ops)
        if (dead->use_empty())
          erase(dead);
  }

  /// Erases `op`, remembered so the loop over the generics collected before
  /// skips it (it read freed memory: a fuzzed depthwise convolution with a
  /// ReLU6 epilogue, whose generics the rewrite erased, came later).
  void erase(Operation *op) {
    erased.insert(op);
    op->erase();
  }

  llvm::SmallPtrSet<Operation *, 16> erased;
};
} // namespace
