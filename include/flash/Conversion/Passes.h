//===- Passes.h - Flash conversion passes -----------------------*- C++ -*-===//
#ifndef FLASH_CONVERSION_PASSES_H
#define FLASH_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::flash {
/// On the linalg.generic FlashToLinalg makes of a grouped convolution with
/// several channels per group: array<i64: sh, sw, dh, dw>, for
/// flash-conv-to-im2col to run it as a product per group.
inline constexpr llvm::StringLiteral kGroupedConvAttr = "flash.grouped_conv";

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "flash/Conversion/Passes.h.inc"
} // namespace mlir::flash

#endif // FLASH_CONVERSION_PASSES_H
