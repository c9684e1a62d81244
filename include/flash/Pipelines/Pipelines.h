//===- Pipelines.h - Named Flash lowering pipelines -------------*- C++ -*-===//
//
// The one source of truth for how a Flash module is lowered. flash-opt
// registers these pipelines, and the runtime (and so the Python API) runs
// exactly these functions, stage by stage.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_PIPELINES_PIPELINES_H
#define FLASH_PIPELINES_PIPELINES_H

#include "flash/Pipelines/Defaults.h"
#include "flash/Pipelines/Targets.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/ArrayRef.h"

namespace mlir::flash {

/// The knobs of the Flash pipelines: every optimization can be switched off
/// (for ablations and debugging), from flash-opt
/// (`--flash-to-llvm="ukernels=false"`) and from Python
/// (`fc.compile_mlir(src, options="ukernels=false")`).
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<bool> ukernels{*this, "ukernels",
                        llvm::cl::desc("Call the packed sgemm ukernel for "
                                       "f32 matmuls"),
                        llvm::cl::init(true)};
  Option<bool> constantPanels{
      *this, "constant-panels",
      llvm::cl::desc("Pack constant matmul operands (weights) into the "
                     "sgemm ukernel's panels when compiling"),
      llvm::cl::init(true)};
  Option<bool> foldBatchNorm{
      *this, "fold-batch-norm",
      llvm::cl::desc("Fold per-channel constant scales and shifts (inference "
                     "batch norms) into the preceding convolution's weights "
                     "(flash-fold-batch-norm)"),
      llvm::cl::init(true)};
  Option<bool> fuseEpilogue{
      *this, "fuse-epilogue",
      llvm::cl::desc("Apply a matmul's or convolution's bias adds, residual "
                     "add and ReLU/clamp in the sgemm ukernel, tile by tile, "
                     "instead of a separate pass over the result"),
      llvm::cl::init(true)};
  Option<bool> implicitGemm{
      *this, "implicit-gemm",
      llvm::cl::desc("Gather an im2col convolution's patches from its input "
                     "while the sgemm ukernel packs them, instead of "
                     "writing the patch matrix first"),
      llvm::cl::init(true)};
  Option<std::string> winograd{
      *this, "winograd",
      llvm::cl::desc("Run 3x3 stride-1 convolutions with constant filters "
                     "by Winograd F(4x4, 3x3) (with implicit-gemm; "
                     "docs/ukernels.md): auto (where the shape rule says "
                     "so), true (all of them) or false"),
      llvm::cl::init("auto")};
  Option<bool> poolUkernel{
      *this, "pool-ukernel",
      llvm::cl::desc("Run max and average pooling on the pooling ukernel "
                     "(output row by output row, separable; with ukernels "
                     "only): 1.2-3.5x the generated loops (docs/ukernels.md)"),
      llvm::cl::init(true)};
  Option<bool> earlyDealloc{
      *this, "early-dealloc",
      llvm::cl::desc("Free each temporary right after its last use "
                     "(flash-early-deallocation) instead of at the end of "
                     "the function, so later temporaries reuse its memory "
                     "while it is still in cache"),
      llvm::cl::init(true)};
  Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse chains of elementwise ops (and broadcasts) into "
                     "one loop nest (linalg-fuse-elementwise-ops)"),
      llvm::cl::init(true)};
  Option<int64_t> parallelMinIterations{
      *this, "parallel-min-iterations",
      llvm::cl::desc("Generated loop nests with at least this many "
                     "iterations run on all cores (OpenMP); 0 keeps every "
                     "generated loop sequential"),
      llvm::cl::init(kParallelMinIterations)};
  Option<bool> convIm2col{
      *this, "conv-im2col",
      llvm::cl::desc("Rewrite convolutions as im2col + matrix product (run "
                     "by the sgemm ukernel)"),
      llvm::cl::init(true)};
  Option<std::string> convBatchAsColumns{
      *this, "conv-batch-as-columns",
      llvm::cl::desc("A convolution over a batch of images as one matrix "
                     "product (N*OH*OW columns) rather than one per image: "
                     "auto (where the pixels per image are too few to "
                     "amortize packing the filter), true or false"),
      llvm::cl::init("auto")};
  Option<int64_t> maxConstantBytes{
      *this, "max-constant-bytes",
      llvm::cl::desc("The most bytes the program's constants may hold "
                     "together, splats at their full size (a bound on the "
                     "compile's memory; flash-check-constant-sizes)"),
      llvm::cl::init(int64_t(2) << 30)};
  // Tuning knobs (fc.tune searches them; the defaults are the untuned
  // pipeline).
  ListOption<int64_t> sgemm{
      *this, "sgemm",
      llvm::cl::desc("sgemm ukernel parameters for matmuls without a "
                     "flash.sgemm attribute: mc,kc,nc,threads,tile,packB,"
                     "batchParallel (0: the ukernel's default)")};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("LLVM's loop and SLP vectorizers on generated loops"),
      llvm::cl::init(true)};
  Option<bool> parallelAccesses{
      *this, "parallel-accesses",
      llvm::cl::desc("Mark innermost loops over a parallel dimension as "
                     "free of loop-carried dependences (LLVM's "
                     "parallel_accesses) and to be vectorized, so short "
                     "rows vectorize without run-time overlap checks"),
      llvm::cl::init(true)};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Preferred vector width in bits for generated loops "
                     "(128, 256, 512; 0: the target's choice)"),
      llvm::cl::init(0)};
  // Off by default: LLVM fully unrolls short constant-trip loops (an
  // im2col row of 28) before its loop vectorizer runs, which leaves them
  // scalar; measured without it: convolutions 1.2-1.9x, LeNet-5 1.2x
  // faster, everything else within noise (docs/tuning.md).
  Option<bool> unroll{
      *this, "unroll",
      llvm::cl::desc("LLVM's loop unrolling (full unrolling of short "
                     "constant loops before vectorization, runtime unrolling)"),
      llvm::cl::init(false)};
  // GPU code generation (docs/gpu.md).
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("The device to compile for (fc.targets()): host, "
                     "vulkan, nvidia-sm80, nvidia-sm90, amd-gfx90a, "
                     "amd-gfx942"),
      llvm::cl::init("host")};
  Option<int64_t> gpuBlockSize{
      *this, "gpu-block-size",
      llvm::cl::desc("Threads per workgroup of the generated GPU kernels"),
      llvm::cl::init(256)};
  Option<bool> allowTf32{
      *this, "allow-tf32",
      llvm::cl::desc("NVIDIA targets: matrix products whose sizes are "
                     "multiples of 16x8x4 on TF32 tensor cores (mma.sync; "
                     "10-bit mantissa inputs, as PyTorch's allow_tf32)"),
      llvm::cl::init(false)};
  Option<std::string> rocmToolkit{
      *this, "rocm-toolkit",
      llvm::cl::desc("A ROCm-like folder (amdgcn/bitcode, llvm/bin/ld.lld) "
                     "to link AMD kernels into HSACO; without it AMD "
                     "kernels stay assembly"),
      llvm::cl::init("")};
  Option<bool> interleave{
      *this, "interleave",
      llvm::cl::desc("LLVM's loop interleaving (vectorized loops unrolled "
                     "for instruction-level parallelism)"),
      llvm::cl::init(true)};
};

