//===- CachedObject.cpp - Compiled code as object files -------------------===//
#include "CachedObject.h"
#include "RuntimeSymbols.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace rt = ::flash::runtime::detail;
using namespace mlir;
using namespace ::flash::runtime;

// The link copies the object's sections into fresh JIT memory (a model's
// weights: 76 MB for ResNet-18), and faulting that in is most of its ~47 ms.
// JIT memory in transparent huge pages (MADV_HUGEPAGE through a JITLink
// memory mapper) linked a warm hit in ~15 ms but the first hit after a
// compile in ~170 ms, the kernel compacting memory for them: not taken.
llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>>
rt::loadObject(std::unique_ptr<llvm::MemoryBuffer> object, const std::string &entry,
           void (**packedFn)(void **)) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*builder))
                 .create();
  if (!jit)
    return jit.takeError();
  if (auto err = addRuntimeSymbols(**jit))
    return std::move(err);
  if (auto err = (*jit)->addObjectFile(std::move(object)))
    return std::move(err);
  auto symbol = (*jit)->lookup("_mlir_" + entry);
  if (!symbol)
    return symbol.takeError();
  if (auto err = (*jit)->initialize((*jit)->getMainJITDylib()))
    return std::move(err);
  *packedFn = symbol->toPtr<void (*)(void **)>();
  return std::move(*jit);
}

std::string rt::objectCode(ExecutionEngine &engine) {
  // ExecutionEngine hands its object out only as a file, and a write error
  // there is a fatal LLVM error that ends the process: on a full /tmp every
  // compile died. On Linux the file is an anonymous one in memory (memfd).
#ifdef __linux__
  int fd = memfd_create("flash-object", MFD_CLOEXEC);
  if (fd < 0)
    return "";
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  engine.dumpToObjectFile(path);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  ::close(fd);
#else
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("flash", "o", path))
    return "";
  engine.dumpToObjectFile(path);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
#endif
  return buffer ? (*buffer)->getBuffer().str() : "";
}
