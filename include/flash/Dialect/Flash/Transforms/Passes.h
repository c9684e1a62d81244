//===- Passes.h - Graph-level Flash passes ----------------------*- C++ -*-===//
#ifndef FLASH_DIALECT_FLASH_TRANSFORMS_PASSES_H
#define FLASH_DIALECT_FLASH_TRANSFORMS_PASSES_H

#include "flash/Dialect/Flash/IR/FlashDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::flash {
#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "flash/Dialect/Flash/Transforms/Passes.h.inc"

/// The decomposition patterns of flash-decompose, for other drivers.
void populateDecomposePatterns(RewritePatternSet &patterns);
/// The patterns of flash-fold-batch-norm.
void populateFoldBatchNormPatterns(RewritePatternSet &patterns);
} // namespace mlir::flash

#endif // FLASH_DIALECT_FLASH_TRANSFORMS_PASSES_H
