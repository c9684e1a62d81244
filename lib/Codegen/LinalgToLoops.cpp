//===- LinalgToLoops.cpp - Linalg -> (parallel) loops by size -------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::flash {
#define GEN_PASS_DEF_LINALGTOLOOPS
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// Makes the perfect nest `nest` (outermost first) one scf.parallel over
/// all its loops' bounds, with the innermost loop's body.
void makeParallel(IRRewriter &rewriter, MutableArrayRef<scf::ForOp> nest) {
  rewriter.setInsertionPoint(nest.front());
  SmallVector<Value> lbs, ubs, steps;
  for (scf::ForOp loop : nest) {
    lbs.push_back(loop.getLowerBound());
    ubs.push_back(loop.getUpperBound());
    steps.push_back(loop.getStep());
  }
  auto parallel =
      scf::ParallelOp::create(rewriter, nest.front().getLoc(), lbs, ubs, steps);
  for (auto [loop, iv] : llvm::zip(nest.drop_back(), parallel.getInductionVars()))
    rewriter.replaceAllUsesWith(loop.getInductionVar(), iv);
  Block *body = nest.back().getBody();
  rewriter.eraseOp(body->getTerminator());
  rewriter.inlineBlockBefore(body, parallel.getBody()->getTerminator(),
                             parallel.getInductionVars().back());
  rewriter.eraseOp(nest.front());
}

/// The loops to run in parallel: the outermost ones over parallel
/// dimensions, until together they have enough iterations to share (4
/// attention heads around 128 rows: one parallel region over the 512 rows
/// rather than a region per head, whose fork and join cost more than a
/// head's share of a softmax on two threads). Not every loop collapsed: a
/// collapsed nest recomputes every index with divisions and hides the inner
/// loops from LLVM's vectorizer. So the count is the product of the loops
/// taken (Swin's window partition, 1x2x2x7x7x384 with the channels inner,
/// once became one collapsed loop of divisions per element, 15 times
/// slower than a copy), and the innermost loop of the op's own nest
/// (`vectorized`) joins only when the loops around it do not split at all.
/// `ranges`: each loop's trip count (dynamic ones count as one).
SmallVector<scf::ForOp> parallelCandidate(linalg::LinalgOp op,
                                          ArrayRef<Operation *> loops,
                                          ArrayRef<int64_t> ranges,
                                          bool vectorized) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<scf::ForOp> nest;
  int64_t shared = 1;
  for (auto [dim, loop] : llvm::enumerate(loops)) {
    auto forOp = dyn_cast<scf::ForOp>(loop);
    if (!forOp || dim >= iterators.size() ||
        iterators[dim] != utils::IteratorType::parallel)
      return {};
    if (vectorized && dim + 1 == loops.size() && shared > 1)
      return nest;
    nest.push_back(forOp);
    if (!ShapedType::isDynamic(ranges[dim]))
      shared *= ranges[dim];
    if (shared >= 8)
      return nest;
  }
  return {};
}

/// Whether every operand is read or written along the innermost loop one
/// element apart, or not at all: a strided or transposed access (a
/// stride-2 pooling, a depthwise convolution's stride-2 rows) vectorized
/// by force becomes gathers, slower than LLVM's own choice (EfficientNet-B0
/// 7% slower when every parallel innermost loop was forced).
bool unitStrideInnermost(linalg::LinalgOp op) {
  unsigned last = op.getNumLoops() - 1;
  MLIRContext *ctx = op.getContext();
  AffineExpr d = getAffineDimExpr(last, ctx);
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      return false;
    // Each iteration writes its own output element: a parallel dimension
    // an output does not index (last write wins) is not marked.
    if (op.isDpsInit(&operand) && !map.isFunctionOfDim(last))
      return false;
    for (auto [position, expr] : llvm::enumerate(map.getResults())) {
      if (!expr.isFunctionOfDim(last))
        continue;
      AffineExpr step = simplifyAffineExpr(
          expr.replace(d, d + 1) - expr, map.getNumDims(), 0);
      auto constant = dyn_cast<AffineConstantExpr>(step);
      if (position + 1 != map.getNumResults() || !constant ||
          constant.getValue() != 1)
        return false;
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(type.getStridesAndOffset(strides, offset)) ||
          strides.back() != 1)
        return false;
    }
  }
  return true;
}

