//===- HostTarget.cpp - LLVM for the host CPU -----------------------------===//
#include "HostTarget.h"
#include "Remarks.h"
#include "flash/Runtime/Ukernels.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>
#include <mutex>

namespace rt = ::flash::runtime::detail;
using namespace ::flash::runtime;

void rt::initializeLLVMOnce() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    // LLVM's OpenMP runtime runs the parallel loops; it reads these when it
    // loads. Idle OpenMP workers spin 1 ms (not the default 200 ms), so they
    // do not compete with the ukernels' thread pool for the cores.
    setenv("KMP_BLOCKTIME", "1", /*overwrite=*/0);
    setenv("OMP_NUM_THREADS",
           std::to_string(::flash::runtime::getNumThreads()).c_str(), 0);
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::unique_ptr<llvm::TargetMachine>
rt::makeHostTargetMachine(std::string &error) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = llvm::toString(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = builder->createTargetMachine();
  if (!tm) {
    error = llvm::toString(tm.takeError());
    return nullptr;
  }
  return std::move(*tm);
}

/// LLVM -O3 for the host, shared by the JIT and the "llvm-ir" stage so that
/// what is printed is what runs. As MLIR's makeOptimizingTransformer, plus
/// the pipeline's tuning knobs: the vectorizers and unrolling (LLVM's
/// PipelineTuningOptions) and the preferred vector width (the
/// "prefer-vector-width" function attribute X86's cost model reads).
llvm::Error rt::optimizeModule(
    llvm::Module *module, llvm::TargetMachine *tm,
    const mlir::flash::PipelineOptions &options,
    std::shared_ptr<std::vector<std::string>> remarks) {
  if (remarks)
    module->getContext().setDiagnosticHandler(
        std::make_unique<RemarkCollector>(remarks));
  if (options.vectorWidth > 0)
    for (llvm::Function &f : *module)
      if (!f.isDeclaration())
        f.addFnAttr("prefer-vector-width",
                    std::to_string(options.vectorWidth));
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = options.vectorize;
  tuning.SLPVectorization = options.vectorize;
  tuning.LoopUnrolling = options.unroll;
  tuning.LoopInterleaving = options.interleave;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(*module, mam);
  return llvm::Error::success();
}
