//===- HostTarget.h - LLVM for the host CPU (private) ------------*- C++ -*-===//
//
// LLVM's set-up for compiling to the host: initialization, the target
// machine, and the -O3 module pipeline with the pipeline's tuning knobs,
// shared by the JIT and the "llvm-ir"/"asm" stages so that what is printed
// is what runs.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_RUNTIME_HOSTTARGET_H
#define FLASH_LIB_RUNTIME_HOSTTARGET_H

#include "flash/Pipelines/Pipelines.h"

#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace flash::runtime::detail {
/// Initializes the native target (and the OpenMP runtime's environment)
/// once per process.
void initializeLLVMOnce();
/// The host's target machine at -O3; null with `error` on failure.
std::unique_ptr<llvm::TargetMachine> makeHostTargetMachine(std::string &error);
/// LLVM -O3 for the host, as MLIR's makeOptimizingTransformer, plus the
/// pipeline's tuning knobs. Collects LLVM's remarks into `remarks` if given.
llvm::Error
optimizeModule(llvm::Module *module, llvm::TargetMachine *tm,
               const mlir::flash::PipelineOptions &options,
               std::shared_ptr<std::vector<std::string>> remarks = nullptr);
} // namespace flash::runtime::detail

#endif // FLASH_LIB_RUNTIME_HOSTTARGET_H
