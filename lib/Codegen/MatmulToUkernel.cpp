//===- MatmulToUkernel.cpp - f32 contractions -> sgemm ukernel calls ------===//
//
// Matches any Linalg contraction on f32 memrefs that is a row-major matrix
// product, possibly batched (C[b] += A[b] * B[b], where A or B may be shared
// by every batch, as after im2col): linalg.matmul, linalg.batch_matmul and
// the equivalent linalg.generic. Each becomes a call of the sgemm ukernel
// (one per batch element, in an scf.for).
//
//===----------------------------------------------------------------------===//
#include "Epilogue.h"
#include "flash/Codegen/Passes.h"
#include "flash/Dialect/Flash/IR/Tuning.h"
#include "flash/Runtime/Ukernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <functional>
#include <limits>

namespace mlir::flash {
#define GEN_PASS_DEF_MATMULTOUKERNEL
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;
using namespace mlir::flash;

namespace {
bool touches(Operation *op, Value root);
bool isView(Operation *op);

constexpr StringLiteral kMatmulUkernel = "flash_matmul_f32";
/// The same with A, B or both in compiled panels (constant operands;
/// Entry.cpp).
constexpr StringLiteral kPanelsUkernel = "flash_matmul_panels_f32";

/// flash_matmul_f32(A, B, C, accumulate, config x 6), or the panels entry,
/// which takes one more i64: which operands are in panels.
func::FuncOp getOrDeclareUkernel(ModuleOp module, bool panels = false) {
  StringRef name = panels ? kPanelsUkernel : kMatmulUkernel;
  if (auto func = module.lookupSymbol<func::FuncOp>(name))
    return func;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  MemRefType type = dynamicStridedType(module.getContext(), 2);
  SmallVector<Type> params = {type, type, type, b.getI1Type()};
  params.append(panels ? 7 : 6, b.getI64Type());
  auto func = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(params, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

constexpr StringLiteral kEpilogueUkernel = "flash_matmul_epilogue_f32";

/// The parameters of the entries that take an epilogue: (A, `b`, C,
/// accumulate, config x 6, panels, rowBias, colBias, residual, out, terms,
/// lo, hi), then `extra` i64s.
func::FuncOp declareEpilogueEntry(ModuleOp module, StringRef name, Type bType,
                                  unsigned extra) {
  if (auto func = module.lookupSymbol<func::FuncOp>(name))
    return func;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  MLIRContext *ctx = module.getContext();
  MemRefType matrix = dynamicStridedType(ctx, 2);
  int64_t dyn = ShapedType::kDynamic;
  auto vector = MemRefType::get({dyn}, Float32Type::get(ctx),
                                StridedLayoutAttr::get(ctx, dyn, {dyn}));
  SmallVector<Type> params = {matrix, bType, matrix, b.getI1Type()};
  params.append(7, b.getI64Type());
  params.append({vector, vector, matrix, matrix, b.getI64Type(),
                 b.getF32Type(), b.getF32Type()});
  params.append(extra, b.getI64Type());
  auto func = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(params, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

/// flash_matmul_epilogue_f32(A, B, C, accumulate, config x 6, panels,
/// rowBias, colBias, residual, out, terms, lo, hi) (Entry.cpp).
func::FuncOp getOrDeclareEpilogueUkernel(ModuleOp module) {
  return declareEpilogueEntry(module, kEpilogueUkernel,
                              dynamicStridedType(module.getContext(), 2), 0);
}

/// How a contraction maps onto C[b] += A[b] * B[b].
struct MatmulForm {
  std::optional<unsigned> batch; ///< batch loop, if any
  bool batchedA = false, batchedB = false;
  /// A batched A repeats every `aRepeat` batch elements (element b reads
  /// A[b mod aRepeat]: a grouped convolution over several images, the
  /// filter of group b mod G); 0 when it does not.
  int64_t aRepeat = 0;
  int64_t flops = 0;
};

/// True if `map` is exactly (dims...) in this order.
bool isDims(AffineMap map, ArrayRef<unsigned> dims) {
  if (map.getNumResults() != dims.size())
    return false;
  for (auto [expr, dim] : llvm::zip(map.getResults(), dims))
    if (expr != getAffineDimExpr(dim, map.getContext()))
      return false;
  return true;
}

/// For A's map (b mod R, m, k): R, else 0.
int64_t repeatOfA(AffineMap aMap, unsigned b, unsigned m, unsigned k) {
  if (aMap.getNumResults() != 3 || aMap.getResult(1) != getAffineDimExpr(m, aMap.getContext()) ||
      aMap.getResult(2) != getAffineDimExpr(k, aMap.getContext()))
    return 0;
  auto mod = dyn_cast<AffineBinaryOpExpr>(aMap.getResult(0));
  if (!mod || mod.getKind() != AffineExprKind::Mod ||
      mod.getLHS() != getAffineDimExpr(b, aMap.getContext()))
    return 0;
  auto repeat = dyn_cast<AffineConstantExpr>(mod.getRHS());
  return repeat && repeat.getValue() > 0 ? repeat.getValue() : 0;
}

/// A multiply-accumulate body, C += A * B (what isaContractionOpInterface
/// checks, for the one form it refuses: A's map not a projection).
bool isMultiplyAdd(linalg::LinalgOp op) {
  return op->getNumRegions() == 1 && op->getRegion(0).hasOneBlock() &&
         linalg::detail::isContractionBody(
             op->getRegion(0).front(), [](Operation *first, Operation *second) {
               return isa<arith::MulFOp>(first) && isa<arith::AddFOp>(second);
             });
}

std::optional<MatmulForm> matchMatmul(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  // A's map may be (b mod R, m, k), which is no contraction to Linalg;
  // the rest is checked below as for any batch.
  bool contraction = linalg::isaContractionOpInterface(op);
  if (!contraction && (!isa<linalg::GenericOp>(op) || !isMultiplyAdd(op)))
    return std::nullopt;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
      return std::nullopt;
  }
  // Classify the loops ourselves: inferContractionDims calls a batch loop
  // that A does not index an "n" loop, which is not what the ukernel needs.
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap cMap = maps[2];
  if (reductions.size() != 1 || !cMap.isProjectedPermutation() ||
      cMap.getNumResults() < 2 || cMap.getNumResults() > 3)
    return std::nullopt;
  unsigned k = reductions[0];
  auto dimAt = [&](unsigned i) {
    return cast<AffineDimExpr>(cMap.getResult(i)).getPosition();
  };
  MatmulForm form;
  unsigned first = cMap.getNumResults() - 2;
  unsigned m = dimAt(first), n = dimAt(first + 1);
  if (first == 1) {
    unsigned b = dimAt(0);
    form.batch = b;
    form.aRepeat = contraction ? 0 : repeatOfA(maps[0], b, m, k);
    form.batchedA = isDims(maps[0], {b, m, k}) || form.aRepeat;
    form.batchedB = isDims(maps[1], {b, k, n});
    if (!contraction && !form.aRepeat)
      return std::nullopt;
    if ((!form.batchedA && !isDims(maps[0], {m, k})) ||
        (!form.batchedB && !isDims(maps[1], {k, n})))
      return std::nullopt;
  } else if (!contraction || !isDims(maps[0], {m, k}) ||
             !isDims(maps[1], {k, n})) {
    return std::nullopt;
  }
  form.flops = 2;
  for (int64_t r : op.getStaticLoopRanges())
    form.flops *= r;
  return form;
}

/// The 2-D matrix of `memref` for batch index `iv` (rank-reducing subview),
/// or `memref` itself when it is not batched; cast to the callee's type.
Value matrixFor(OpBuilder &b, Location loc, Value memref, Value iv,
                bool batched) {
  MemRefType target = dynamicStridedType(b.getContext(), 2);
  if (!batched)
    return memref::CastOp::create(b, loc, target, memref);
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<OpFoldResult> offsets = {iv, b.getIndexAttr(0),
                                       b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                     b.getIndexAttr(type.getDimSize(1)),
                                     b.getIndexAttr(type.getDimSize(2))};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  auto reduced = memref::SubViewOp::inferRankReducedResultType(
      {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes, strides);
  Value view = memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced),
                                         memref, offsets, sizes, strides);
  return memref::CastOp::create(b, loc, target, view);
}

/// For an operand that is a constant global (through a collapse of its
/// shape, as a convolution's filter is), a constant global holding it in
/// the ukernel's panels, made once per global; null otherwise. B (K x N):
/// ceil(N/16) panels of K x 16 (SgemmConfig::bPanels); A (M x K): ceil(M/6)
/// panels of K x 6 (aPanels); zero-padded. Why: every call packs A, and B
/// unless it reads B in place with its row stride; weights and filters are
/// constant, so they are packed once, here, as ONNX Runtime's MLAS prepacks
/// them when a session is created.
/// The constant global a 2-D f32 operand reads (through a collapse of its
/// shape), with its value, when that is not a splat (a splat's panels
/// would be the only copy laid out at full size: the global itself stays
/// one value until LLVM's data).
std::optional<std::pair<memref::GlobalOp, DenseElementsAttr>>
constantOperand(ModuleOp module, Value operand) {
  Value source = operand;
  if (auto collapse = source.getDefiningOp<memref::CollapseShapeOp>())
    source = collapse.getSrc();
  auto get = source.getDefiningOp<memref::GetGlobalOp>();
  auto type = cast<MemRefType>(operand.getType());
  if (!get || type.getRank() != 2 || !type.getElementType().isF32() ||
      !type.getLayout().isIdentity())
    return std::nullopt;
  auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
  if (!global || !global.getConstant() ||
      !cast<MemRefType>(source.getType()).getLayout().isIdentity())
    return std::nullopt;
  auto init = dyn_cast_or_null<DenseElementsAttr>(global.getInitialValueAttr());
  if (!init || init.isSplat())
    return std::nullopt;
  return std::make_pair(global, init);
}

/// A new private constant global `name` of `rows` x `width` floats, unless
/// the module has it; a read of it at `b`.
Value panelGlobal(OpBuilder &b, Location loc, ModuleOp module,
                  memref::GlobalOp like, StringRef name, int64_t rows,
                  int64_t width, const std::function<void(float *)> &fill) {
  auto panelType = MemRefType::get({rows, width}, b.getF32Type());
  if (!module.lookupSymbol<memref::GlobalOp>(name)) {
    std::vector<float> values(rows * width, 0.0f);
    fill(values.data());
    OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
    auto tensorType = RankedTensorType::get({rows, width}, b.getF32Type());
    memref::GlobalOp::create(
        top, like.getLoc(), name, top.getStringAttr("private"), panelType,
        DenseElementsAttr::get(tensorType, ArrayRef<float>(values)),
        /*constant=*/true, top.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(b, loc, panelType, name);
}

Value constantPanelsOf(OpBuilder &b, Location loc, ModuleOp module,
                       Value operand, bool isA,
                       llvm::SetVector<StringAttr> &packed) {
  auto constant = constantOperand(module, operand);
  if (!constant)
    return nullptr;
  auto [global, init] = *constant;
  auto type = cast<MemRefType>(operand.getType());
  // Panels of `w` along `across` (N for B, M for A), `depth` (K) deep.
  int64_t w = isA ? ::flash::runtime::kSgemmPanelRows
                  : ::flash::runtime::kSgemmPanelColumns;
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t across = isA ? rows : cols, depth = isA ? cols : rows;
  int64_t panels = (across + w - 1) / w;
  std::string name =
      (global.getSymName() + (isA ? "_a_panels" : "_b_panels")).str();
  Value read = panelGlobal(b, loc, module, global, name, panels * depth, w,
                           [&](float *out) {
    int64_t index = 0;
    for (float v : init.getValues<float>()) {
      int64_t r = index / cols, c = index % cols;
      int64_t x = isA ? r : c, p = isA ? c : r; // across, depth
      out[(x / w) * depth * w + p * w + x % w] = v;
      ++index;
    }
  });
  packed.insert(global.getSymNameAttr());
  return read;
}

/// For a convolution's constant filter `a` ([O, C*9]) whose product with
/// the patches of `gather` runs by Winograd F(4x4, 3x3) (a 3x3 window with
/// unit strides and dilations over one image of [N, C, H, W], and
/// convUsesWinograd for its sizes unless `always`), a constant global holding the
/// transformed filter in the form winogradConv3x3 reads
/// (winogradTransformFilter); null otherwise.
Value winogradFilterOf(OpBuilder &b, Location loc, ModuleOp module, Value a,
                       linalg::GenericOp gather, bool always,
                       llvm::SetVector<StringAttr> &packed) {
  ArrayRef<int64_t> window =
      gather->getAttrOfType<DenseI64ArrayAttr>(kIm2colAttr).asArrayRef();
  auto input = cast<MemRefType>(gather.getDpsInputs()[0].getType());
  auto patches = cast<MemRefType>(gather.getDpsInits()[0].getType());
  if (window.size() != 6 ||
      !::flash::runtime::convWindowTakesWinograd(window[0], window[1],
                                                 window[2], window[3],
                                                 window[4], window[5]) ||
      input.getRank() != 4 || patches.getRank() != 4)
    return nullptr;
  auto type = cast<MemRefType>(a.getType());
  int64_t o = type.getDimSize(0), c = input.getDimSize(1);
  if (type.getDimSize(1) != c * 9 ||
      !(always || ::flash::runtime::convUsesWinograd(c, o, patches.getDimSize(2),
                                                     patches.getDimSize(3))))
    return nullptr;
  auto constant = constantOperand(module, a);
  if (!constant)
    return nullptr;
  auto [global, init] = *constant;
  std::string name = (global.getSymName() + "_winograd").str();
  Value read = panelGlobal(
      b, loc, module, global, name,
      ::flash::runtime::winogradFilterFloats(o, c) /
          ::flash::runtime::kSgemmPanelRows,
      ::flash::runtime::kSgemmPanelRows, [&](float *out) {
        SmallVector<float> filter(init.getValues<float>());
        ::flash::runtime::winogradTransformFilter(filter.data(), o, c, out);
      });
  packed.insert(global.getSymNameAttr());
  return read;
}

/// The zero fill of `c` right before `op`, if any: the ukernel can then
/// write C instead of adding to it, and the fill goes away.
linalg::FillOp zeroFillBefore(Operation *op, Value c) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  if (!fill || !fill.hasPureBufferSemantics() || fill.getOutputs()[0] != c ||
      !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return nullptr;
  return fill;
}


/// How C starts before the product, when the epilogue can take that over:
/// zeros, or a 1-D bias broadcast along C's rows or columns (a
/// convolution's bias). The op that writes it is the last one before the
/// product (views aside) with C's buffer as its output.
struct CInit {
  Operation *op = nullptr;
  Value bias;       ///< null: zeros
  bool rows = true; ///< the bias runs along C's rows (one per row)
};

std::optional<CInit> initOf(linalg::LinalgOp product, Value c) {
  // Ops that do not touch C's buffer (an im2col gather, the allocation of
  // its patches) may sit between.
  Operation *prev = product->getPrevNode();
  while (prev && (isView(prev) || !touches(prev, rootOf(c))))
    prev = prev->getPrevNode();
  if (!prev)
    return std::nullopt;
  auto cType = cast<MemRefType>(c.getType());
  if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
    if (!fill.hasPureBufferSemantics() ||
        rootOf(fill.getOutputs()[0]) != rootOf(c) ||
        !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
      return std::nullopt;
    return CInit{prev, Value(), true};
  }
  auto broadcast = dyn_cast<linalg::BroadcastOp>(prev);
  if (!broadcast || !broadcast.hasPureBufferSemantics() ||
      rootOf(broadcast.getInit()) != rootOf(c) ||
      !isDenseStatic(broadcast.getInput().getType()) ||
      !isDenseStatic(broadcast.getInit().getType()))
    return std::nullopt;
  auto outType = cast<MemRefType>(broadcast.getInit().getType());
  if (cast<MemRefType>(broadcast.getInput().getType()).getRank() != 1)
    return std::nullopt;
  ArrayRef<int64_t> added = broadcast.getDimensions();
  int64_t kept = -1;
  for (int64_t d = 0; d < outType.getRank(); ++d)
    if (!llvm::is_contained(added, d))
      kept = d;
  auto groups = groupDims(outType.getShape(), cType.getShape());
  if (kept < 0 || !groups)
    return std::nullopt;
  SmallVector<int64_t> shape(outType.getShape());
  for (size_t cDim : {cType.getRank() - 2, cType.getRank() - 1}) {
    const ReassociationIndices &group = (*groups)[cDim];
    bool sole = llvm::is_contained(group, kept) &&
                llvm::all_of(group, [&](int64_t g) {
                  return g == kept || shape[g] == 1;
                });
    if (sole)
      return CInit{prev, broadcast.getInput(),
                   cDim == static_cast<size_t>(cType.getRank() - 2)};
  }
  return std::nullopt;
}

constexpr StringLiteral kIm2colUkernel = "flash_conv_im2col_f32";
constexpr StringLiteral kWinogradUkernel = "flash_conv_winograd_f32";

/// flash_conv_im2col_f32(A, image, C, accumulate, config x 6, panels,
/// rowBias, colBias, residual, out, terms, lo, hi, kh, kw, sh, sw, dh, dw,
/// padTop, padLeft, ow) (Entry.cpp): the epilogue entry's arguments with
/// B's patch matrix replaced by the image it is gathered from, then the
/// window.
func::FuncOp getOrDeclareIm2colUkernel(ModuleOp module) {
  return declareEpilogueEntry(module, kIm2colUkernel,
                              dynamicStridedType(module.getContext(), 3), 9);
}

/// flash_conv_winograd_f32: the same arguments, A the transformed filter.
func::FuncOp getOrDeclareWinogradUkernel(ModuleOp module) {
  return declareEpilogueEntry(module, kWinogradUkernel,
                              dynamicStridedType(module.getContext(), 3), 9);
}

/// Whether `op` or an op nested in it has an operand viewing `root`.
bool touches(Operation *op, Value root) {
  bool found = false;
  op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (isa<MemRefType>(v.getType()) && rootOf(v) == root)
        found = true;
  });
  return found;
}

bool isView(Operation *op) {
  return isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
             memref::SubViewOp, memref::CastOp>(op);
}

/// Whether nothing strictly between `from` and `to` (one block) writes or
/// frees `root`'s buffer (only views, allocations, constants and Linalg
/// ops with other outputs are let through).
bool unwrittenBetween(Operation *from, Operation *to, Value root) {
  for (Operation *op = from->getNextNode(); op && op != to;
       op = op->getNextNode()) {
    if (isView(op) || isa<memref::AllocOp, memref::AllocaOp,
                          memref::GetGlobalOp, arith::ConstantOp>(op))
      continue;
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      if (rootOf(dealloc.getMemref()) == root)
        return false;
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp || !linalgOp.hasPureBufferSemantics())
      return false;
    for (Value init : linalgOp.getDpsInits())
      if (rootOf(init) == root)
        return false;
  }
  return true;
}

/// The im2col gather (marked by flash-conv-to-im2col) whose patches `b`
/// views through a collapse of their shape, when the product `product` is
/// their only reader (CSE may give several convolutions' patches one
/// buffer: the gather is the last op before the product to touch it, and
/// nothing after the product reads it before another gather writes it),
/// the gather's input is a static [N, C, H, W] f32 memref with unit inner
/// stride, and nothing between the gather and the product writes or frees
/// that input (the ukernel reads it when the product runs, not when the
/// gather did).
linalg::GenericOp im2colGatherOf(Value b, Operation *product) {
  auto collapse = b.getDefiningOp<memref::CollapseShapeOp>();
  if (!collapse)
    return nullptr;
  Value patches = collapse.getSrc();
  if (!patches.getDefiningOp<memref::AllocOp>())
    return nullptr;
  linalg::GenericOp gather;
  for (Operation *op = product->getPrevNode(); op; op = op->getPrevNode()) {
    if (isView(op) || !touches(op, patches))
      continue;
    gather = dyn_cast<linalg::GenericOp>(op);
    break;
  }
  if (!gather || !gather->hasAttr(kIm2colAttr) ||
      gather.getNumDpsInputs() != 1 || gather.getDpsInits()[0] != patches)
    return nullptr;
  auto rewrites = [&](Operation *op) {
    auto next = dyn_cast<linalg::GenericOp>(op);
    return next && next->hasAttr(kIm2colAttr) &&
           next.getDpsInits()[0] == patches;
  };
  for (Operation *op = product->getNextNode(); op; op = op->getNextNode()) {
    if (isView(op) || isa<memref::DeallocOp>(op) || !touches(op, patches))
      continue;
    if (rewrites(op))
      break;
    return nullptr;
  }
  Value input = gather.getDpsInputs()[0];
  // [N, C, H, W] ([N*G, C/G, H, W] for a grouped convolution).
  if (!unitInnerStride(input, 4))
    return nullptr;
  if (!unwrittenBetween(gather, product, rootOf(input)))
    return nullptr;
  return gather;
}

/// Image `iv` of a [N, C, H, W] memref, as [C, H, W], cast to the callee's
/// type.
Value imageOf(OpBuilder &b, Location loc, Value images, Value iv) {
  auto type = cast<MemRefType>(images.getType());
  int64_t rank = type.getRank(), at = rank - 4; // the batch's dim
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  offsets[at] = iv;
  SmallVector<OpFoldResult> sizes(rank - 3, b.getIndexAttr(1));
  for (int64_t d = rank - 3; d < rank; ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  auto reduced = memref::SubViewOp::inferRankReducedResultType(
      {type.getDimSize(rank - 3), type.getDimSize(rank - 2),
       type.getDimSize(rank - 1)},
      type, offsets, sizes, strides);
  Value view = memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced),
                                         images, offsets, sizes, strides);
  return memref::CastOp::create(b, loc, dynamicStridedType(b.getContext(), 3),
                                view);
}

/// mc, kc, nc, threads, register tile, B packing (the runtime's
/// SgemmConfig), then how the batch loop runs: 1 elements spread over the
/// cores (an scf.parallel, each call on one thread), 2 one element after
/// the other (each call may use every core), 0 as the runtime decides for
/// the thread count of the call (batchInParallel in Ukernels.h).
constexpr size_t kSgemmParams = 6;
constexpr size_t kBatchParallel = 6;
constexpr StringLiteral kBatchRule = "flash_batch_in_parallel";

enum class BatchLoop { Parallel, Sequential, AskRuntime };

BatchLoop batchLoopFor(int64_t choice, bool allowParallel) {
  if (!allowParallel || choice == 2)
    return BatchLoop::Sequential;
  return choice == 1 ? BatchLoop::Parallel : BatchLoop::AskRuntime;
}

/// flash_batch_in_parallel(batches, flops per call) -> i32 (Entry.cpp).
func::FuncOp getOrDeclareBatchRule(ModuleOp module) {
  if (auto func = module.lookupSymbol<func::FuncOp>(kBatchRule))
    return func;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto func = func::FuncOp::create(
      b, module.getLoc(), kBatchRule,
      b.getFunctionType({b.getI64Type(), b.getI64Type()}, {b.getI32Type()}));
  func.setPrivate();
  return func;
}

struct MatmulToUkernel
    : mlir::flash::impl::MatmulToUkernelBase<MatmulToUkernel> {
  using Base::Base;

  /// The op's tuned values: its flash.sgemm attribute, else the option.
  SmallVector<int64_t> tunedValues(Operation *op) {
    SmallVector<int64_t> values(kBatchParallel + 1, 0);
    ArrayRef<int64_t> given = sgemm;
    if (auto attr = op->getAttrOfType<DenseI64ArrayAttr>(mlir::flash::kSgemmAttr))
      given = attr.asArrayRef();
    for (auto [i, v] : llvm::enumerate(given))
      if (i < values.size())
        values[i] = v;
    return values;
  }

  /// The ukernel parameters as i64 constants (threads forced to 1 when
  /// the calls themselves run in parallel).
  SmallVector<Value> configFor(OpBuilder &b, Location loc,
                               ArrayRef<int64_t> values, bool inParallel) {
    SmallVector<Value> result;
    for (size_t i = 0; i < kSgemmParams; ++i) {
      int64_t v = (inParallel && i == 3) ? 1 : values[i];
      result.push_back(arith::ConstantIntOp::create(b, loc, b.getI64Type(), v));
    }
    return result;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (winograd != "auto" && winograd != "true" && winograd != "false") {
      module.emitError() << "flash-matmul-to-ukernel: winograd must be auto, "
                            "true or false, got '"
                         << winograd << "'";
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::LinalgOp, MatmulForm>> matches;
    module.walk([&](linalg::LinalgOp op) {
      if (auto form = matchMatmul(op); form && form->flops >= minFlops)
        matches.emplace_back(op, *form);
    });
    if (matches.empty())
      return;
    func::FuncOp callee = getOrDeclareUkernel(module);
    llvm::SetVector<StringAttr> packed; // globals now also held in panels
    for (auto &[op, form] : matches) {
      Value a = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1];
      Value c = op.getDpsInits()[0];
      // With an epilogue the call goes where the generic was (after the
      // views of C between them, which it may read).
      std::optional<Epilogue> epi =
          epilogue ? matchEpilogue(op, c) : std::nullopt;
      OpBuilder b(epi ? epi->generic.getOperation() : op.getOperation());
      Location loc = op.getLoc();
      linalg::FillOp fill = zeroFillBefore(op, c);
      // With an epilogue, C's initial zeros or broadcast bias are the
      // epilogue's to add, and the product writes the generic's output
      // directly: C (a temporary then) is never written or read again.
      bool intoOut = false;
      if (epi) {
        std::optional<CInit> init = initOf(op, c);
        // (Not when the output is also the residual: the product would
        // overwrite it before the epilogue reads it.)
        bool free = init &&
                    (!init->bias ||
                     (init->rows ? !epi->rowBias : !epi->colBias)) &&
                    (!epi->residual ||
                     rootOf(epi->residual) != rootOf(epi->out));
        if (free) {
          if (init->bias)
            (init->rows ? epi->rowBias : epi->colBias) = init->bias;
          intoOut = true;
          fill = nullptr;
          init->op->erase();
        }
      }
      Value accumulate = arith::ConstantIntOp::create(
          b, loc, b.getI1Type(), fill || intoOut ? 0 : 1);
      if (fill)
        fill->erase();
      SmallVector<int64_t> tuned = tunedValues(op);
      auto args = [&](OpBuilder &b, Value am, Value bm, Value cm,
                      bool inParallel) {
        SmallVector<Value> all = {am, bm, cm, accumulate};
        all.append(configFor(b, loc, tuned, inParallel));
        return all;
      };
      // Constant operands not batched go in compiled panels (with the
      // default tile): the panels entry, told which.
      auto panelsOf = [&](Value operand, bool isA) {
        return constantPanels && tuned[4] == 0
                   ? constantPanelsOf(b, loc, module, operand, isA, packed)
                   : Value();
      };
      // A convolution's patches: gathered by the ukernel as it packs them.
      linalg::GenericOp gather =
          implicitGemm && form.batch && form.batchedB
              ? im2colGatherOf(bMat, op)
              : nullptr;
      // The ukernel reads the image while it writes C (or the epilogue's
      // output): not the same buffer.
      auto writtenByCall = [&](Value v) {
        Value root = rootOf(v);
        return root == rootOf(c) || (epi && root == rootOf(epi->out));
      };
      if (gather && writtenByCall(gather.getDpsInputs()[0]))
        gather = nullptr;
      // Its zero padding, read as zeros by the ukernel instead, when the
      // unpadded input is not written before the product either.
      std::optional<Padding> padding;
      if (gather) {
        padding = paddingOf(gather.getDpsInputs()[0], gather);
        if (padding && (!unwrittenBetween(padding->ops.front(), op,
                                          rootOf(padding->source)) ||
                        writtenByCall(padding->source)))
          padding.reset();
        if (padding && !unitInnerStride(padding->source, 4))
          padding.reset();
      }
      // A 3x3 stride-1 convolution with a constant filter: by Winograd,
      // the filter transformed here.
      Value winogradA = gather && winograd != "false" && !form.batchedA &&
                                constantPanels && tuned[4] == 0
                            ? winogradFilterOf(b, loc, module, a, gather,
                                               winograd == "true", packed)
                            : Value();
      Value panelsA = form.batchedA ? Value()
                      : winogradA  ? winogradA
                                   : panelsOf(a, true);
      Value panelsB =
          form.batchedB || gather ? Value() : panelsOf(bMat, false);
      int64_t which = (panelsA ? 1 : 0) | (panelsB ? 2 : 0);
      func::FuncOp target = winogradA ? getOrDeclareWinogradUkernel(module)
                            : gather  ? getOrDeclareIm2colUkernel(module)
                            : epi    ? getOrDeclareEpilogueUkernel(module)
                            : which ? getOrDeclareUkernel(module, true)
                                    : callee;
      // The epilogue's operands: biases (a one-element stand-in when
      // absent), and the residual and output in C's shape.
      Value rowBias, colBias, residualC, outC;
      int64_t terms = 0;
      if (epi || gather) {
        int64_t dyn = ShapedType::kDynamic;
        auto vectorType =
            MemRefType::get({dyn}, b.getF32Type(),
                            StridedLayoutAttr::get(b.getContext(), dyn, {dyn}));
        Value none;
        auto vectorOf = [&](Value v) {
          if (!v && !none)
            none = memref::AllocaOp::create(
                b, loc, MemRefType::get({1}, b.getF32Type()));
          return memref::CastOp::create(b, loc, vectorType, v ? v : none)
              .getResult();
        };
        if (epi) {
          terms = (epi->rowBias ? 1 : 0) | (epi->colBias ? 2 : 0) |
                  (epi->residual ? 4 : 0) | epi->activationTerm;
          if (epi->residual)
            residualC = inShapeOfC(b, loc, epi->residual, *epi);
          outC = inShapeOfC(b, loc, epi->out, *epi);
        }
        rowBias = vectorOf(epi ? epi->rowBias : Value());
        colBias = vectorOf(epi ? epi->colBias : Value());
      }
      auto call = [&](OpBuilder &b, Value am, Value bm, Value cm,
                      bool inParallel, Value iv) {
        if (gather) // the image the patches are gathered from
          bm = imageOf(b, loc,
                       padding ? padding->source : gather.getDpsInputs()[0], iv);
        SmallVector<Value> all = args(b, am, bm, cm, inParallel);
        if (which || epi || gather)
          all.push_back(
              arith::ConstantIntOp::create(b, loc, b.getI64Type(), which));
        if (epi || gather) {
          bool batched = static_cast<bool>(form.batch);
          all.append({rowBias, colBias,
                      residualC ? matrixFor(b, loc, residualC, iv, batched)
                                : cm,
                      outC ? matrixFor(b, loc, outC, iv, batched) : cm,
                      arith::ConstantIntOp::create(b, loc, b.getI64Type(),
                                                   terms),
                      arith::ConstantFloatOp::create(
                          b, loc, b.getF32Type(),
                          APFloat(epi ? epi->lo : -INFINITY)),
                      arith::ConstantFloatOp::create(
                          b, loc, b.getF32Type(),
                          APFloat(epi ? epi->hi : INFINITY))});
        }
        if (gather) {
          auto window = gather->getAttrOfType<DenseI64ArrayAttr>(kIm2colAttr)
                            .asArrayRef();
          auto patches = cast<MemRefType>(gather.getDpsInits()[0].getType());
          for (int64_t v : window)
            all.push_back(arith::ConstantIntOp::create(b, loc, b.getI64Type(), v));
          for (int64_t v : {padding ? padding->top : 0,
                            padding ? padding->left : 0})
            all.push_back(arith::ConstantIntOp::create(b, loc, b.getI64Type(), v));
          all.push_back(arith::ConstantIntOp::create(
              b, loc, b.getI64Type(), patches.getDimSize(3))); // ow
        }
        func::CallOp::create(b, loc, target, all);
      };
      if (!form.batch) {
        Value am = matrixFor(b, loc, panelsA ? panelsA : a, {}, false);
        Value bm = matrixFor(b, loc, panelsB ? panelsB : bMat, {}, false);
        Value cm = matrixFor(b, loc, intoOut ? outC : c, {}, false);
        call(b, am, bm, cm, false, {});
        op->erase();
        if (epi)
          epi->generic->erase();
        continue;
      }
      int64_t batches = op.getStaticLoopRanges()[*form.batch];
      // Operands shared by every batch element are cast once, outside.
      Value sharedA = form.batchedA ? Value()
                                    : matrixFor(b, loc, panelsA ? panelsA : a,
                                                {}, false);
      Value sharedB = form.batchedB
                          ? Value()
                          : matrixFor(b, loc, panelsB ? panelsB : bMat, {},
                                      false);
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value upper = arith::ConstantIndexOp::create(b, loc, batches);
      auto batchLoop = [&](OpBuilder &b, bool inParallel) {
        OpBuilder::InsertionGuard guard(b);
        Value iv;
        if (inParallel) { // becomes an OpenMP loop (SCFToOpenMP)
          auto loop = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                              ValueRange{upper}, ValueRange{one});
          b.setInsertionPoint(loop.getBody()->getTerminator());
          iv = loop.getInductionVars()[0];
        } else {
          auto loop = scf::ForOp::create(b, loc, zero, upper, one);
          b.setInsertionPointToStart(loop.getBody());
          iv = loop.getInductionVar();
        }
        Value am =
            sharedA ? sharedA
                    : matrixFor(b, loc, a,
                                form.aRepeat
                                    ? arith::RemUIOp::create(
                                          b, loc, iv,
                                          arith::ConstantIndexOp::create(
                                              b, loc, form.aRepeat))
                                          .getResult()
                                    : iv,
                                true);
        Value bm = gather    ? Value() // the ukernel reads the image
                   : sharedB ? sharedB
                             : matrixFor(b, loc, bMat, iv, true);
        Value cm = matrixFor(b, loc, intoOut ? outC : c, iv, true);
        call(b, am, bm, cm, inParallel, iv);
      };
      switch (batchLoopFor(tuned[kBatchParallel], allowParallel)) {
      case BatchLoop::Parallel:
        batchLoop(b, true);
        break;
      case BatchLoop::Sequential:
        batchLoop(b, false);
        break;
      case BatchLoop::AskRuntime: {
        // Both loops, chosen per call by the runtime's rule for its thread
        // count (fc.set_num_threads may change it after compiling).
        Value count =
            arith::ConstantIntOp::create(b, loc, b.getI64Type(), batches);
        Value callFlops = arith::ConstantIntOp::create(
            b, loc, b.getI64Type(), form.flops / batches);
        Value answer =
            func::CallOp::create(b, loc, getOrDeclareBatchRule(module),
                                 ValueRange{count, callFlops})
                .getResult(0);
        Value zeroI32 = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
        Value spread = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                             answer, zeroI32);
        auto choice = scf::IfOp::create(b, loc, spread, /*withElseRegion=*/true);
        b.setInsertionPointToStart(choice.thenBlock());
        batchLoop(b, true);
        b.setInsertionPointToStart(choice.elseBlock());
        batchLoop(b, false);
        break;
      }
      }
      op->erase();
      if (epi)
        epi->generic->erase();
      if (gather)
        eraseGather(gather);
      if (padding)
        for (Operation *dead : padding->ops)
          if (dead->use_empty())
            dead->erase();
    }
    dropUnusedWeights(module, packed);
  }

