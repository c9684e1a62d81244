//===- FuseElementwise.cpp - Elementwise fusion that keeps contractions ---===//
//
// MLIR's linalg-fuse-elementwise-ops fuses an elementwise producer into any
// consumer, including a matmul in generic form: `matmul(x + b, w)` then
// becomes one generic that is no longer a plain contraction, so it misses
// the sgemm ukernel and runs as naive loops. This pass uses the same
// upstream patterns with a control function that leaves contractions (and
// convolutions) alone; elementwise chains and reductions still fuse.
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::flash {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
bool isContractionLike(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && (linalg::isaContractionOpInterface(linalgOp) ||
                      linalg::isaConvolutionOpInterface(linalgOp));
}

struct FuseElementwise
    : mlir::flash::impl::FuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          // As upstream's default: only producers with a single use.
          return producer && producer->hasOneUse() &&
                 !isContractionLike(fused->getOwner()) &&
                 !isContractionLike(producer);
        });
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
