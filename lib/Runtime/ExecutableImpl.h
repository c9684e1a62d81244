//===- ExecutableImpl.h - What an Executable holds (private) ----*- C++ -*-===//
#ifndef FLASH_LIB_RUNTIME_EXECUTABLEIMPL_H
#define FLASH_LIB_RUNTIME_EXECUTABLEIMPL_H

#include "flash/Runtime/Executable.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"

#include <memory>
#include <string>
#include <vector>

namespace flash::runtime {
struct Executable::Impl {
  std::vector<std::string> remarks;
  CompileTimes times;
  std::string source;
  /// The cache entry's object code (mapped) and the JIT that loaded it
  /// (destroyed first).
  std::unique_ptr<llvm::MemoryBuffer> cachedObject;
  std::unique_ptr<llvm::orc::LLJIT> cachedJit;
  std::string pipelineOptions;
  std::string bufferName;
  std::string entry;
  std::string target = "host";
  bool runnable = true;
  std::string notRunnable; ///< why run() refuses, if !runnable
  std::vector<KernelLaunch> launches;
  std::vector<DeviceBinary> deviceBinaries;
  std::vector<TensorSpec> inputs, outputs;
  // Sizes and strides of every argument (inputs, then outputs), kept here so
  // the packed call can point into them.
  std::vector<std::vector<int64_t>> sizes, strides;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*packedFn)(void **) = nullptr;
};
} // namespace flash::runtime

#endif // FLASH_LIB_RUNTIME_EXECUTABLEIMPL_H
