//===- OpCost.cpp - FLOPs, bytes and kernels of a Flash graph -------------===//
#include "flash/Analysis/OpCost.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Runtime/Ukernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
int64_t numElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}
int64_t bytesOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return numElements(v) * ((type.getElementTypeBitWidth() + 7) / 8);
}

/// Arithmetic operations per element of an elementwise op, in units of
/// the tanh polynomial's 16 (the unit the simulator's host calibration
/// measures its loop rate in, with a tanh loop), so "FLOPs" means work, not
/// calls: each op's count is 16 x its compiled loop's time per element
/// over tanh's, one thread, 16384 elements (AVX2 loops on an Xeon,
/// 2026-12-06: cycles per 8 elements tanh 7.55, exp 10.2, sigmoid 11.8,
/// erf 13.2, gelu 14.7, sqrt 5.5, div 4.8; the exponent's integer bit work
/// and the dividers cost more than their op counts). Other ops: one.
int64_t opsPerElement(Operation *op) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case<ExpOp>([](auto) { return 22; })
      .Case<TanhOp>([](auto) { return 16; })
      .Case<ErfOp>([](auto) { return 28; })
      .Case<SigmoidOp>([](auto) { return 25; })
      .Case<GeluOp>([](auto) { return 31; })
      .Case<PowOp>([](auto) { return 24; })
      .Case<SqrtOp>([](auto) { return 12; })
      .Case<DivOp>([](auto) { return 10; })
      .Default([](Operation *) { return 1; });
}

std::string locationOf(Operation *op) {
  if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
    return (loc.getFilename().getValue() + ":" + std::to_string(loc.getLine()))
        .str();
  return "";
}

std::string shapesOf(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  auto print = [&](Type t) {
    auto type = cast<RankedTensorType>(t);
    for (int64_t d : type.getShape())
      os << d << "x";
    os << type.getElementType();
  };
  os << "(";
  llvm::interleaveComma(op->getOperandTypes(), os, print);
  os << ") -> ";
  llvm::interleaveComma(op->getResultTypes(), os, print);
  return text;
}

/// A constant the compiler packs into panels (or Winograd-transforms) when
/// compiling: one of more than one value (MatmulToUkernel's
/// constantOperand refuses splats).
bool isPackedConstant(Value v) {
  auto constant = v.getDefiningOp<ConstantOp>();
  auto value = constant ? dyn_cast<DenseElementsAttr>(constant.getValue())
                        : DenseElementsAttr();
  return value && !value.isSplat();
}

bool isElementwise(Operation *op) {
  return isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, ReluOp, ExpOp, TanhOp,
             SigmoidOp, GeluOp, ErfOp, SqrtOp, NegOp, BiasAddOp, CastOp,
             EqualOp, NotEqualOp, LessOp, LessEqualOp, SelectOp>(op);
}
bool isReduction(Operation *op) {
  return isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp>(op);
}
/// Contiguous elements per copied row of a transpose (the trailing axes it
/// leaves in place) or a concatenation (its smallest operand's slab along
/// the axis); 0 for other ops.
int64_t copyRowOf(Operation *op) {
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    auto shape = cast<RankedTensorType>(transpose.getInput().getType()).getShape();
    ArrayRef<int64_t> perm = transpose.getPermutation();
    int64_t row = 1;
    for (int64_t i = static_cast<int64_t>(perm.size()) - 1; i >= 0 && perm[i] == i; --i)
      row *= shape[i];
    return row;
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    int64_t axis = concat.getAxis(), row = 0;
    for (Value input : concat.getInputs()) {
      auto shape = cast<RankedTensorType>(input.getType()).getShape();
      int64_t slab = 1;
      for (int64_t i = axis; i < static_cast<int64_t>(shape.size()); ++i)
        slab *= shape[i];
      row = row ? std::min(row, slab) : slab;
    }
    return row;
  }
  return 0;
}

