//===- Pipelines.cpp - Named Flash lowering pipelines ---------------------===//
#include "flash/Pipelines/Pipelines.h"
#include "flash/Codegen/Passes.h"
#include "flash/Conversion/Passes.h"
#include "flash/Dialect/Flash/Transforms/Passes.h"
#include "flash/Gpu/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

void mlir::flash::buildGraphPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  // First the bound on the compile's memory (docs/reliability.md).
  pm.addPass(createFlashCheckConstantSizes({options.maxConstantBytes}));
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
  // With the ukernels the pooling ukernel takes every pooling generic,
  // stride 1 included (PoolToUkernel).
  pm.addPass(createConvertFlashToLinalg(
      {/*poolFlatRows=*/!(options.ukernels && options.poolUkernel)}));
  // One loop nest per chain of elementwise ops: one pass over memory.
  if (options.fuseElementwise)
    pm.addPass(createFuseElementwise());
  if (options.convIm2col)
    pm.addPass(createConvToIm2col(
        {options.convBatchAsColumns,
         /*winograd=*/options.ukernels && options.implicitGemm &&
             options.winograd.getValue() != "false"}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::flash::buildBufferizePipeline(OpPassManager &pm,
                                         const PipelineOptions &) {
  pm.addNestedPass<func::FuncOp>(createDistinctInits());
  pm.addNestedPass<func::FuncOp>(createDistinctResults());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Plain (identity-layout) memrefs at function boundaries, so the runtime
  // can pass contiguous caller buffers.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Folds reshapes of a result's buffer (collapse_shape(expand_shape(alloc))
  // around a depthwise convolution's generic), so the returned value is the
  // alloc itself and is hoisted below: else it was written, then copied
  // whole into the caller's buffer (a tenth of a lone depthwise layer).
  pm.addPass(createCanonicalizerPass());
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
    ukernel.implicitGemm = options.implicitGemm;
    ukernel.winograd = options.winograd;
    pm.addPass(createMatmulToUkernel(ukernel));
    pm.addPass(createDepthwiseToUkernel({options.fuseEpilogue}));
    if (options.poolUkernel)
      pm.addPass(createPoolToUkernel());
  }
  LinalgToLoopsOptions loops;
  loops.parallelMinIterations = options.parallelMinIterations;
  // The marks ask LLVM to vectorize: with its vectorizers off, none.
  loops.markParallelInnermost = options.parallelAccesses && options.vectorize;
  pm.addNestedPass<func::FuncOp>(createLinalgToLoops(loops));
  // After the ukernel rewrites, which drop the temporaries (and deallocs)
  // they replace.
  if (options.earlyDealloc)
    pm.addNestedPass<func::FuncOp>(createEarlyDeallocation());
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
  // Weights as byte arrays: LLVM handles each as one constant.
  pm.addPass(createConstantsAsBytes());
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
  // The loops flash-linalg-to-loops marked parallel: their accesses tagged.
  pm.addPass(createTagParallelAccesses());
  pm.addPass(createCanonicalizerPass());
}


namespace {
/// Fails the pipeline with `message` (a stage asked of the wrong target).
struct TargetErrorPass
    : public PassWrapper<TargetErrorPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TargetErrorPass)
  explicit TargetErrorPass(std::string message) : message(std::move(message)) {}
  void runOnOperation() override {
    getOperation().emitError(message);
    signalPassFailure();
  }
  std::string message;
};

/// The target `options` name, if it is of `kind`; the first of that kind
/// when the options name the host (flash-opt --flash-to-nvvm without
/// target=); else null after adding a pass that fails with why.
const flash::Target *gpuTarget(OpPassManager &pm,
                               const flash::PipelineOptions &options,
                               flash::TargetKind kind) {
  const flash::Target *target = flash::lookupTarget(options.target);
  if (target && target->kind == kind)
    return target;
  if (target && target->kind == flash::TargetKind::Host)
    for (const flash::Target &t : flash::getTargets())
      if (t.kind == kind)
        return &t;
  std::string names;
  for (const flash::Target &t : flash::getTargets())
    if (t.kind == kind)
      names += std::string(names.empty() ? "" : ", ") + t.name;
  pm.addPass(std::make_unique<TargetErrorPass>(
      "target '" + options.target.getValue() + "' is not a " +
      flash::kindName(kind).str() + " target (" + names + ")"));
  return nullptr;
}
} // namespace