  /// The gather the ukernel now does itself; its patch buffer too (views,
  /// dealloc, allocation) once nothing else reads it.
  static void eraseGather(linalg::GenericOp gather) {
    Value patches = gather.getDpsInits()[0];
    gather->erase();
    SmallVector<Operation *> views;
    for (Operation *user : patches.getUsers()) {
      if (isView(user) && !user->use_empty())
        return; // another product still reads them
      if (!isView(user) && !isa<memref::DeallocOp>(user))
        return; // another gather writes them
      views.push_back(user);
    }
    for (Operation *user : views)
      user->erase();
    patches.getDefiningOp()->erase();
  }

  /// A weight now read only in panels need not be stored twice: the
  /// reads of `packed` globals left without users (and a filter's 2-D view
  /// of one) go, then each global nothing else reads.
  static void dropUnusedWeights(ModuleOp module,
                                const llvm::SetVector<StringAttr> &packed) {
    SmallVector<Operation *> dead;
    module.walk([&](memref::GetGlobalOp get) {
      if (!packed.contains(get.getNameAttr().getAttr()))
        return;
      for (Operation *user : get->getUsers())
        if (isa<memref::CollapseShapeOp>(user) && user->use_empty())
          dead.push_back(user);
      dead.push_back(get);
    });
    for (Operation *op : dead)
      if (op->use_empty())
        op->erase();
    for (StringAttr name : packed)
      if (auto global = module.lookupSymbol<memref::GlobalOp>(name))
        if (SymbolTable::symbolKnownUseEmpty(global, module))
          global->erase();
  }
};
} // namespace
