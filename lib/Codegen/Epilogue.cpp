//===- Epilogue.cpp - Elementwise epilogues a ukernel call absorbs --------===//
#include "Epilogue.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace mlir::flash {

/// The buffer a chain of reshapes (collapse/expand_shape) views: the same
/// elements in the same order.
Value rootOf(Value v) {
  while (true) {
    if (auto c = v.getDefiningOp<memref::CollapseShapeOp>())
      v = c.getSrc();
    else if (auto e = v.getDefiningOp<memref::ExpandShapeOp>())
      v = e.getSrc();
    else
      return v;
  }
}

MemRefType dynamicStridedType(MLIRContext *ctx, int64_t rank) {
  int64_t dyn = ShapedType::kDynamic;
  return MemRefType::get(
      SmallVector<int64_t>(rank, dyn), Float32Type::get(ctx),
      StridedLayoutAttr::get(ctx, dyn, SmallVector<int64_t>(rank, dyn)));
}

bool isDenseStatic(Type type) {
  auto m = dyn_cast<MemRefType>(type);
  return m && m.hasStaticShape() && m.getElementType().isF32() &&
         m.getLayout().isIdentity();
}

/// The generic's dims grouped per dim of C's shape: consecutive dims whose
/// sizes multiply to each of C's (trailing unit dims join the last group),
/// or nothing.
std::optional<SmallVector<ReassociationIndices>>
groupDims(ArrayRef<int64_t> domain, ArrayRef<int64_t> cShape) {
  SmallVector<ReassociationIndices> groups;
  int64_t d = 0, n = domain.size();
  for (int64_t size : cShape) {
    ReassociationIndices group;
    int64_t product = 1;
    do {
      if (d == n)
        return std::nullopt;
      product *= domain[d];
      group.push_back(d++);
    } while (d < n && product < size);
    if (product != size)
      return std::nullopt;
    groups.push_back(group);
  }
  while (d < n && domain[d] == 1)
    groups.back().push_back(d++);
  if (d != n || groups.empty())
    return std::nullopt;
  return groups;
}

namespace {
/// The float constant `v` is, if it is one.
std::optional<float> constantOf(Value v) {
  FloatAttr attr;
  if (matchPattern(v, m_Constant(&attr)))
    return static_cast<float>(attr.getValueAsDouble());
  return std::nullopt;
}

/// An activation ending a generic's body: the value it applies to and the
/// body ops that compute it (the final multiply included).
struct ActivationMatch {
  Value input;
  int64_t term;
  llvm::SmallPtrSet<Operation *, 8> ops;
};

/// `v` = op(x, constant `k`) for a commutative op `Op`: x, recording the op.
template <typename Op>
Value withConstant(Value v, float k, ActivationMatch &m) {
  auto op = v.getDefiningOp<Op>();
  if (!op)
    return Value();
  for (int i = 0; i < 2; ++i)
    if (constantOf(op->getOperand(1 - i)) == k) {
      m.ops.insert(op);
      return op->getOperand(i);
    }
  return Value();
}

/// `v` = clamp(t, 0, 1) as flash.clip lowers it (max(t, 0), then the min
/// as -max(-x, -1)) or with a minimumf: t.
Value clampedToUnit(Value v, ActivationMatch &m) {
  Value inner;
  if (auto neg = v.getDefiningOp<arith::NegFOp>()) {
    Value negated = withConstant<arith::MaximumFOp>(neg.getOperand(), -1.0f, m);
    auto negIn = negated ? negated.getDefiningOp<arith::NegFOp>() : nullptr;
    if (!negIn)
      return Value();
    m.ops.insert(neg);
    m.ops.insert(negIn);
    inner = negIn.getOperand();
  } else {
    inner = withConstant<arith::MinimumFOp>(v, 1.0f, m);
  }
  return inner ? withConstant<arith::MaximumFOp>(inner, 0.0f, m) : Value();
}

/// The yielded `r` as v * hardsigmoid(v) (x/6 + 1/2 clamped to [0, 1]).
/// (Not SiLU, v * sigmoid(v): in the ukernels it measured slower than the
/// compiled loop after them, EfficientNet-B0 +5%; the exp is compute-bound
/// here, so fusing saves little traffic and costs the loop's throughput.)
std::optional<ActivationMatch> matchActivation(Value r) {
  auto mul = r.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    Value v = mul->getOperand(i), s = mul->getOperand(1 - i);
    ActivationMatch m;
    m.input = v;
    m.ops.insert(mul);
    // HardSwish: s = clamp(v * (1/6) + 0.5, 0, 1).
    if (Value t = clampedToUnit(s, m)) {
      Value scaled = withConstant<arith::AddFOp>(t, 0.5f, m);
      if (scaled && withConstant<arith::MulFOp>(scaled, 1.0f / 6, m) == v) {
        m.term = kHardSwishTerm;
        return m;
      }
    }
  }
  return std::nullopt;
}
} // namespace

