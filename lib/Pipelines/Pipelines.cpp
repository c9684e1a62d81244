//===- Pipelines.cpp - Named Flash lowering pipelines ---------------------===//
#include "flash/Pipelines/Pipelines.h"
#include "flash/Codegen/Passes.h"
#include "flash/Conversion/Passes.h"
#include "flash/Dialect/Flash/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::flash::buildGraphPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  // Composite ops into primitives, then fold constants (weights too: a
  // transposed Linear weight, batch-norm statistics), remove dead and
  // duplicate ops.
  pm.addPass(createFlashDecompose());
  pm.addPass(createCanonicalizerPass());
  // Batch norms (now a per-channel multiply-add) into the convolutions'
  // weights, then drop the old weights.
  if (options.foldBatchNorm) {
    pm.addPass(createFlashFoldBatchNorm());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createCSEPass());
}

void mlir::flash::buildFlashToLinalgPipeline(OpPassManager &pm,
                                             const PipelineOptions &options) {
  pm.addPass(createConvertFlashToLinalg());
  // One loop nest per chain of elementwise ops: one pass over memory.
  if (options.fuseElementwise)
    pm.addPass(createFuseElementwise());
  if (options.convIm2col)
    pm.addPass(createConvToIm2col({options.convBatchAsColumns}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::flash::buildBufferizePipeline(OpPassManager &pm,
                                         const PipelineOptions &) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Plain (identity-layout) memrefs at function boundaries, so the runtime
  // can pass contiguous caller buffers.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Results become out-parameters written in place: the caller owns every
  // input and output buffer, the callee allocates only temporaries.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createCanonicalizerPass());
}

void mlir::flash::buildLowerToLoopsPipeline(OpPassManager &pm,
                                            const PipelineOptions &options) {
  if (options.ukernels) {
    MatmulToUkernelOptions ukernel;
    ukernel.sgemm = llvm::to_vector(options.sgemm);
    ukernel.allowParallel = options.parallelMinIterations > 0;
    ukernel.constantPanels = options.constantPanels;
    ukernel.epilogue = options.fuseEpilogue;
    pm.addPass(createMatmulToUkernel(ukernel));
    pm.addPass(createDepthwiseToUkernel({options.fuseEpilogue}));
  }
  LinalgToLoopsOptions loops;
  loops.parallelMinIterations = options.parallelMinIterations;
  pm.addNestedPass<func::FuncOp>(createLinalgToLoops(loops));
  // scf.parallel (only the large loop nests) -> OpenMP worksharing loops.
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::flash::buildLoopsToLLVMPipeline(OpPassManager &pm,
                                           const PipelineOptions &) {
  // erf/tanh as vectorizable polynomials; what remains of math without an
  // LLVM intrinsic (none today) would become libm calls.
  pm.addPass(createApproximateMath());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Temporaries through the runtime's block cache
  // (lib/Runtime/Ukernels/Allocator.cpp), not malloc/free per call.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

static const flash::LoweringStage kStages[] = {
    {"graph", "flash-optimize-graph",
     "Flash graph optimizations: decompose composite ops, fold constants, "
     "CSE, DCE",
     flash::buildGraphPipeline},
    {"linalg", "flash-to-linalg", "Flash -> Linalg on tensors",
     flash::buildFlashToLinalgPipeline},
    {"bufferized", "flash-bufferize",
     "Linalg on tensors -> Linalg on memrefs (one-shot bufferization, "
     "out-parameters, deallocation)",
     flash::buildBufferizePipeline},
    {"loops", "flash-to-loops", "Linalg on memrefs -> scf loops",
     flash::buildLowerToLoopsPipeline},
    {"llvm", "flash-loops-to-llvm", "Loops -> LLVM dialect",
     flash::buildLoopsToLLVMPipeline},
};

llvm::ArrayRef<flash::LoweringStage> mlir::flash::getLoweringStages() {
  return kStages;
}

void mlir::flash::buildFlashToLLVMPipeline(OpPassManager &pm,
                                           const PipelineOptions &options) {
  for (const LoweringStage &stage : getLoweringStages())
    stage.build(pm, options);
}

void mlir::flash::registerFlashPipelines() {
  for (const LoweringStage &stage : getLoweringStages())
    PassPipelineRegistration<PipelineOptions>(stage.pipelineName,
                                              stage.description, stage.build);
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-llvm", "Flash -> LLVM dialect: every stage in order",
      buildFlashToLLVMPipeline);
}