/// Marks the innermost loop, when it runs over a parallel dimension, as
/// free of loop-carried dependences (LLVM's `llvm.loop.parallel_accesses`,
/// its memory accesses tagged by flash-tag-parallel-accesses once they are
/// LLVM loads and stores) and asks for it to be vectorized. Why: LLVM cannot
/// tell that a temporary and an argument do not overlap (the buffers come
/// through OpenMP's outlined regions and the runtime's allocator), so short
/// rows needed run-time overlap checks its cost model declined: a 3x3 max
/// pooling over 14-wide rows ran scalar. A parallel dimension of a Linalg op
/// writes each output element in exactly one iteration, so the assertion
/// holds by construction.
void markIndependentIterations(linalg::LinalgOp op,
                               ArrayRef<Operation *> loops) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (loops.empty() || iterators.size() != loops.size() ||
      iterators.back() != utils::IteratorType::parallel)
    return;
  auto innermost = dyn_cast<scf::ForOp>(loops.back());
  if (!innermost || !unitStrideInnermost(op))
    return;
  MLIRContext *ctx = op.getContext();
  auto vectorize = LLVM::LoopVectorizeAttr::get(
      ctx, /*disable=*/BoolAttr::get(ctx, false), {}, {}, {}, {}, {}, {});
  auto annotation = LLVM::LoopAnnotationAttr::get(
      ctx, {}, vectorize, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
      {LLVM::AccessGroupAttr::get(ctx)});
  // The name LLVM's branch takes it by: SCFToControlFlow copies the LLVM
  // dialect attributes of the loop onto its latch branch.
  innermost->setAttr("loop_annotation", annotation);
}

/// Reads of a broadcast operand at constant index 0 of its size-1 axes (a
/// per-channel bias of 1xCx1x1 read as (n, c, 0, 0)) as reads of a view
/// without those axes ((n, c) of 1xC), so that every indexing map is a
/// projection and the loops can merge. False when nothing changed.
bool dropBroadcastUnitAxes(linalg::GenericOp op, IRRewriter &rewriter) {
  bool changed = false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<MemRefType>(input->get().getType());
    AffineMap map = maps[input->getOperandNumber()];
    if (!type || !type.getLayout().isIdentity() || map.isProjectedPermutation())
      continue;
    SmallVector<AffineExpr> kept;
    SmallVector<ReassociationIndices> groups;
    SmallVector<int64_t> shape;
    bool valid = true;
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      auto constant = dyn_cast<AffineConstantExpr>(expr);
      if (constant && (constant.getValue() != 0 || type.getDimSize(i) != 1)) {
        valid = false;
        break;
      }
      if (!constant) {
        if (!isa<AffineDimExpr>(expr)) {
          valid = false;
          break;
        }
        kept.push_back(expr);
        shape.push_back(type.getDimSize(i));
        groups.push_back({static_cast<int64_t>(i)});
      } else if (!groups.empty()) {
        groups.back().push_back(i);
      }
    }
    if (!valid)
      continue;
    // Leading unit axes join the first kept one; all of them constant: a
    // 0-d view.
    int64_t leading = map.getNumResults();
    for (auto [i, expr] : llvm::enumerate(map.getResults()))
      if (!isa<AffineConstantExpr>(expr)) {
        leading = i;
        break;
      }
    if (!groups.empty())
      for (int64_t i = leading - 1; i >= 0; --i)
        groups.front().insert(groups.front().begin(), i);
    auto view = memref::CollapseShapeOp::create(rewriter, op.getLoc(), input->get(), groups);
    if (cast<MemRefType>(view.getType()).getShape() != ArrayRef<int64_t>(shape)) {
      rewriter.eraseOp(view);
      continue;
    }
    maps[input->getOperandNumber()] =
        AffineMap::get(map.getNumDims(), 0, kept, op.getContext());
    rewriter.modifyOpInPlace(op, [&] { input->set(view); });
    changed = true;
  }
  if (changed)
    rewriter.modifyOpInPlace(op, [&] {
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
  return changed;
}

/// The runs of consecutive loops an elementwise op can run as one (each
/// run contiguous, or absent, in every operand's indexing map) when that
/// merges any, else nothing. Why: LLVM vectorizes only the innermost loop,
/// and an NCHW activation's is its width -- 7 or 14 in a CNN's late
/// stages, too short to vectorize at all (a sigmoid over 1x672x14x14 ran
/// scalar: 581 us; as one loop of 131712, 73 us).
SmallVector<ReassociationIndices> mergeableLoops(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  int64_t loops = op.getNumLoops();
  if (!generic || loops < 2)
    return {};
  // Runs of one kind only: a reduction over H and W of NCHW (global
  // average pooling, squeeze-and-excitation) becomes one loop of H*W.
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  // Only contiguous buffers can be viewed with merged dimensions.
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<MemRefType>(operand.getType());
        !type || !type.getLayout().isIdentity())
      return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // (collapseOpIterationDims handles dims and their absence, not constant
  // indices such as a broadcast size-1 axis read at 0.)
  if (!llvm::all_of(maps, [](AffineMap m) { return m.isProjectedPermutation(); }))
    return {};
  SmallVector<ReassociationIndices> runs;
  ReassociationIndices run{0};
  for (int64_t d = 1; d < loops; ++d) {
    ReassociationIndices longer = run;
    longer.push_back(d);
    if (iterators[d] == iterators[run.front()] &&
        linalg::areDimSequencesPreserved(maps, {longer})) {
      run = longer;
      continue;
    }
    runs.push_back(run);
    run = {d};
  }
  runs.push_back(run);
  if (static_cast<int64_t>(runs.size()) == loops)
    return {};
  return runs;
}

