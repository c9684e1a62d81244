//===- ExecutableImpl.h - What an Executable holds (private) ----*- C++ -*-===//
#ifndef FLASH_LIB_RUNTIME_EXECUTABLEIMPL_H
#define FLASH_LIB_RUNTIME_EXECUTABLEIMPL_H

#include "flash/Builder/BuiltModule.h"
#include "flash/Pipelines/Pipelines.h"
#include "flash/Pipelines/Targets.h"
#include "flash/Runtime/CompileCache.h"
#include "flash/Runtime/Executable.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace flash::runtime {
struct Executable::Impl {
  std::vector<std::string> remarks;
  CompileTimes times;
  /// The program as given (text or bytecode), for stageIR; or empty, with
  /// `built` the module a GraphBuilder built (served from the cache without
  /// being written), written as bytecode when first asked (sourceBytes).
  std::string source;
  std::unique_ptr<::flash::builder::BuiltModule> built;
  std::once_flag sourceWritten;
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

  /// Reads the target, the entry and its argument and result specs off
  /// `module`: what compile and fromCache share. Null with `error` set.
  const mlir::flash::Target *
  describe(mlir::ModuleOp module, const CompileOptions &options,
           const mlir::flash::PipelineOptions &parsedOptions,
           std::string &error);
  /// Links the object the cache holds under `key`; false on a miss (or an
  /// unreadable entry, which the compile then overwrites).
  bool loadCached(const CompileCache &cache, const std::string &key);
  /// `source`, written from `built` on first use.
  const std::string &sourceBytes();
};
} // namespace flash::runtime

#endif // FLASH_LIB_RUNTIME_EXECUTABLEIMPL_H
