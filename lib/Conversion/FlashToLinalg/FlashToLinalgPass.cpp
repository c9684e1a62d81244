//===- FlashToLinalgPass.cpp - The convert-flash-to-linalg pass -----------===//
#include "flash/Conversion/Passes.h"
#include "Patterns.h"
#include "flash/Dialect/Flash/IR/FlashDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::flash {
#define GEN_PASS_DEF_CONVERTFLASHTOLINALG
#include "flash/Conversion/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;
using namespace mlir::flash;

void mlir::flash::populateFlashToLinalgPatterns(RewritePatternSet &patterns,
                                                bool poolFlatRows) {
  populateTensorPatterns(patterns);
  populateElementwisePatterns(patterns);
  populateLinearPatterns(patterns);
  populateLayoutPatterns(patterns);
  populateReductionPatterns(patterns);
  populateConvolutionPatterns(patterns, poolFlatRows);
  populateIndexingPatterns(patterns);
}

namespace {
struct ConvertFlashToLinalg
    : mlir::flash::impl::ConvertFlashToLinalgBase<ConvertFlashToLinalg> {
  using Base::Base;
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<FlashDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect,
                           func::FuncDialect>();
    RewritePatternSet patterns(&getContext());
    populateFlashToLinalgPatterns(patterns, poolFlatRows);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
