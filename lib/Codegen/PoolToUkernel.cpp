//===- PoolToUkernel.cpp - Max / sum pooling -> ukernel calls -------------===//
//
// Matches the pooling generic of FlashToLinalg (Convolution.cpp: loops n,
// c, oh, kh, kw, ow) after bufferization, with the padded copy of its input
// and the identity fill of its output, and calls the runtime's pooling
// ukernel (Ukernels.h, Pool2D) for all of it: the padding and the init
// fill are not materialized.
//
//===----------------------------------------------------------------------===//
#include "Epilogue.h"
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"

#include <limits>

namespace mlir::flash {
#define GEN_PASS_DEF_POOLTOUKERNEL
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;
using namespace mlir::flash;

namespace {
constexpr StringLiteral kPoolUkernel = "flash_pool2d_f32";

/// flash_pool2d_f32(input, out, kh, kw, sh, sw, padTop, padLeft, max)
/// (Entry.cpp).
func::FuncOp poolUkernel(ModuleOp module) {
  OpBuilder b(module.getContext());
  MLIRContext *ctx = module.getContext();
  MemRefType image = dynamicStridedType(ctx, 4);
  SmallVector<Type> params = {image, image};
  params.append(7, b.getI64Type());
  return mlir::flash::getOrDeclareUkernel(module, kPoolUkernel, params);
}

/// A pooling generic, with what it reads and writes.
struct Pool {
  linalg::GenericOp generic;
  Value input, window, output;
  bool max = true;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1;
};

/// The stride `s` of `expr` = dim(outer) * s + dim(inner), or nothing.
std::optional<int64_t> strideOf(AffineExpr expr, AffineExpr outer,
                                AffineExpr inner) {
  auto dim = cast<AffineDimExpr>(outer).getPosition();
  std::optional<int64_t> s = coefficient(expr, dim, 6);
  if (!s || *s < 1 || expr != outer * *s + inner)
    return std::nullopt;
  return s;
}

std::optional<Pool> matchPool(linalg::GenericOp op) {
  using utils::IteratorType;
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 6)
    return std::nullopt;
  const IteratorType P = IteratorType::parallel, R = IteratorType::reduction;
  if (op.getIteratorTypesArray() != SmallVector<IteratorType>{P, P, P, R, R, P})
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *ctx = op.getContext();
  AffineExpr n, c, oh, kh, kw, ow;
  bindDims(ctx, n, c, oh, kh, kw, ow);
  AffineMap in = maps[0];
  if (in.getNumResults() != 4 || in.getResult(0) != n || in.getResult(1) != c)
    return std::nullopt;
  std::optional<int64_t> sh = strideOf(in.getResult(2), oh, kh);
  std::optional<int64_t> sw = strideOf(in.getResult(3), ow, kw);
  if (!sh || !sw || maps[1] != AffineMap::get(6, 0, {kh, kw}, ctx) ||
      maps[2] != AffineMap::get(6, 0, {n, c, oh, ow}, ctx))
    return std::nullopt;
  // Body: max(out, in) or out + in.
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 2)
    return std::nullopt;
  Operation *combine = &body.front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1 || yield.getOperand(0) != combine->getResult(0) ||
      !isa<arith::MaximumFOp, arith::AddFOp>(combine))
    return std::nullopt;
  Value acc = body.getArgument(2), x = body.getArgument(0);
  if (!((combine->getOperand(0) == acc && combine->getOperand(1) == x) ||
        (combine->getOperand(0) == x && combine->getOperand(1) == acc)))
    return std::nullopt;
  Pool p;
  p.generic = op;
  p.max = isa<arith::MaximumFOp>(combine);
  p.input = op.getDpsInputs()[0];
  p.window = op.getDpsInputs()[1];
  p.output = op.getDpsInits()[0];
  if (!unitInnerStride(p.input, 4) || !unitInnerStride(p.output, 4))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  p.kh = ranges[3], p.kw = ranges[4], p.sh = *sh, p.sw = *sw;
  return p;
}

/// The fill of the output with the identity (-inf or 0) right before the
/// generic (allocations in between aside): the ukernel then writes the
/// output instead of combining into it.
linalg::FillOp initOf(const Pool &p) {
  Operation *prev = p.generic->getPrevNode();
  while (prev && isa<memref::AllocOp>(prev))
    prev = prev->getPrevNode();
  auto fill = dyn_cast_or_null<linalg::FillOp>(prev);
  if (!fill || !fill.hasPureBufferSemantics() ||
      fill.getOutputs()[0] != p.output)
    return nullptr;
  APFloat value(0.0f);
  if (!matchPattern(fill.getInputs()[0], m_ConstantFloat(&value)))
    return nullptr;
  bool identity = p.max ? value.isInfinity() && value.isNegative()
                        : value.isZero();
  return identity ? fill : nullptr;
}

struct PoolToUkernel : mlir::flash::impl::PoolToUkernelBase<PoolToUkernel> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::GenericOp> generics;
    module.walk([&](linalg::GenericOp op) { generics.push_back(op); });
    for (linalg::GenericOp op : generics) {
      std::optional<Pool> p = matchPool(op);
      if (!p)
        continue;
      linalg::FillOp init = initOf(*p);
      if (!init)
        continue; // it combines into what the output holds: generated loops
      rewrite(module, *p, init);
    }
  }

  void rewrite(ModuleOp module, Pool &p, linalg::FillOp init) {
    Location loc = p.generic.getLoc();
    double identity = p.max ? -std::numeric_limits<double>::infinity() : 0.0;
    std::optional<Padding> padding = paddingOf(p.input, p.generic, identity);
    // The call writes output rows while later ones still read input rows:
    // not one buffer. Bufferization may give a stride-1 pool's output its
    // unpadded input's buffer (dead once copied into the padded one; the
    // fuzzer's relu + 3x3 pool over 5 x 1): the call then reads the
    // padded copy, and with no copy to read it stays a loop nest.
    if (padding && rootOf(padding->source) == rootOf(p.output))
      padding.reset();
    Value input = padding ? padding->source : p.input;
    if (rootOf(input) == rootOf(p.output))
      return;
    OpBuilder b(p.generic);
    MLIRContext *ctx = b.getContext();
    auto cast = [&](Value v) {
      return memref::CastOp::create(b, loc, dynamicStridedType(ctx, 4), v)
          .getResult();
    };
    auto i64 = [&](int64_t v) {
      return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v)
          .getResult();
    };
    SmallVector<Value> args = {cast(input), cast(p.output), i64(p.kh),
                               i64(p.kw), i64(p.sh), i64(p.sw),
                               i64(padding ? padding->top : 0),
                               i64(padding ? padding->left : 0),
                               i64(p.max ? 1 : 0)};
    func::CallOp::create(b, loc, poolUkernel(module), args);
    p.generic->erase();
    init->erase();
    // The window operand only carried the extent.
    if (auto alloc = p.window.getDefiningOp<memref::AllocOp>()) {
      SmallVector<Operation *> users(alloc->getUsers().begin(),
                                     alloc->getUsers().end());
      if (llvm::all_of(users, [](Operation *u) {
            return isa<memref::DeallocOp>(u);
          })) {
        for (Operation *u : users)
          u->erase();
        alloc->erase();
      }
    }
    if (padding)
      for (Operation *dead : padding->ops)
        if (dead->use_empty())
          dead->erase();
  }
};
} // namespace
