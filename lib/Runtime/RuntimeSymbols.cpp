//===- RuntimeSymbols.cpp - What compiled code may call -------------------===//
#include "RuntimeSymbols.h"
#include "flash/Runtime/Vulkan.h"
#include "flash/Runtime/Ukernels.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/AbsoluteSymbols.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/FileSystem.h"

#include <dlfcn.h>

#ifndef FLASH_C_RUNNER_UTILS
#define FLASH_C_RUNNER_UTILS ""
#endif
#ifndef FLASH_OPENMP_RUNTIME
#define FLASH_OPENMP_RUNTIME ""
#endif

namespace rt = ::flash::runtime::detail;
using namespace mlir;
using namespace ::flash::runtime;

bool rt::hasOpenMPRuntime() {
  static const bool exists =
      llvm::sys::fs::exists(llvm::StringRef(FLASH_OPENMP_RUNTIME));
  return exists;
}

const char *detail::openMPRuntimePath() { return FLASH_OPENMP_RUNTIME; }

namespace {
/// memrefCopy (a strided memref.copy) from MLIR's C runner utils, opened
/// privately: loaded globally, as ExecutionEngine's sharedLibPaths and
/// DynamicLibrarySearchGenerator::Load would, it brings libLLVM into the
/// process's global scope, where the LLVM linked into other modules
/// (Triton's, which torch.export imports) binds to it and crashes.
void *runnerUtilsSymbol(const char *name) {
  static void *handle = dlopen(FLASH_C_RUNNER_UTILS, RTLD_NOW | RTLD_LOCAL);
  return handle ? dlsym(handle, name) : nullptr;
}

/// What the JIT's code may call besides the process and libomp: the
/// ukernels (linked into this library, which Python loads privately,
/// invisible to a process-wide symbol search) and memrefCopy.
llvm::orc::SymbolMap runtimeSymbols(
    llvm::function_ref<llvm::orc::SymbolStringPtr(llvm::StringRef)> mangle) {
  llvm::orc::SymbolMap symbols;
  for (auto &[name, address] : ::flash::runtime::ukernelSymbols())
    symbols[mangle(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                             llvm::JITSymbolFlags::Exported};
  if (void *copy = runnerUtilsSymbol("memrefCopy"))
    symbols[mangle("memrefCopy")] = {llvm::orc::ExecutorAddr::fromPtr(copy),
                                     llvm::JITSymbolFlags::Exported};
  // Kernel launches of code compiled for target "vulkan".
  for (auto &[name, address] : ::flash::runtime::vulkan::symbols())
    symbols[mangle(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                             llvm::JITSymbolFlags::Exported};
  return symbols;
}
} // namespace

void rt::registerRuntimeSymbols(ExecutionEngine &engine) {
  engine.registerSymbols([](llvm::orc::MangleAndInterner interner) {
    return runtimeSymbols([&](llvm::StringRef name) { return interner(name); });
  });
}

/// Everything the compiled code may call: the process, libomp, the
/// ukernels and memrefCopy.
llvm::Error rt::addRuntimeSymbols(llvm::orc::LLJIT &jit) {
  llvm::orc::JITDylib &dylib = jit.getMainJITDylib();
  char prefix = jit.getDataLayout().getGlobalPrefix();
  auto process =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
  if (!process)
    return process.takeError();
  dylib.addGenerator(std::move(*process));
  if (hasOpenMPRuntime()) { // no LLVM inside: safe to load globally
    auto generator = llvm::orc::DynamicLibrarySearchGenerator::Load(
        FLASH_OPENMP_RUNTIME, prefix);
    if (!generator)
      return generator.takeError();
    dylib.addGenerator(std::move(*generator));
  }
  llvm::orc::MangleAndInterner mangle(jit.getExecutionSession(),
                                      jit.getDataLayout());
  return dylib.define(llvm::orc::absoluteSymbols(
      runtimeSymbols([&](llvm::StringRef name) { return mangle(name); })));
}
