//===- Passes.h - Flash conversion passes -----------------------*- C++ -*-===//
#ifndef FLASH_CONVERSION_PASSES_H
#define FLASH_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::flash {
#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "flash/Conversion/Passes.h.inc"
} // namespace mlir::flash

#endif // FLASH_CONVERSION_PASSES_H
