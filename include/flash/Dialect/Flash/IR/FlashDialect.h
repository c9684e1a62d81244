//===- FlashDialect.h - Flash dialect ---------------------------*- C++ -*-===//
#ifndef FLASH_DIALECT_FLASH_IR_FLASHDIALECT_H
#define FLASH_DIALECT_FLASH_IR_FLASHDIALECT_H

#include "mlir/IR/Dialect.h"

#include "flash/Dialect/Flash/IR/FlashOpsDialect.h.inc"

#endif // FLASH_DIALECT_FLASH_IR_FLASHDIALECT_H