void mlir::flash::buildGpuKernelsPipeline(OpPassManager &pm,
                                          const PipelineOptions &options) {
  MapLoopsToGpuOptions map;
  map.blockSize = options.gpuBlockSize;
  const Target *target = lookupTarget(options.target);
  map.mmaTf32 = options.allowTf32 && target &&
                target->kind == TargetKind::Nvidia;
  pm.addNestedPass<func::FuncOp>(createMapLoopsToGpu(map));
  if (map.mmaTf32)
    pm.addPass(createMmaSync());
  // Loads and stores through views (reshapes, slices) index the underlying
  // buffer instead, so kernels take whole buffers.
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  // erf/tanh/exp as polynomials: SPIR-V's GLSL set has no erf.
  pm.addPass(createApproximateMath());
  pm.addPass(createLowerAffinePass());
  // No canonicalization before this: it folds the single-iteration grid
  // dimensions the mapping attributes name.
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addNestedPass<func::FuncOp>(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  // Twice: here, before canonicalization can rebuild the ops that carry
  // each kernel's cost, to lift it onto the kernel; after it, for the
  // launch sizes, which are constants only then.
  pm.addPass(createRecordLaunchSizes());
  pm.addPass(createLowerAffinePass());
  // floordivsi/ceildivsi (from affine maps) and the like in plain integer
  // ops: neither SPIR-V nor NVVM/ROCDL lowers them directly.
  pm.addPass(arith::createArithExpandOpsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createRecordLaunchSizes());
}

void mlir::flash::buildGpuToSpirvPipeline(OpPassManager &pm,
                                          const PipelineOptions &options) {
  if (!gpuTarget(pm, options, TargetKind::Vulkan))
    return;
  // Vulkan 1.1's SPIR-V 1.3; 64-bit integers for i64 index inputs (every
  // desktop driver and lavapipe have shaderInt64).
  GpuSPIRVAttachTargetOptions attach;
  attach.spirvVersion = "v1.3";
  attach.spirvCapabilities = {"Shader", "Int64"};
  attach.spirvExtensions = {"SPV_KHR_storage_buffer_storage_class"};
  attach.clientApi = "Vulkan";
  pm.addPass(createGpuSPIRVAttachTarget(attach));
  // math.fma (from the polynomial approximations) as a multiply and an add:
  // MLIR's math-to-SPIR-V patterns have no fma.
  math::MathExpandOpsPassOptions expand;
  expand.opMnemonics = {"fma"};
  pm.addNestedPass<gpu::GPUModuleOp>(math::createMathExpandOpsPass(expand));
  // convert-gpu-to-spirv does not convert math ops itself (GLSL.std.450).
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertMathToSPIRVPass());
  pm.addPass(createSpirvEntryPointAbi());
  pm.addPass(createConvertGPUToSPIRVPass());
  pm.addPass(createNestSpirvModules());
  OpPassManager &spirvModule =
      pm.nest<gpu::GPUModuleOp>().nest<spirv::ModuleOp>();
  spirvModule.addPass(spirv::createSPIRVLowerABIAttributesPass());
  spirvModule.addPass(spirv::createSPIRVUpdateVCEPass());
}

/// NVVM and ROCDL lower the kernels alike around their own conversion:
/// workgroup buffers as attributions, structured control flow and views
/// in plain form first; folding and cast cleanup after. Returns the
/// gpu.module pass manager the conversion goes into.
static OpPassManager &beginLLVMKernelLowering(OpPassManager &pm) {
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(flash::createWorkgroupAttributions());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  return kernels;
}

