//===- ApproximateMath.cpp - exp, erf and tanh as polynomials; simple pow -===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::flash {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
struct ApproximateMath
    : mlir::flash::impl::ApproximateMathBase<ApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    auto selected = [](StringRef name) {
      name.consume_front("math.");
      return name == "exp" || name == "tanh" || name == "erf";
    };
    populateMathPolynomialApproximationPatterns(patterns, selected);
    // pow with a constant exponent as multiplications, sqrt or a division
    // (x^3 in GPT-2's GELU was a libm powf call per element: a quarter of
    // the model's time).
    populateMathAlgebraicSimplificationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