/// Graph level: flash-decompose, canonicalize (constant folding), CSE.
void buildGraphPipeline(OpPassManager &pm, const PipelineOptions &options);
/// Flash -> Linalg on tensors (+ fusion, im2col, canonicalize, CSE).
void buildFlashToLinalgPipeline(OpPassManager &pm,
                                const PipelineOptions &options);
/// Linalg on tensors -> Linalg on memrefs (one-shot bufferization; results
/// become caller-owned out-parameters; temporaries are freed).
void buildBufferizePipeline(OpPassManager &pm, const PipelineOptions &options);
/// Linalg on memrefs -> scf loops.
void buildLowerToLoopsPipeline(OpPassManager &pm,
                               const PipelineOptions &options);
/// Loops -> LLVM dialect.
void buildLoopsToLLVMPipeline(OpPassManager &pm,
                              const PipelineOptions &options);
/// All of the above, Flash -> LLVM dialect.
void buildFlashToLLVMPipeline(OpPassManager &pm,
                              const PipelineOptions &options);

/// GPU targets, after the same graph, linalg and bufferized stages.
/// Linalg on memrefs -> one gpu.launch per op, outlined into gpu.func
/// kernels (MapLoopsToGpu).
void buildGpuKernelsPipeline(OpPassManager &pm, const PipelineOptions &options);
/// The kernels in the SPIR-V dialect (Vulkan).
void buildGpuToSpirvPipeline(OpPassManager &pm, const PipelineOptions &options);
/// The kernels in the NVVM dialect (LLVM for NVPTX).
void buildGpuToNvvmPipeline(OpPassManager &pm, const PipelineOptions &options);
/// The kernels in the ROCDL dialect (LLVM for AMDGPU).
void buildGpuToRocdlPipeline(OpPassManager &pm, const PipelineOptions &options);
/// Kernels to a gpu.binary (SPIR-V, PTX, HSACO) and the host function to the
/// LLVM dialect, its launches as calls to the mgpu* runtime functions.
void buildGpuHostToLLVMPipeline(OpPassManager &pm,
                                const PipelineOptions &options);

/// One step of the progressive lowering: the IR after it is called `name`.
struct LoweringStage {
  const char *name;         ///< stage name, e.g. "linalg"
  const char *pipelineName; ///< flash-opt flag that produces it from the
                            ///< previous stage, e.g. "flash-to-linalg"
  const char *description;
  void (*build)(OpPassManager &, const PipelineOptions &);
};

/// The stages after the input ("flash"), in pipeline order, for the host.
llvm::ArrayRef<LoweringStage> getLoweringStages();
/// ... for a kind of target.
llvm::ArrayRef<LoweringStage> getLoweringStages(TargetKind kind);
/// All of a target's stages, Flash -> LLVM dialect (host code).
void buildFlashToTargetPipeline(OpPassManager &pm,
                                const PipelineOptions &options);

/// Registers every stage pipeline and flash-to-llvm with the pass registry.
void registerFlashPipelines();

} // namespace mlir::flash

#endif // FLASH_PIPELINES_PIPELINES_H
