//===- CachedObject.cpp - Compiled code as object files -------------------===//
#include "CachedObject.h"
#include "RuntimeSymbols.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ExecutionEngine/Orc/EHFrameRegistrationPlugin.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/MapperJITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/MemoryMapper.h"
#include "llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace rt = ::flash::runtime::detail;
using namespace mlir;
using namespace ::flash::runtime;

namespace {
/// A large object's JIT memory in transparent huge pages, where the kernel
/// gives them on request (THP "madvise", as on Debian): linking a model
/// copies its weights (76 MB for ResNet-18) into fresh memory, and faulting
/// that in 4 KiB pages took most of a cache hit's link (47 of 80 ms; 12 with
/// huge pages). Small programs (eager ops) keep 4 KiB pages: a huge page
/// each would hold 2 MiB of memory for a few KiB of code.
class HugePageMapper : public llvm::orc::InProcessMemoryMapper {
public:
  static constexpr size_t kHugePagesFrom = 8 << 20;
  using InProcessMemoryMapper::InProcessMemoryMapper;
  static llvm::Expected<std::unique_ptr<HugePageMapper>> Create() {
    return std::make_unique<HugePageMapper>(
        llvm::sys::Process::getPageSizeEstimate());
  }
  void reserve(size_t numBytes, OnReservedFunction onReserved) override {
    InProcessMemoryMapper::reserve(
        numBytes,
        [numBytes, onReserved = std::move(onReserved)](
            llvm::Expected<llvm::orc::ExecutorAddrRange> range) mutable {
#ifdef MADV_HUGEPAGE
          if (range && numBytes >= kHugePagesFrom)
            ::madvise(range->Start.toPtr<void *>(), range->size(),
                      MADV_HUGEPAGE);
#endif
          onReserved(std::move(range));
        });
  }
};

/// LLJIT's JITLink layer with its memory from HugePageMapper, reserved per
/// object in steps of 1 MiB.
llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>>
hugePageLinkingLayer(llvm::orc::ExecutionSession &session) {
  auto memory = llvm::orc::MapperJITLinkMemoryManager::CreateWithMapper<
      HugePageMapper>(1 << 20);
  if (!memory)
    return memory.takeError();
  auto layer = std::make_unique<llvm::orc::ObjectLinkingLayer>(
      session, std::move(*memory));
  auto ehFrames = llvm::orc::EHFrameRegistrationPlugin::Create(session);
  if (!ehFrames)
    return ehFrames.takeError();
  layer->addPlugin(std::move(*ehFrames));
  return std::move(layer);
}
} // namespace

llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>>
rt::loadObject(std::unique_ptr<llvm::MemoryBuffer> object, const std::string &entry,
           void (**packedFn)(void **)) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*builder))
                 .setObjectLinkingLayerCreator(hugePageLinkingLayer)
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
