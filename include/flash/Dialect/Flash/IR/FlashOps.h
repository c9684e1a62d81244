//===- FlashOps.h - Flash operations ----------------------------*- C++ -*-===//
#ifndef FLASH_DIALECT_FLASH_IR_FLASHOPS_H
#define FLASH_DIALECT_FLASH_IR_FLASHOPS_H

#include "flash/Dialect/Flash/IR/FlashDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::flash {
/// Fails (with an error on `op`) when one of its operand or result types is
/// a shaped type whose element count or byte size exceeds 64-bit sizes.
LogicalResult verifyAddressableShapes(Operation *op);

template <typename ConcreteType>
class AddressableShapes
    : public OpTrait::TraitBase<ConcreteType, AddressableShapes> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return verifyAddressableShapes(op);
  }
};
} // namespace mlir::flash

#define GET_OP_CLASSES
#include "flash/Dialect/Flash/IR/FlashOps.h.inc"

namespace mlir::flash {
/// NumPy broadcasting of two static shapes; std::nullopt if incompatible.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> lhs,
                                                    ArrayRef<int64_t> rhs);
} // namespace mlir::flash

#endif // FLASH_DIALECT_FLASH_IR_FLASHOPS_H
