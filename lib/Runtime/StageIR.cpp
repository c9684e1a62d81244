//===- StageIR.cpp - The IR of a compiled function after any stage --------===//
//
// Re-derived from the source by the same pipeline functions (and the same
// LLVM -O3) the compile used, so that what is printed is what runs.
//
//===----------------------------------------------------------------------===//
#include "ExecutableImpl.h"
#include "HostTarget.h"
#include "ParsedModule.h"
#include "flash/Pipelines/Pipelines.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"

#include <algorithm>

using namespace mlir;
using namespace ::flash::runtime;
using namespace ::flash::runtime::detail;

std::vector<std::string> Executable::stageNames() {
  return stageNames("host");
}

std::vector<std::string> Executable::stageNames(const std::string &target) {
  const mlir::flash::Target *t = mlir::flash::lookupTarget(target);
  std::vector<std::string> names = {"flash"};
  for (const auto &stage : mlir::flash::getLoweringStages(
           t ? t->kind : mlir::flash::TargetKind::Host))
    names.push_back(stage.name);
  names.push_back("llvm-ir");
  names.push_back("asm");
  return names;
}

bool Executable::sourceText(const std::string &source,
                            const std::string &bufferName, std::string &text,
                            std::string &error) {
  ParsedModule parsed;
  if (!parsed.parse(source, bufferName)) {
    error = parsed.diagnostics;
    return false;
  }
  llvm::raw_string_ostream os(text);
  parsed.module->print(os, mlir::OpPrintingFlags().enableDebugInfo(
                               /*enable=*/true, /*prettyForm=*/false));
  return true;
}

bool Executable::stageIR(const std::string &stage, std::string &text,
                         std::string &error) const {
  std::vector<std::string> names = stageNames(impl->target);
  auto it = std::find(names.begin(), names.end(), stage);
  if (it == names.end()) {
    error = "unknown stage '" + stage + "'; stages are:";
    for (const auto &name : names)
      error += " " + name;
    return false;
  }
  initializeLLVMOnce();
  auto pipelineOptions = parsePipelineOptions(impl->pipelineOptions, error);
  if (!pipelineOptions)
    return false;
  ParsedModule parsed;
  if (!parsed.parse(impl->sourceBytes(), impl->bufferName)) {
    error = parsed.diagnostics;
    return false;
  }
  const mlir::flash::Target *target = mlir::flash::lookupTarget(impl->target);
  auto stages = mlir::flash::getLoweringStages(
      target ? target->kind : mlir::flash::TargetKind::Host);
  size_t mlirStages = std::min<size_t>(it - names.begin(), stages.size());
  for (size_t i = 0; i < mlirStages; ++i)
    if (!parsed.runPipeline(stages[i].build, *pipelineOptions)) {
      error = parsed.diagnostics;
      return false;
    }
  llvm::raw_string_ostream os(text);
  if (static_cast<size_t>(it - names.begin()) <= stages.size()) {
    parsed.module->print(os);
    return true;
  }

  // LLVM IR (optimized as the JIT does) or host assembly.
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateModuleToLLVMIR(*parsed.module, llvmContext);
  if (!llvmModule) {
    error = "translation to LLVM IR failed\n" + parsed.diagnostics;
    return false;
  }
  auto tm = makeHostTargetMachine(error);
  if (!tm)
    return false;
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple());
  if (auto err = optimizeModule(llvmModule.get(), tm.get(), *pipelineOptions)) {
    error = llvm::toString(std::move(err));
    return false;
  }
  if (stage == "llvm-ir") {
    llvmModule->print(os, nullptr);
    return true;
  }
  llvm::SmallString<0> assembly;
  llvm::raw_svector_ostream asmStream(assembly);
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, asmStream, nullptr,
                              llvm::CodeGenFileType::AssemblyFile)) {
    error = "the host target cannot emit assembly";
    return false;
  }
  codegen.run(*llvmModule);
  os << assembly;
  return true;
}