/// Whether `op` writes every element of the buffer `root` (through
/// reshapes) without reading any: an all-parallel linalg op whose only
/// operands on `root` are inits it does not read, over all of it.
static bool overwritesAll(Operation *op, Value root) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureBufferSemantics() ||
      linalgOp.getNumParallelLoops() != linalgOp.getNumLoops())
    return false;
  bool writes = false;
  for (OpOperand &operand : op->getOpOperands()) {
    if (rootOf(operand.get()) != root)
      continue;
    if (!linalgOp.isDpsInit(&operand) ||
        linalgOp.payloadUsesValueFromOperand(&operand) ||
        !isDenseStatic(operand.get().getType()) ||
        !linalgOp.getMatchingIndexingMap(&operand).isIdentity())
      return false;
    writes = true;
  }
  return writes;
}

/// The elementwise generic right after `op` (views and allocations in
/// between: a concatenation's pieces get their buffers there) that reads
/// its result `c` and is a bias / residual / clamp epilogue the ukernel can
/// apply (see the pass description); nothing otherwise.
std::optional<Epilogue> matchEpilogue(linalg::LinalgOp op, Value c) {
  Operation *next = op->getNextNode();
  while (next && isa<memref::ExpandShapeOp, memref::CollapseShapeOp,
                     memref::AllocOp>(next))
    next = next->getNextNode();
  auto generic = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1 || !isDenseStatic(c.getType()) ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return std::nullopt;
  Value cRoot = rootOf(c);
  auto cType = cast<MemRefType>(c.getType());
  ArrayRef<int64_t> cShape = cType.getShape();
  SmallVector<int64_t> domain = generic.getStaticLoopRanges();
  auto groups = groupDims(domain, cShape);
  if (!groups)
    return std::nullopt;
  Epilogue e;
  e.generic = generic;
  e.groups = *groups;
  // The dim of the generic that is the only non-unit one of C's dim `cDim`.
  auto soleDim = [&](unsigned dim, size_t cDim) {
    for (int64_t g : e.groups[cDim])
      if (g != dim && domain[g] != 1)
        return false;
    return llvm::is_contained(e.groups[cDim], static_cast<int64_t>(dim));
  };
  size_t rowsDim = cShape.size() - 2, colsDim = cShape.size() - 1;
  // Roles of the block arguments: the product (acc), biases, residual.
  enum class Role { None, Acc, RowBias, ColBias, Residual };
  SmallVector<Role> roles;
  int accIndex = -1;
  for (OpOperand *in : generic.getDpsInputOperands()) {
    Value v = in->get();
    AffineMap map = generic.getMatchingIndexingMap(in);
    Role role = Role::None;
    if (!isDenseStatic(v.getType()))
      return std::nullopt;
    auto type = cast<MemRefType>(v.getType());
    if (rootOf(v) == cRoot) {
      if (accIndex >= 0 || !map.isIdentity())
        return std::nullopt;
      role = Role::Acc;
      accIndex = roles.size();
    } else if (map.isIdentity() && type.getShape() == ArrayRef(domain)) {
      if (e.residual)
        return std::nullopt;
      role = Role::Residual, e.residual = v;
    } else if (type.getRank() == 1 && map.getNumResults() == 1 &&
               isa<AffineDimExpr>(map.getResult(0))) {
      unsigned dim = cast<AffineDimExpr>(map.getResult(0)).getPosition();
      if (soleDim(dim, rowsDim) && !e.rowBias)
        role = Role::RowBias, e.rowBias = v;
      else if (soleDim(dim, colsDim) && !e.colBias)
        role = Role::ColBias, e.colBias = v;
      else
        return std::nullopt;
    } else {
      return std::nullopt;
    }
    roles.push_back(role);
  }
  if (accIndex < 0)
    return std::nullopt;
  // The output: the generic's shape, dense; not A or B (tiles are written
  // while the product still reads them).
  OpOperand *init = generic.getDpsInitOperand(0);
  Value out = init->get();
  if (!isDenseStatic(out.getType()) ||
      !generic.getMatchingIndexingMap(init).isIdentity())
    return std::nullopt;
  Value outRoot = rootOf(out);
  for (Value operand : op.getDpsInputs())
    if (rootOf(operand) == outRoot)
      return std::nullopt;
  e.out = out;
  // C must not be read after the generic unless the generic writes it, or
  // an op overwrites all of it first: bufferization gives a dead buffer to
  // a later value (SqueezeNet's expand products: C is the pooled input
  // before and the next branch's output after).
  if (outRoot != cRoot) {
    if (!cRoot.getDefiningOp<memref::AllocOp>())
      return std::nullopt;
    Block *block = op->getBlock();
    Operation *firstAfter = nullptr; // C's first use after the generic
    bool firstIsDirect = false;      // ... by that op itself, not inside it
    SmallVector<Value> views{cRoot};
    while (!views.empty()) {
      Value v = views.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(user)) {
          views.push_back(user->getResult(0));
          continue;
        }
        // A use inside a loop after the generic counts as that loop's.
        Operation *at = block->findAncestorOpInBlock(*user);
        if (!at)
          return std::nullopt;
        if (at == generic.getOperation() || isa<memref::DeallocOp>(at) ||
            at->isBeforeInBlock(generic))
          continue;
        if (!firstAfter || at->isBeforeInBlock(firstAfter))
          firstAfter = at, firstIsDirect = at == user;
      }
    }
    if (firstAfter && (!firstIsDirect || !overwritesAll(firstAfter, cRoot)))
      return std::nullopt;
  }
  // The body: adds of biases and the residual to the product, then a
  // clamp. A value is the product (plain or negated) or a constant.
  Block &body = generic.getRegion().front();
  enum class Kind { Acc, NegAcc, Other };
  llvm::DenseMap<Value, Kind> kind;
  kind[body.getArgument(accIndex)] = Kind::Acc;
  SmallVector<bool> used(roles.size(), false);
  bool clamped = false;
  auto kindOf = [&](Value v) {
    auto it = kind.find(v);
    return it == kind.end() ? Kind::Other : it->second;
  };
  // An activation at the end applies to the value the adds and clamp give
  // (`last`), which nothing outside the activation may read.
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return std::nullopt;
  std::optional<ActivationMatch> activation =
      matchActivation(yield.getOperand(0));
  Value last = activation ? activation->input : yield.getOperand(0);
  if (activation) {
    for (Operation *user : last.getUsers())
      if (!activation->ops.contains(user))
        return std::nullopt;
    for (Operation *op : activation->ops)
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers())
          if (!activation->ops.contains(user) && user != yield)
            return std::nullopt;
    e.activationTerm = activation->term;
  }
  for (Operation &inner : body.without_terminator()) {
    if (activation && activation->ops.contains(&inner))
      continue;
    Value result = inner.getNumResults() == 1 ? inner.getResult(0) : Value();
    // (An unread clamp would still narrow the bounds.)
    if (!result || result.use_empty())
      return std::nullopt;
    if (auto add = dyn_cast<arith::AddFOp>(inner)) {
      Value x = add.getLhs(), y = add.getRhs();
      if (kindOf(y) == Kind::Acc)
        std::swap(x, y);
      auto arg = dyn_cast<BlockArgument>(y);
      if (clamped || kindOf(x) != Kind::Acc || !arg ||
          arg.getOwner() != &body || arg.getArgNumber() >= roles.size() ||
          roles[arg.getArgNumber()] == Role::Acc || used[arg.getArgNumber()])
        return std::nullopt;
      used[arg.getArgNumber()] = true;
      kind[result] = Kind::Acc;
    } else if (auto neg = dyn_cast<arith::NegFOp>(inner)) {
      Kind k = kindOf(neg.getOperand());
      if (k == Kind::Other)
        return std::nullopt;
      kind[result] = k == Kind::Acc ? Kind::NegAcc : Kind::Acc;
    } else if (isa<arith::MaximumFOp, arith::MinimumFOp>(inner)) {
      Value x = inner.getOperand(0), y = inner.getOperand(1);
      if (kindOf(x) == Kind::Other)
        std::swap(x, y);
      Kind k = kindOf(x);
      auto bound = constantOf(y);
      if (k == Kind::Other || !bound)
        return std::nullopt;
      // max(v, b) raises lo; min(v, b) lowers hi; on -v they swap:
      // -max(-v, b) = min(v, -b).
      bool raisesLo = isa<arith::MaximumFOp>(inner) == (k == Kind::Acc);
      float b = k == Kind::Acc ? *bound : -*bound;
      if (raisesLo)
        e.lo = std::max(e.lo, b);
      else
        e.hi = std::min(e.hi, b);
      clamped = true;
      kind[result] = k;
    } else {
      return std::nullopt;
    }
  }
  if (kindOf(last) != Kind::Acc || e.lo > e.hi)
    return std::nullopt;
  for (auto [role, isUsed] : llvm::zip(roles, used))
    if (role != Role::Acc && !isUsed)
      return std::nullopt;
  return e;
}