static void endLLVMKernelLowering(OpPassManager &kernels) {
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::flash::buildGpuToNvvmPipeline(OpPassManager &pm,
                                         const PipelineOptions &options) {
  const Target *target = gpuTarget(pm, options, TargetKind::Nvidia);
  if (!target)
    return;
  GpuNVVMAttachTargetOptions attach;
  attach.chip = target->chip;
  attach.features = target->features;
  attach.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  OpPassManager &kernels = beginLLVMKernelLowering(pm);
  kernels.addPass(createConvertNVGPUToNVVMPass()); // mma.sync (allow-tf32)
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  endLLVMKernelLowering(kernels);
}

void mlir::flash::buildGpuToRocdlPipeline(OpPassManager &pm,
                                          const PipelineOptions &options) {
  const Target *target = gpuTarget(pm, options, TargetKind::Amd);
  if (!target)
    return;
  GpuROCDLAttachTargetOptions attach;
  attach.chip = target->chip;
  attach.optLevel = 3;
  pm.addPass(createGpuROCDLAttachTarget(attach));
  OpPassManager &kernels = beginLLVMKernelLowering(pm);
  ConvertGpuOpsToROCDLOpsOptions rocdl;
  rocdl.chipset = target->chip;
  rocdl.runtime = gpu::amd::Runtime::HIP;
  kernels.addPass(createConvertGpuOpsToROCDLOps(rocdl));
  endLLVMKernelLowering(kernels);
}

void mlir::flash::buildGpuHostToLLVMPipeline(OpPassManager &pm,
                                             const PipelineOptions &options) {
  const Target *target = lookupTarget(options.target);
  TargetKind kind = target ? target->kind : TargetKind::Host;
  // SPIR-V as its binary; PTX as text (the CUDA driver compiles it for the
  // GPU it runs on; the cubin is ptxas's, outside the pipeline); AMD as
  // HSACO when the device libraries are at hand, else assembly.
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "bin";
  if (kind == TargetKind::Nvidia)
    binary.compilationTarget = "isa";
  if (kind == TargetKind::Amd) {
    binary.toolkitPath = options.rocmToolkit;
    if (options.rocmToolkit.empty())
      binary.compilationTarget = "isa";
  }
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  // The Vulkan runtime (lib/Runtime/Vulkan) binds buffers, not descriptors:
  // each memref argument is passed as its pointer and its size in bytes.
  GpuToLLVMConversionPassOptions launches;
  launches.kernelBarePtrCallConv = kind == TargetKind::Vulkan;
  launches.kernelIntersperseSizeCallConv = kind == TargetKind::Vulkan;
  pm.addPass(createGpuToLLVMConversionPass(launches));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
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

// The GPU targets share the first three stages with the host.
#define FLASH_GPU_STAGES(deviceStage)                                          \
  kStages[0], kStages[1], kStages[2],                                          \
      {"gpu", "flash-to-gpu-kernels",                                          \
       "Linalg on memrefs -> one gpu.launch per op (a thread per parallel "    \
       "iteration), outlined into gpu.func kernels",                           \
       flash::buildGpuKernelsPipeline},                                        \
      deviceStage,                                                             \
      {"llvm", "flash-gpu-host-to-llvm",                                       \
       "Kernels -> gpu.binary; host function -> LLVM dialect (launches as "    \
       "mgpu* runtime calls)",                                                 \
       flash::buildGpuHostToLLVMPipeline}

static const flash::LoweringStage kVulkanStages[] = {FLASH_GPU_STAGES(
    (flash::LoweringStage{"spirv", "flash-gpu-to-spirv",
                          "Kernels -> SPIR-V dialect (Vulkan)",
                          flash::buildGpuToSpirvPipeline}))};
static const flash::LoweringStage kNvidiaStages[] = {FLASH_GPU_STAGES(
    (flash::LoweringStage{"nvvm", "flash-gpu-to-nvvm",
                          "Kernels -> NVVM dialect (NVIDIA)",
                          flash::buildGpuToNvvmPipeline}))};
static const flash::LoweringStage kAmdStages[] = {FLASH_GPU_STAGES(
    (flash::LoweringStage{"rocdl", "flash-gpu-to-rocdl",
                          "Kernels -> ROCDL dialect (AMD)",
                          flash::buildGpuToRocdlPipeline}))};
#undef FLASH_GPU_STAGES

llvm::ArrayRef<flash::LoweringStage> mlir::flash::getLoweringStages() {
  return kStages;
}

llvm::ArrayRef<flash::LoweringStage>
mlir::flash::getLoweringStages(TargetKind kind) {
  switch (kind) {
  case TargetKind::Host:
    return kStages;
  case TargetKind::Vulkan:
    return kVulkanStages;
  case TargetKind::Nvidia:
    return kNvidiaStages;
  case TargetKind::Amd:
    return kAmdStages;
  }
  return kStages;
}

void mlir::flash::buildFlashToTargetPipeline(OpPassManager &pm,
                                             const PipelineOptions &options) {
  const Target *target = lookupTarget(options.target);
  if (!target) {
    pm.addPass(std::make_unique<TargetErrorPass>(
        "unknown target '" + options.target.getValue() + "'"));
    return;
  }
  for (const LoweringStage &stage : getLoweringStages(target->kind))
    stage.build(pm, options);
}

void mlir::flash::buildFlashToLLVMPipeline(OpPassManager &pm,
                                           const PipelineOptions &options) {
  for (const LoweringStage &stage : getLoweringStages())
    stage.build(pm, options);
}

/// Flash -> the stage `last` of a GPU target kind, for flash-opt.
template <flash::TargetKind kind>
static void buildFlashToDeviceDialect(OpPassManager &pm,
                                      const flash::PipelineOptions &options) {
  auto stages = flash::getLoweringStages(kind);
  for (const flash::LoweringStage &stage : stages.drop_back())
    stage.build(pm, options);
}

void mlir::flash::registerFlashPipelines() {
  llvm::StringSet<> registered;
  for (TargetKind kind : {TargetKind::Host, TargetKind::Vulkan,
                          TargetKind::Nvidia, TargetKind::Amd})
    for (const LoweringStage &stage : getLoweringStages(kind))
      if (registered.insert(stage.pipelineName).second)
        PassPipelineRegistration<PipelineOptions>(
            stage.pipelineName, stage.description, stage.build);
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-gpu",
      "Flash -> outlined GPU kernels (gpu dialect), any GPU target",
      [](OpPassManager &pm, const PipelineOptions &options) {
        for (const LoweringStage &stage :
             getLoweringStages(TargetKind::Vulkan).take_front(4))
          stage.build(pm, options);
      });
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-spirv", "Flash -> kernels in the SPIR-V dialect (Vulkan)",
      buildFlashToDeviceDialect<flash::TargetKind::Vulkan>);
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-nvvm",
      "Flash -> kernels in the NVVM dialect (target=nvidia-sm80|nvidia-sm90)",
      buildFlashToDeviceDialect<flash::TargetKind::Nvidia>);
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-rocdl",
      "Flash -> kernels in the ROCDL dialect (target=amd-gfx90a|amd-gfx942)",
      buildFlashToDeviceDialect<flash::TargetKind::Amd>);
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-target",
      "Flash -> LLVM dialect for the host code of `target` (every stage)",
      buildFlashToTargetPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "flash-to-llvm", "Flash -> LLVM dialect: every stage in order",
      buildFlashToLLVMPipeline);
}
