//===- FuzzFlashIR.cpp - libFuzzer: Flash IR text through the pipeline ----===//
//
// An input is Flash IR text. It is parsed and verified; if it is a module of
// func and flash ops only (the input language of fc.compile_mlir and
// flash-run) with small tensors, the whole --flash-to-llvm pipeline runs on
// it. Any diagnostic is fine; a crash, a sanitizer report or a timeout is a
// bug. Bounded per input: 64 KiB of text, 2^16 elements per tensor.
//
//===----------------------------------------------------------------------===//
#include "flash/InitAll.h"
#include "flash/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <string>

using namespace mlir;

namespace {
constexpr size_t kMaxInput = 1 << 16;
constexpr int64_t kMaxElements = 1 << 16;

/// Whether the pipeline should run on `module`: func and flash ops only,
/// static tensors of at most kMaxElements elements.
bool inScope(ModuleOp module) {
  bool ok = true;
  module.walk([&](Operation *op) {
    StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
    if (!isa<ModuleOp>(op) && ns != "func" && ns != "flash")
      ok = false;
    auto small = [&](Type t) {
      auto shaped = dyn_cast<ShapedType>(t);
      if (shaped && (!shaped.hasStaticShape() ||
                     shaped.getNumElements() > kMaxElements))
        ok = false;
    };
    for (Type t : op->getOperandTypes())
      small(t);
    for (Type t : op->getResultTypes())
      small(t);
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          small(arg.getType());
  });
  return ok;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry;
    flash::registerAllDialects(*r);
    return r;
  }();
  if (size > kMaxInput)
    return 0;
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  // MLIR's lexer reads up to a terminating NUL (as every file and string it
  // is given in FlashCompile has): libFuzzer's bytes have none.
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  if (!module || !inScope(*module))
    return 0;
  PassManager pm(&context);
  flash::PipelineOptions options;
  flash::buildFlashToLLVMPipeline(pm, options);
  (void)pm.run(*module);
  return 0;
}
