//===- Patterns.h - Flash to Linalg patterns (private) ----------*- C++ -*-===//
//
// The lowering is split by op family, one populate function per file, as in
// torch-mlir's TorchToLinalg. Private to this folder: the rest of the
// compiler reaches the lowering through its pass (Passes.h).
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_CONVERSION_FLASHTOLINALG_PATTERNS_H
#define FLASH_LIB_CONVERSION_FLASHTOLINALG_PATTERNS_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::flash {
/// flash.constant.
void populateTensorPatterns(RewritePatternSet &patterns);
/// Elementwise ops (NumPy broadcasting) and flash.bias_add.
void populateElementwisePatterns(RewritePatternSet &patterns);
/// flash.matmul, flash.batch_matmul.
void populateLinearPatterns(RewritePatternSet &patterns);
/// flash.transpose, flash.reshape, flash.concat.
void populateLayoutPatterns(RewritePatternSet &patterns);
/// flash.reduce_sum, flash.reduce_mean, flash.reduce_max.
void populateReductionPatterns(RewritePatternSet &patterns);
/// flash.conv2d, flash.max_pool2d, flash.avg_pool2d. `poolFlatRows`:
/// stride-1 pooling over flat padded planes (for generated loops; the
/// pooling ukernel matches the plain window generic).
void populateConvolutionPatterns(RewritePatternSet &patterns,
                                 bool poolFlatRows = true);
void populateIndexingPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateFlashToLinalgPatterns(RewritePatternSet &patterns,
                                   bool poolFlatRows = true);
} // namespace mlir::flash

#endif