/// FusionRules::fusedAttention for the product `pv`: the ops its left
/// operand is computed from (elementwise ops, reductions and views),
/// back to one product (the scores), where none of them -- the scores
/// included -- is used outside that region, and it holds a softmax's
/// exponent. Then their kernels join pv's (in `target`). Values used
/// elsewhere too (a mask shared by every layer) stay inputs.
void fuseAttention(Operation *pv, const llvm::DenseMap<Operation *, int> &index,
                   const std::vector<OpCost> &ops, std::vector<int> &target) {
  auto computes = [&](Operation *def) {
    return def && index.count(def) && !isa<ConstantOp>(def);
  };
  // Everything the left operand is computed from, up to products.
  llvm::SetVector<Operation *> region;
  llvm::SmallVector<Operation *> work{pv->getOperand(0).getDefiningOp()};
  while (!work.empty()) {
    Operation *def = work.pop_back_val();
    if (!computes(def) || region.contains(def))
      continue;
    region.insert(def);
    if (isElementwise(def) || isReduction(def) || isa<ReshapeOp>(def))
      for (Value v : def->getOperands())
        work.push_back(v.getDefiningOp());
  }
  // Drop what is used outside (it stays an input of the fused kernel),
  // and anything that is neither a product nor fusible.
  auto keep = [&](Operation *def) {
    return (isa<MatmulOp, BatchMatmulOp>(def) || isElementwise(def) ||
            isReduction(def) || isa<ReshapeOp>(def)) &&
           llvm::all_of(def->getUsers(), [&](Operation *user) {
             return user == pv || region.contains(user);
           });
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation *def : llvm::to_vector(region))
      if (!keep(def))
        changed |= region.remove(def);
  }
  // What is left and reachable from the operand: one product behind a
  // softmax's exponent.
  llvm::SmallPtrSet<Operation *, 16> fused;
  Operation *scores = nullptr;
  bool one = true, exponent = false;
  work = {pv->getOperand(0).getDefiningOp()};
  while (!work.empty()) {
    Operation *def = work.pop_back_val();
    if (!def || !region.contains(def) || !fused.insert(def).second)
      continue;
    if (isa<MatmulOp, BatchMatmulOp>(def)) {
      one &= !scores;
      scores = def;
      continue;
    }
    exponent |= isa<ExpOp>(def);
    for (Value v : def->getOperands())
      work.push_back(v.getDefiningOp());
  }
  if (!scores || !one || !exponent)
    return;
  int into = target[ops[index.lookup(pv)].kernel];
  for (Operation *def : fused)
    if (ops[index.lookup(def)].kernel >= 0)
      target[ops[index.lookup(def)].kernel] = into;
}
} // namespace

