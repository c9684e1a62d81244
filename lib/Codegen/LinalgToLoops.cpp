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
struct LinalgToLoops : mlir::flash::impl::LinalgToLoopsBase<LinalgToLoops> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      int64_t iterations = 1;
      for (int64_t range : op.getStaticLoopRanges())
        iterations =
            ShapedType::isDynamic(range) ? INT64_MAX : iterations * range;
      bool parallel = parallelMinIterations > 0 &&
                      iterations >= parallelMinIterations &&
                      op.getNumParallelLoops() > 0;
      if (failed(parallel ? linalg::linalgOpToParallelLoops(rewriter, op)
                          : linalg::linalgOpToLoops(rewriter, op))) {
        op.emitError("could not be lowered to loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
