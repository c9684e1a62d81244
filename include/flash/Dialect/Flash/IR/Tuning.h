//===- Tuning.h - Tuned parameters carried on ops ----------------*- C++ -*-===//
//
// fc.tune's database puts an op's best ukernel parameters on the Flash op
// as a discardable attribute; each lowering that replaces the op copies it
// to its replacement, so it reaches the ukernel call MatmulToUkernel makes.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_DIALECT_FLASH_IR_TUNING_H
#define FLASH_DIALECT_FLASH_IR_TUNING_H

#include "mlir/IR/Operation.h"

namespace mlir::flash {

/// array<i64: mc, kc, nc, threads, tile, packB> (the runtime's SgemmConfig).
inline constexpr llvm::StringLiteral kSgemmAttr = "flash.sgemm";

/// Copies the tuned parameters of `from` (if any) onto `to`.
inline void copyTuning(Operation *from, Operation *to) {
  if (Attribute attr = from->getAttr(kSgemmAttr))
    to->setAttr(kSgemmAttr, attr);
}

} // namespace mlir::flash

#endif // FLASH_DIALECT_FLASH_IR_TUNING_H