GraphCost mlir::flash::analyzeGraphCost(func::FuncOp func,
                                        const FusionRules &rules) {
  GraphCost result;
  llvm::DenseMap<Operation *, int> index;
  std::vector<Operation *> opOf; // result.ops[i] is the cost of opOf[i]
  for (Operation &op : func.getBody().getOps()) {
    if (op.getDialect() == nullptr ||
        op.getDialect()->getNamespace() != "flash")
      continue;
    OpCost cost;
    cost.op = op.getName().getStringRef().str();
    cost.location = locationOf(&op);
    cost.shapes = shapesOf(&op);
    for (Value v : op.getOperands())
      if (auto type = dyn_cast<ShapedType>(v.getType()))
        cost.operandShapes.emplace_back(type.getShape().begin(),
                                        type.getShape().end());
    for (Value v : op.getOperands())
      cost.bytesIn += bytesOf(v);
    for (Value v : op.getResults())
      cost.bytesOut += bytesOf(v);
    Value out = op.getNumResults() ? op.getResult(0) : Value();
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      cost.kind = "constant";
      cost.bytesIn = 0;
      auto value = dyn_cast<DenseElementsAttr>(constant.getValue());
      cost.splat = value && value.isSplat();
    } else if (isa<ReshapeOp, FlattenOp>(op)) {
      cost.kind = "view";
      cost.bytesIn = cost.bytesOut = 0;
    } else if (auto mm = dyn_cast<MatmulOp>(op)) {
      auto a = cast<RankedTensorType>(mm.getLhs().getType());
      auto b = cast<RankedTensorType>(mm.getRhs().getType());
      cost.kind = "contraction";
      cost.batch = 1;
      cost.m = a.getDimSize(0), cost.k = a.getDimSize(1),
      cost.n = b.getDimSize(1);
    } else if (auto bmm = dyn_cast<BatchMatmulOp>(op)) {
      auto a = cast<RankedTensorType>(bmm.getLhs().getType());
      auto b = cast<RankedTensorType>(bmm.getRhs().getType());
      cost.kind = "contraction";
      cost.batch = a.getDimSize(0), cost.m = a.getDimSize(1),
      cost.k = a.getDimSize(2), cost.n = b.getDimSize(2);
    } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
      // As the im2col GEMM it runs as: per image, (O) x (C*KH*KW) times
      // (C*KH*KW) x (OH*OW), or one over all images with N*OH*OW columns
      // where ConvToIm2col's default takes that (convBatchAsColumns).
      auto x = cast<RankedTensorType>(conv.getInput().getType());
      auto w = cast<RankedTensorType>(conv.getWeight().getType());
      auto y = cast<RankedTensorType>(conv.getType());
      // Grouped: one GEMM of (O/groups) x (C/groups*KH*KW) per image and
      // group.
      int64_t groups = conv.getGroups();
      cost.kind = "contraction";
      cost.batch = y.getDimSize(0) * groups,
      cost.m = w.getDimSize(0) / groups,
      cost.k = w.getDimSize(1) * w.getDimSize(2) * w.getDimSize(3),
      cost.n = y.getDimSize(2) * y.getDimSize(3);
      // A 3x3 window, unit strides and dilations, a constant filter:
      // MatmulToUkernel's Winograd rule, which the CPU pipeline runs image
      // by image (the host model re-prices it so; batch..k below stay the
      // im2col GEMM's, which device stacks price).
      auto stride = conv.getStride();
      auto dilation = conv.getDilation();
      cost.winograd =
          groups == 1 &&
          ::flash::runtime::convWindowTakesWinograd(
              w.getDimSize(2), w.getDimSize(3), stride[0], stride[1],
              dilation[0], dilation[1]) &&
          isPackedConstant(conv.getWeight()) &&
          ::flash::runtime::convUsesWinograd(w.getDimSize(1), w.getDimSize(0),
                                             y.getDimSize(2), y.getDimSize(3));
      bool columns = groups == 1 &&
                     ::flash::runtime::convBatchAsColumns(cost.batch, cost.n);
      if (columns)
        cost.n *= cost.batch, cost.batch = 1;
      // The im2col gather copies rows of OW; a pointwise convolution run
      // image by image has none (copyRow 0; ConvToIm2col's rule).
      bool padded = llvm::any_of(conv.getPadding(), [](int64_t p) { return p; });
      bool pointwise = groups == 1 && !columns &&
                       ::flash::runtime::convIsPointwise(
                           w.getDimSize(2), w.getDimSize(3), stride[0],
                           stride[1], padded);
      cost.copyRow = pointwise ? 0 : y.getDimSize(3);
      // Run image by image (and group by group) through the implicit
      // GEMM's entry, which takes the direct kernel on AVX-512 hosts (the
      // host model checks that) where a call has few input channels.
      cost.direct = !columns && !pointwise && !cost.winograd &&
                    ::flash::runtime::convRunsDirect(
                        w.getDimSize(1), stride[1], dilation[1],
                        y.getDimSize(3), /*avx512=*/true);
      // Contiguous input rows: W floats apart.
      cost.flatPacking = !columns && !pointwise &&
                         ::flash::runtime::im2colPacksFlat(
                             stride[0], stride[1], x.getDimSize(3),
                             y.getDimSize(3));
      if (conv.getBias())
        cost.flops += numElements(out);
    } else if (auto gather = dyn_cast<GatherOp>(op)) {
      // Reads the indices and only the slices they select (as many bytes
      // as it writes), not the whole table.
      cost.kind = "layout";
      cost.bytesIn = bytesOf(gather.getIndices()) + cost.bytesOut;
    } else if (isElementwise(&op)) {
      cost.kind = "elementwise";
      cost.elements = numElements(out);
      cost.flops = cost.elements * opsPerElement(&op);
    } else if (isReduction(&op)) {
      cost.kind = "reduction";
      cost.flops = numElements(op.getOperand(0)) +
                   (isa<ReduceMeanOp>(op) ? numElements(out) : 0);
    } else if (auto pool = dyn_cast<MaxPool2DOp>(op)) {
      cost.kind = "pooling";
      cost.flops = numElements(out) * pool.getKernel()[0] * pool.getKernel()[1];
    } else if (auto pool = dyn_cast<AvgPool2DOp>(op)) {
      cost.kind = "pooling";
      cost.flops =
          numElements(out) * (pool.getKernel()[0] * pool.getKernel()[1] + 1);
    } else {
      // transpose, concat, and composite ops left undecomposed: data
      // movement (composites are decomposed before this analysis runs).
      cost.kind = "layout";
      cost.copyRow = copyRowOf(&op);
    }
    if (cost.kind == "contraction")
      cost.flops += 2 * cost.batch * cost.m * cost.n * cost.k;
    for (Value v : op.getOperands()) {
      if (auto arg = dyn_cast<BlockArgument>(v))
        cost.operands.push_back(-1 - static_cast<int>(arg.getArgNumber()));
      else
        cost.operands.push_back(index.lookup(v.getDefiningOp()));
    }
    cost.returned = llvm::any_of(op.getUsers(), [](Operation *user) {
      return isa<func::ReturnOp>(user);
    });
    index[&op] = result.ops.size();
    opOf.push_back(&op);
    result.ops.push_back(std::move(cost));
  }

  // Kernels: an elementwise op joins the kernel of an operand produced by
  // an elementwise op (or a reduction consuming it joins its producer's)
  // when that producer has this op as its only user, as the Linalg fusion
  // does; everything else that computes starts a kernel of its own. Then
  // an elementwise kernel of bias / residual adds and ReLU/clamps on a
  // contraction's only use joins the contraction's kernel, as the sgemm
  // ukernel applies it (MatmulToUkernel's epilogue).
  auto fusibleProducer = [&](Operation *op) -> Operation * {
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (!def || !index.count(def) || !def->hasOneUse())
        continue;
      if (isElementwise(def))
        return def;
    }
    return nullptr;
  };
  for (Operation &op : func.getBody().getOps()) {
    auto it = index.find(&op);
    if (it == index.end())
      continue;
    OpCost &cost = result.ops[it->second];
    if (cost.kind == "constant" || cost.kind == "view")
      continue;
    Operation *producer = (isElementwise(&op) || isReduction(&op))
                              ? fusibleProducer(&op)
                              : nullptr;
    if (producer && result.ops[index[producer]].kernel >= 0) {
      cost.kernel = result.ops[index[producer]].kernel;
    } else {
      cost.kernel = result.kernels.size();
      KernelCost kernel;
      kernel.id = cost.kernel;
      kernel.kind = cost.kind;
      kernel.batch = cost.batch, kernel.m = cost.m, kernel.n = cost.n,
      kernel.k = cost.k, kernel.copyRow = cost.copyRow;
      kernel.winograd = cost.winograd;
      kernel.direct = cost.direct;
      kernel.flatPacking = cost.flatPacking;
      result.kernels.push_back(kernel);
    }
    KernelCost &kernel = result.kernels[cost.kernel];
    kernel.ops.push_back(it->second);
    kernel.flops += cost.flops;
    if (kernel.kind == "elementwise" && cost.kind == "reduction")
      kernel.kind = "reduction";
  }
  // Epilogues: an elementwise kernel whose ops are all bias / residual
  // adds, ReLU or clamps (max, neg), possibly ending in a HardSwish (its
  // two multiplies: x by 1/6, then x by the clamp) -- any elementwise ops
  // under rules.elementwiseEpilogues -- and that reads a contraction's
  // result, every use of it in the kernel, joins that contraction's kernel.
  std::vector<int> target(result.kernels.size());
  for (size_t k = 0; k < result.kernels.size(); ++k) {
    target[k] = k;
    KernelCost &kernel = result.kernels[k];
    int multiplies = 0, byConstant = 0;
    for (int i : kernel.ops)
      if (isa<MulOp>(opOf[i])) {
        ++multiplies;
        byConstant += llvm::any_of(opOf[i]->getOperands(), [](Value v) {
          return v.getDefiningOp<ConstantOp>() != nullptr;
        });
      }
    bool hardSwish = multiplies == 2 && byConstant == 1;
    if (kernel.kind != "elementwise" ||
        !llvm::all_of(kernel.ops, [&](int i) {
          return rules.elementwiseEpilogues ||
                 isa<AddOp, BiasAddOp, ReluOp, MaxOp, NegOp>(opOf[i]) ||
                 (hardSwish && isa<MulOp>(opOf[i]));
        }))
      continue;
    auto inKernel = [&](Operation *user) {
      return index.count(user) &&
             result.ops[index[user]].kernel == static_cast<int>(k);
    };
    for (int i : kernel.ops)
      for (Value v : opOf[i]->getOperands()) {
        Operation *def = v.getDefiningOp();
        if (def && isa<MatmulOp, BatchMatmulOp, Conv2DOp>(def) &&
            index.count(def) && llvm::all_of(def->getUsers(), inKernel))
          target[k] = result.ops[index[def]].kernel;
      }
  }
  if (rules.fusedAttention)
    for (Operation *op : opOf)
      if (isa<MatmulOp, BatchMatmulOp>(op))
        fuseAttention(op, index, result.ops, target);
  // Follow chains (a kernel merged into one that merged further).
  for (size_t k = 0; k < target.size(); ++k)
    while (target[target[k]] != target[k])
      target[k] = target[target[k]];
  std::vector<int> renumbered(result.kernels.size(), -1);
  std::vector<KernelCost> kept;
  for (size_t k = 0; k < result.kernels.size(); ++k)
    if (target[k] == static_cast<int>(k)) {
      renumbered[k] = kept.size();
      kept.push_back(result.kernels[k]);
      kept.back().id = renumbered[k];
    }
  for (size_t k = 0; k < result.kernels.size(); ++k)
    if (target[k] != static_cast<int>(k)) {
      KernelCost &into = kept[renumbered[target[k]]];
      into.ops.insert(into.ops.end(), result.kernels[k].ops.begin(),
                      result.kernels[k].ops.end());
      into.flops += result.kernels[k].flops;
    }
  for (OpCost &cost : result.ops)
    if (cost.kernel >= 0)
      cost.kernel = renumbered[target[cost.kernel]];
  result.kernels = std::move(kept);
  for (KernelCost &kernel : result.kernels)
    llvm::sort(kernel.ops);

  // Traffic of a kernel: operands produced outside it, results used outside
  // it (or returned). Views pass their operand's bytes through.
  for (KernelCost &kernel : result.kernels) {
    llvm::SmallPtrSet<Operation *, 8> inside;
    for (int i : kernel.ops)
      inside.insert(opOf[i]);
    llvm::SmallPtrSet<Value, 8> read;
    for (Operation *op : inside) {
      for (Value v : op->getOperands())
        if (!inside.contains(v.getDefiningOp()) && read.insert(v).second)
          kernel.bytesIn += bytesOf(v);
      for (Value v : op->getResults())
        if (llvm::any_of(v.getUsers(),
                         [&](Operation *user) { return !inside.contains(user); }))
          kernel.bytesOut += bytesOf(v);
    }
  }
  return result;
}

