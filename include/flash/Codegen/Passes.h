//===- Passes.h - Flash loop-level (codegen) passes -------------*- C++ -*-===//
#ifndef FLASH_CODEGEN_PASSES_H
#define FLASH_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

namespace mlir::flash {
#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

#endif // FLASH_CODEGEN_PASSES_H
