//===- RuntimeSymbols.h - What compiled code may call (private) -*- C++ -*-===//
//
// The symbols JIT-compiled code links against besides the process: LLVM's
// OpenMP runtime (parallel loops), the ukernels and MLIR's memrefCopy.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_RUNTIME_RUNTIMESYMBOLS_H
#define FLASH_LIB_RUNTIME_RUNTIMESYMBOLS_H

#include "llvm/Support/Error.h"

namespace mlir {
class ExecutionEngine;
} // namespace mlir
namespace llvm::orc {
class LLJIT;
} // namespace llvm::orc

namespace flash::runtime::detail {
/// Whether LLVM's OpenMP runtime is installed (else loops stay sequential).
bool hasOpenMPRuntime();
/// Its path (libomp.so).
const char *openMPRuntimePath();
/// Makes the ukernels and memrefCopy visible to an engine's code.
void registerRuntimeSymbols(mlir::ExecutionEngine &engine);
/// Everything the compiled code may call, for a JIT over a cached object:
/// the process, libomp, the ukernels and memrefCopy.
llvm::Error addRuntimeSymbols(llvm::orc::LLJIT &jit);
} // namespace flash::runtime::detail

#endif // FLASH_LIB_RUNTIME_RUNTIMESYMBOLS_H