/// `v` (the generic's shape, dense) viewed in C's shape.
Value inShapeOfC(OpBuilder &b, Location loc, Value v, const Epilogue &e) {
  auto type = cast<MemRefType>(v.getType());
  if (static_cast<size_t>(type.getRank()) == e.groups.size())
    return v;
  return memref::CollapseShapeOp::create(b, loc, v, e.groups);
}


std::optional<int64_t> coefficient(AffineExpr expr, unsigned dim,
                                   unsigned numDims) {
  SmallVector<AffineExpr> values;
  for (unsigned d = 0; d < numDims; ++d)
    values.push_back(getAffineConstantExpr(d == dim ? 1 : 0, expr.getContext()));
  auto constant = dyn_cast<AffineConstantExpr>(
      simplifyAffineExpr(expr.replaceDims(values), numDims, 0));
  if (!constant)
    return std::nullopt;
  return constant.getValue();
}

func::FuncOp getOrDeclareUkernel(ModuleOp module, StringRef name,
                                 ArrayRef<Type> params) {
  if (auto func = module.lookupSymbol<func::FuncOp>(name))
    return func;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto func = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(params, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

/// Whether `v` is the constant `fill` (either zero for 0).
static bool isFillValue(Value v, double fill) {
  if (fill == 0.0)
    return matchPattern(v, m_AnyZeroFloat());
  APFloat value(0.0f);
  return matchPattern(v, m_ConstantFloat(&value)) &&
         value.convertToDouble() == fill;
}

std::optional<Padding> paddingOf(Value padded, Operation *consumer,
                                 double fillValue) {
  auto alloc = padded.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != consumer->getBlock())
    return std::nullopt;
  Padding p;
  Operation *zeros = nullptr, *copyOp = nullptr;
  SmallVector<Operation *> deallocs;
  for (Operation *user : alloc->getUsers()) {
    if (isa<memref::DeallocOp>(user)) {
      deallocs.push_back(user);
      continue;
    }
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(user)) {
      // Views read by this convolution alone: another reader (a second
      // convolution of the same padded input, after CSE) still needs the
      // padded copy.
      SmallVector<Value> views{user->getResult(0)};
      while (!views.empty())
        for (Operation *reader : views.pop_back_val().getUsers()) {
          if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(reader))
            views.push_back(reader->getResult(0));
          else if (reader != consumer)
            return std::nullopt;
        }
      continue;
    }
    if (user == consumer) // reads the padded buffer itself
      continue;
    if (!user->isBeforeInBlock(consumer))
      return std::nullopt;
    if (auto fill = dyn_cast<linalg::FillOp>(user)) {
      if (!isFillValue(fill.getInputs()[0], fillValue))
        return std::nullopt;
      zeros = user;
    } else if (auto map = dyn_cast<linalg::MapOp>(user)) {
      auto yield = cast<linalg::YieldOp>(map.getMapper().front().getTerminator());
      if (!map.getInputs().empty() || yield.getNumOperands() != 1 ||
          !isFillValue(yield.getOperand(0), fillValue))
        return std::nullopt;
      zeros = user;
    } else if (auto subview = dyn_cast<memref::SubViewOp>(user)) {
      if (p.source || !subview->hasOneUse() || subview.getStaticOffsets().size() != 4 ||
          !llvm::all_of(subview.getStaticStrides(),
                        [](int64_t s) { return s == 1; }))
        return std::nullopt;
      auto copy = dyn_cast<memref::CopyOp>(*subview->getUsers().begin());
      if (!copy || copy.getTarget() != subview.getResult() ||
          !copy->isBeforeInBlock(consumer))
        return std::nullopt;
      ArrayRef<int64_t> offsets = subview.getStaticOffsets();
      if (ShapedType::isDynamic(offsets[2]) || ShapedType::isDynamic(offsets[3]) ||
          offsets[0] != 0 || offsets[1] != 0)
        return std::nullopt;
      auto sourceType = cast<MemRefType>(copy.getSource().getType());
      if (!sourceType.hasStaticShape() ||
          sourceType.getShape() != subview.getType().getShape())
        return std::nullopt;
      p.source = copy.getSource();
      p.top = offsets[2], p.left = offsets[3];
      copyOp = copy;
      p.ops.append({copy, subview});
    } else {
      return std::nullopt;
    }
  }
  // Zeros first, then the copy.
  if (!p.source || !zeros || !zeros->isBeforeInBlock(copyOp))
    return std::nullopt;
  p.ops.push_back(zeros);
  for (Operation *d : deallocs)
    p.ops.push_back(d);
  p.ops.push_back(alloc);
  return p;
}

bool unitInnerStride(Value v, int64_t rank) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32() ||
      type.getRank() != rank)
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         strides.back() == 1;
}

} // namespace mlir::flash
