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
/// On the im2col gather flash-conv-to-im2col makes: array<i64: kh, kw, sh,
/// sw, dh, dw>, the window, which flash-matmul-to-ukernel reads to gather
/// the patches while packing them (implicit GEMM) and drop the gather.
inline constexpr llvm::StringLiteral kIm2colAttr = "flash.im2col";

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

#endif // FLASH_CODEGEN_PASSES_H
