//===- CachedObject.h - Compiled code as object files (private) -*- C++ -*-===//
//
// The compile cache's path: an engine's code as an object file, and a JIT
// that runs a cached object file without compiling anything.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_RUNTIME_CACHEDOBJECT_H
#define FLASH_LIB_RUNTIME_CACHEDOBJECT_H

#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace flash::runtime::detail {
/// A JIT over a cached object file: links it against the runtime and finds
/// the packed entry point that MLIR's ExecutionEngine put in it.
llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>>
loadObject(std::unique_ptr<llvm::MemoryBuffer> object, const std::string &entry,
           void (**packedFn)(void **));
/// The object code of a compiled engine, as bytes.
std::string objectCode(mlir::ExecutionEngine &engine);
} // namespace flash::runtime::detail

#endif // FLASH_LIB_RUNTIME_CACHEDOBJECT_H