/// Whether two index values are the same: one value, or the same
/// affine.apply of the same values (linalgOpToLoops computes an operand's
/// indices apart for each access).
bool sameIndex(Value a, Value b) {
  if (a == b)
    return true;
  auto x = a.getDefiningOp<affine::AffineApplyOp>();
  auto y = b.getDefiningOp<affine::AffineApplyOp>();
  return x && y && x.getAffineMap() == y.getAffineMap() &&
         llvm::equal(x.getMapOperands(), y.getMapOperands(), sameIndex);
}

/// The innermost loop of a reduction as a loop-carried value: the element
/// of the output it accumulates into (loaded and stored back in every
/// iteration, at indices the loop does not change) read once before the
/// loop and written once after it, and the loop marked for vectorization
/// where that may reorder the sum.
/// Why: LLVM cannot tell that the output and the input do not overlap, so
/// it kept the load and store in the loop and ran it scalar, one
/// dependent add per element (a mean over 672x14x14, squeeze-and-
/// excitation's pooling: 95 us, 6x ONNX Runtime; now 9). The mark lets
/// LLVM reorder the combining, so it is set only where every floating-point
/// op of the body is `reassoc` (as FlashToLinalg's sums are); the others
/// keep their order, in a register. Nothing changes unless the loop's
/// body is that load, a store of a value computed from it to the same
/// place, and reads of other buffers.
void promoteAccumulator(IRRewriter &rewriter, linalg::LinalgOp op,
                        MutableArrayRef<Operation *> loops) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (loops.empty() || iterators.size() != loops.size() ||
      iterators.back() != utils::IteratorType::reduction)
    return;
  auto loop = dyn_cast<scf::ForOp>(loops.back());
  if (!loop || loop.getNumRegionIterArgs() != 0)
    return;
  // The output's indices (affine.apply of the outer loops' variables)
  // out of the loop first.
  moveLoopInvariantCode(cast<LoopLikeOpInterface>(loop.getOperation()));
  memref::LoadOp load;
  memref::StoreOp store;
  for (Operation &inner : loop.getBody()->without_terminator()) {
    if (auto s = dyn_cast<memref::StoreOp>(inner)) {
      if (store)
        return;
      store = s;
    } else if (!isPure(&inner) && !isa<memref::LoadOp>(inner)) {
      return;
    }
  }
  if (!store)
    return;
  auto invariant = [&](Value v) { return loop.isDefinedOutsideOfLoop(v); };
  if (!llvm::all_of(store.getIndices(), invariant) ||
      !invariant(store.getMemRef()))
    return;
  for (Operation &inner : loop.getBody()->without_terminator()) {
    auto l = dyn_cast<memref::LoadOp>(inner);
    if (!l || l.getMemRef() != store.getMemRef())
      continue;
    if (load || !llvm::equal(l.getIndices(), store.getIndices(), sameIndex))
      return; // another element of the output, or a second read
    load = l;
  }
  if (!load)
    return;
  Value output = store.getMemRef(), stored = store.getValueToStore();
  SmallVector<Value> indices(store.getIndices());
  rewriter.setInsertionPoint(loop);
  Value initial =
      memref::LoadOp::create(rewriter, load.getLoc(), output, indices);
  FailureOr<LoopLikeOpInterface> carried =
      cast<LoopLikeOpInterface>(loop.getOperation())
          .replaceWithAdditionalYields(
              rewriter, ValueRange{initial},
              /*replaceInitOperandUsesInLoop=*/false,
              [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                return SmallVector<Value>{stored};
              });
  if (failed(carried))
    return;
  auto promoted = cast<scf::ForOp>(carried->getOperation());
  rewriter.replaceAllUsesWith(load.getResult(),
                              promoted.getRegionIterArgs().back());
  rewriter.eraseOp(load);
  rewriter.eraseOp(store);
  rewriter.setInsertionPointAfter(promoted);
  memref::StoreOp::create(rewriter, promoted.getLoc(),
                          promoted.getResults().back(), output, indices);
  loops.back() = promoted;
  // Vectorizing reorders the combining: only where every floating-point
  // op in the body allows it.
  bool reorderable = true;
  promoted.getBody()->walk([&](arith::ArithFastMathInterface math) {
    if (!bitEnumContainsAll(math.getFastMathFlagsAttr().getValue(),
                            arith::FastMathFlags::reassoc))
      reorderable = false;
  });
  if (!reorderable)
    return;
  MLIRContext *ctx = op.getContext();
  auto vectorize = LLVM::LoopVectorizeAttr::get(
      ctx, /*disable=*/BoolAttr::get(ctx, false), {}, {}, {}, {}, {}, {});
  promoted->setAttr("loop_annotation",
                    LLVM::LoopAnnotationAttr::get(
                        ctx, {}, vectorize, {}, {}, {}, {}, {}, {}, {}, {},
                        {}, {}, {}, {}, {}));
}

