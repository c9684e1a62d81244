//===- InitAll.h - Everything a Flash tool needs registered -----*- C++ -*-===//
#ifndef FLASH_INITALL_H
#define FLASH_INITALL_H

namespace mlir {
class DialectRegistry;
namespace flash {
/// The dialects the Flash pipelines produce or consume, their bufferization
/// and LLVM-translation interfaces. One list for flash-opt and the runtime.
void registerAllDialects(DialectRegistry &registry);
/// Flash passes and named pipelines, plus the upstream passes flash-opt
/// users need to replay a pipeline step by step.
void registerAllPasses();
} // namespace flash
} // namespace mlir

#endif // FLASH_INITALL_H
