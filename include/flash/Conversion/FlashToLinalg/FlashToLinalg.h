//===- FlashToLinalg.h - Flash to Linalg patterns ---------------*- C++ -*-===//
//
// The lowering is split by op family, one populate function per file, as in
// torch-mlir's TorchToLinalg.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_CONVERSION_FLASHTOLINALG_FLASHTOLINALG_H
#define FLASH_CONVERSION_FLASHTOLINALG_FLASHTOLINALG_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::flash {
/// flash.constant.
void populateTensorPatterns(RewritePatternSet &patterns);
/// flash.add, flash.relu (NumPy broadcasting).
void populateElementwisePatterns(RewritePatternSet &patterns);
/// flash.matmul.
void populateLinearPatterns(RewritePatternSet &patterns);
/// flash.conv2d.
void populateConvolutionPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateFlashToLinalgPatterns(RewritePatternSet &patterns);
} // namespace mlir::flash

#endif
