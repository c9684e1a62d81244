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
/// Makes `loop` an scf.parallel with the same bounds and body.
void makeParallel(IRRewriter &rewriter, scf::ForOp loop) {
  rewriter.setInsertionPoint(loop);
  auto parallel = scf::ParallelOp::create(
      rewriter, loop.getLoc(), ValueRange{loop.getLowerBound()},
      ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator());
  rewriter.inlineBlockBefore(body, parallel.getBody()->getTerminator(),
                             parallel.getInductionVars());
  rewriter.eraseOp(loop);
}

/// The loop to run in parallel: the outermost one over a parallel dimension
/// with enough iterations to share. Only one, not all of them collapsed:
/// a collapsed nest recomputes every index with divisions and hides the
/// inner loops from LLVM's vectorizer.
scf::ForOp parallelCandidate(linalg::LinalgOp op, ArrayRef<Operation *> loops) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (auto [dim, loop] : llvm::enumerate(loops)) {
    auto forOp = dyn_cast<scf::ForOp>(loop);
    if (forOp && dim < iterators.size() &&
        iterators[dim] == utils::IteratorType::parallel && ranges[dim] >= 8)
      return forOp;
  }
  return nullptr;
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
      int64_t iterations = 1;
      for (int64_t range : op.getStaticLoopRanges())
        iterations =
            ShapedType::isDynamic(range) ? INT64_MAX : iterations * range;
      auto loops = linalg::linalgOpToLoops(rewriter, op);
      if (failed(loops)) {
        op.emitError("could not be lowered to loops");
        return signalPassFailure();
      }
      if (parallelMinIterations > 0 && iterations >= parallelMinIterations)
        if (scf::ForOp loop = parallelCandidate(op, *loops))
          makeParallel(rewriter, loop);
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
