//===- ParsedModule.cpp - Flash IR parsed for a pipeline ------------------===//
#include "ParsedModule.h"
#include "RuntimeSymbols.h"
#include "flash/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

namespace rt = ::flash::runtime::detail;
using namespace mlir;
using namespace ::flash::runtime;

namespace {
/// A context with every dialect the pipelines need. Threading is off: the
/// modules are small, and a thread pool per compiled op would be wasteful.
std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  mlir::flash::registerAllDialects(registry);
  auto ctx =
      std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  ctx->loadAllAvailableDialects();
  return ctx;
}
} // namespace

bool rt::ParsedModule::parse(const std::string &source,
                         const std::string &bufferName) {
  ctx = makeContext();
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(source, bufferName), llvm::SMLoc());
  handler =
      std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, ctx.get(), os);
  module = parseSourceFile<ModuleOp>(sourceMgr, ctx.get());
  return static_cast<bool>(module);
}

bool rt::ParsedModule::runPipeline(
    void (*build)(OpPassManager &, const mlir::flash::PipelineOptions &),
    const mlir::flash::PipelineOptions &options, std::string *passTimings) {
  PassManager pm(ctx.get(), ModuleOp::getOperationName());
  build(pm, options);
  if (!passTimings)
    return succeeded(pm.run(*module));
  // MLIR's own pass timing (-mlir-timing), as a list, into the string.
  llvm::raw_string_ostream out(*passTimings);
  DefaultTimingManager timing;
  timing.setEnabled(true);
  timing.setDisplayMode(DefaultTimingManager::DisplayMode::List);
  timing.setOutput(createOutputStrategy(
      DefaultTimingManager::OutputFormat::Text, out));
  bool ok;
  {
    TimingScope root = timing.getRootScope();
    pm.enableTiming(root);
    ok = succeeded(pm.run(*module));
  }
  timing.print();
  timing.setEnabled(false); // printed once, not again when destroyed
  return ok;
}

/// Parses "key=value ..." pipeline options; null with `error` if invalid.
std::unique_ptr<mlir::flash::PipelineOptions>
rt::parsePipelineOptions(const std::string &text, std::string &error) {
  auto options = mlir::flash::PipelineOptions::createFromString(text);
  if (!options) {
    error = "invalid pipeline options '" + text + "'";
    return nullptr;
  }
  // Without LLVM's OpenMP runtime on this machine, generated loops stay
  // sequential rather than failing to link.
  if (!hasOpenMPRuntime())
    options->parallelMinIterations = 0;
  return options;
}