/// A transpose that moves the innermost axis reads (or writes) one element
/// per cache line in its inner loop: 512x512 took 6.5 cycles per element
/// and thread, 64^3 reversed 11. Square tiles of the two dimensions
/// involved keep a tile's lines in L1 while it is copied (tile sizes of 1
/// elsewhere keep the other loops outside): 8x8, as 16 rows 4 KiB apart
/// overflow an 8-way L1 set (measured here: 8x8 2-5x faster than untiled,
/// 16x16 1.3-2.5x, 4x4 between). None for other ops.
constexpr int64_t kTransposeTile = 8;

std::optional<SmallVector<int64_t>> transposeTiles(linalg::LinalgOp op) {
  auto transpose = dyn_cast<linalg::TransposeOp>(op.getOperation());
  if (!transpose)
    return std::nullopt;
  // Loops run over the result's dimensions; result dim i reads input dim
  // perm[i].
  ArrayRef<int64_t> perm = transpose.getPermutation();
  int64_t rank = perm.size();
  if (rank < 2 || perm[rank - 1] == rank - 1)
    return std::nullopt;
  SmallVector<int64_t> tiles(rank, 1);
  tiles[rank - 1] = kTransposeTile;
  tiles[llvm::find(perm, rank - 1) - perm.begin()] = kTransposeTile;
  return tiles;
}

struct LinalgToLoops : mlir::flash::impl::LinalgToLoopsBase<LinalgToLoops> {
  using Base::Base;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Copies between strided views (e.g. into the interior of a padded
    // buffer) would lower to an element-by-element runtime call
    // (memrefCopy); as linalg.copy they become plain, vectorizable loops.
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (!source.getLayout().isIdentity() || !target.getLayout().isIdentity())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    }

    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
          generic && op.getNumReductionLoops() == 0)
        dropBroadcastUnitAxes(generic, rewriter);
      if (SmallVector<ReassociationIndices> runs = mergeableLoops(op);
          !runs.empty()) {
        FailureOr<linalg::CollapseResult> merged =
            linalg::collapseOpIterationDims(op, runs, rewriter);
        if (succeeded(merged)) {
          rewriter.eraseOp(op);
          op = merged->collapsedOp;
          rewriter.setInsertionPoint(op);
        }
      }
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      int64_t iterations = 1;
      for (int64_t range : ranges)
        iterations =
            ShapedType::isDynamic(range) ? INT64_MAX : iterations * range;
      SmallVector<Operation *> outer; // the loops to parallelize from
      linalg::LinalgOp body = op;
      if (auto tiles = transposeTiles(op)) {
        linalg::LinalgTilingOptions tiling;
        tiling.setTileSizes(*tiles);
        auto tiled = linalg::tileLinalgOp(rewriter, op, tiling);
        if (failed(tiled)) {
          op.emitError("transpose could not be tiled");
          return signalPassFailure();
        }
        outer.assign(tiled->loops.begin(), tiled->loops.end());
        for (auto [range, tile] : llvm::zip(ranges, *tiles))
          range = ShapedType::isDynamic(range) ? range : llvm::divideCeil(range, tile);
        body = tiled->op;
        rewriter.setInsertionPoint(body);
      }
      auto loops = linalg::linalgOpToLoops(rewriter, body);
      if (failed(loops)) {
        op.emitError("could not be lowered to loops");
        return signalPassFailure();
      }
      if (markParallelInnermost) {
        markIndependentIterations(body, *loops);
        promoteAccumulator(rewriter, body, *loops);
      }
      if (outer.empty())
        outer.assign(loops->begin(), loops->end());
      if (parallelMinIterations > 0 && iterations >= parallelMinIterations)
        if (SmallVector<scf::ForOp> nest = parallelCandidate(
                op, outer, ranges, /*vectorized=*/body == op);
            !nest.empty())
          makeParallel(rewriter, nest);
      if (body != op)
        rewriter.eraseOp(body);
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