namespace {
/// flash-opt --flash-print-cost: the cost table of every function, for
/// tests and for a look from the command line. A module pass, so the
/// functions print whole and in order (a function pass runs them on
/// several threads, whose lines interleave).
struct PrintGraphCost : PassWrapper<PrintGraphCost, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PrintGraphCost)
  PrintGraphCost() = default;
  PrintGraphCost(const PrintGraphCost &other) : PassWrapper(other) {}
  Option<bool> elementwiseEpilogues{
      *this, "elementwise-epilogues",
      llvm::cl::desc("Any elementwise ops on a product's only result join "
                     "its kernel (FusionRules)"),
      llvm::cl::init(false)};
  Option<bool> fusedAttention{
      *this, "fused-attention",
      llvm::cl::desc("softmax(Q K^T) V as one kernel (FusionRules)"),
      llvm::cl::init(false)};
  StringRef getArgument() const final { return "flash-print-cost"; }
  StringRef getDescription() const final {
    return "Print the FLOPs, bytes and fused kernel of every Flash op";
  }
  void runOnOperation() override {
    llvm::raw_ostream &os = llvm::outs();
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      FusionRules rules;
      rules.elementwiseEpilogues = elementwiseEpilogues;
      rules.fusedAttention = fusedAttention;
      GraphCost cost = analyzeGraphCost(func, rules);
      os << "cost of @" << func.getName() << "\n";
      for (const OpCost &op : cost.ops)
        os << "  op " << op.op << " kind=" << op.kind << " kernel=" << op.kernel
           << " flops=" << op.flops << " in=" << op.bytesIn
           << " out=" << op.bytesOut << "\n";
      for (const KernelCost &k : cost.kernels)
        os << "  kernel " << k.id << " kind=" << k.kind
           << " ops=" << k.ops.size() << " flops=" << k.flops
           << " in=" << k.bytesIn << " out=" << k.bytesOut << "\n";
    }
    markAllAnalysesPreserved();
  }
};
} // namespace

void mlir::flash::registerGraphCostPass() {
  PassRegistration<PrintGraphCost>();
}
