//===- Passes.h - Flash GPU code generation passes --------------*- C++ -*-===//
#ifndef FLASH_GPU_PASSES_H
#define FLASH_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::flash {
#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

#endif // FLASH_GPU_PASSES_H
