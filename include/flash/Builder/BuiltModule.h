//===- BuiltModule.h - A finished GraphBuilder's module ---------*- C++ -*-===//
//
// The module a GraphBuilder finished, with the context that owns it: what
// the runtime looks up in the compile cache without writing and parsing it
// again, and keeps as the executable's source on a hit (Executable.h,
// fromCache). Unlike GraphBuilder.h, this header carries MLIR types.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_BUILDER_BUILTMODULE_H
#define FLASH_BUILDER_BUILTMODULE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <string>

namespace flash::builder {

struct BuiltModule {
  // Declared first: destroyed after the module it owns.
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;

  /// The module as MLIR bytecode (`bytecode`) or text with locations.
  bool write(std::string &out, bool bytecode) const;
};

} // namespace flash::builder

#endif // FLASH_BUILDER_BUILTMODULE_H
