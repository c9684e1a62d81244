//===- LinalgToLoops.cpp - Linalg -> (parallel) loops by size -------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

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

/// The loops to run in parallel: the outermost one over a parallel
/// dimension with enough iterations to share, together with the parallel
/// loops around it when they have too few (4 attention heads around 128
/// rows: one parallel region over the 512 rows rather than a region per
/// head, whose fork and join cost more than a head's share of a softmax
/// on two threads). Not every loop collapsed: a collapsed nest recomputes
/// every index with divisions and hides the inner loops from LLVM's
/// vectorizer. `ranges`: each loop's trip count.
SmallVector<scf::ForOp> parallelCandidate(linalg::LinalgOp op,
                                          ArrayRef<Operation *> loops,
                                          ArrayRef<int64_t> ranges) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<scf::ForOp> nest;
  for (auto [dim, loop] : llvm::enumerate(loops)) {
    auto forOp = dyn_cast<scf::ForOp>(loop);
    if (!forOp || dim >= iterators.size() ||
        iterators[dim] != utils::IteratorType::parallel)
      return {};
    nest.push_back(forOp);
    if (ranges[dim] >= 8)
      return nest;
  }
  return {};
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
      if (outer.empty())
        outer.assign(loops->begin(), loops->end());
      if (parallelMinIterations > 0 && iterations >= parallelMinIterations)
        if (SmallVector<scf::ForOp> nest = parallelCandidate(op, outer, ranges);
            !nest.empty())
          makeParallel(rewriter, nest);
      if (body != op)
        rewriter.eraseOp(body);
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
