//===- Passes.td - Flash GPU code generation passes -------*- tablegen -*-===//
#ifndef FLASH_GPU_PASSES_TD
#define FLASH_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def MapLoopsToGpu : Pass<"flash-gpu-map-loops", "func::FuncOp"> {
  let summary = "Turn every Linalg op and memref.copy on memrefs into one "
                "scf.parallel mapped to a GPU grid and workgroup.";
  let description = [{
    Each `linalg` op (and `memref.copy`, as a `linalg.copy`) becomes loops
    with `linalgOpToParallelLoops`: an `scf.parallel` over its parallel
    dimensions around `scf.for` loops over its reductions. The parallel
    dimensions are collapsed into one of N iterations and distributed as
    one iteration per thread: `block-size` threads per workgroup (thread_x)
    and ceil(N / block-size) workgroups, split over block_x and block_y when
    there are more than `max-grid-x` (Vulkan guarantees only 65535 per
    dimension); threads past N do nothing. An op with no parallel dimension
    (a reduction to a scalar) runs on one thread. The mapping attributes
    are those `convert-parallel-loops-to-gpu` reads, so every op becomes one
    `gpu.launch`, and nothing computes on the host.

    Why not `scf-parallel-loop-tiling` + `gpu-map-parallel-loops`: they
    tile dimension by dimension and map the first three, so a 4-D loop
    nest over 1x64x56x56 gets a workgroup of 1x8 threads and runs its last
    dimension sequentially; collapsing first keeps every workgroup full.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per workgroup">,
    Option<"maxGridX", "max-grid-x", "int64_t", /*default=*/"65535",
           "Most workgroups along x before using y">,
    Option<"mmaTf32", "mma-tf32", "bool", /*default=*/"false",
           "Matrix products whose M, N, K are multiples of 16, 8, 4 as one "
           "warp per 16x8 tile of C issuing TF32 mma.sync (NVIDIA sm_80+; "
           "then run flash-gpu-mma-sync)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def RecordLaunchSizes : Pass<"flash-gpu-record-launch-sizes", "ModuleOp"> {
  let summary = "Record each kernel's constant workgroup and grid size on "
                "the kernel (known_block_size, known_grid_size).";
  let description = [{
    Every `gpu.launch_func` of a kernel launches it with the same constant
    sizes (one launch per Linalg op, MapLoopsToGpu); the kernel then knows
    them: SPIR-V needs the workgroup size in its entry point, NVVM turns it
    into `maxntid` (fewer registers reserved) and ROCDL into the flat
    workgroup size. A kernel launched with differing or non-constant sizes
    is left alone. Also moves the `flash.kernel_cost` (FLOPs, bytes) that
    MapLoopsToGpu put on an op inside the kernel onto the kernel.
  }];
}

def NestSpirvModules : Pass<"flash-gpu-nest-spirv-modules", "ModuleOp"> {
  let summary = "Move each spirv.module into the gpu.module it was "
                "converted from.";
  let description = [{
    `convert-gpu-to-spirv` puts `spirv.module @__spv__<name>` beside
    `gpu.module @<name>`; `gpu-module-to-binary` serializes the
    `spirv.module` found inside a `gpu.module` with a SPIR-V target. This
    moves it there (what upstream's Vulkan runner pipeline does with a test
    pass).
  }];
}

def MmaSync : Pass<"flash-gpu-mma-sync", "ModuleOp"> {
  let summary = "Rewrite the warp-level matmuls MapLoopsToGpu marked "
                "(flash.mma) as nvgpu.mma.sync (TF32 tensor cores).";
  let description = [{
    Runs MLIR's `transform.nvgpu.rewrite_matmul_as_mma_sync` on every
    `linalg.matmul` carrying `flash.mma` (a 16x4 by 4x8 f32 product one warp
    computes): each lane loads its fragments of A, B and C by the PTX
    m16n8k4 layout and issues `mma.sync.aligned.m16n8k4...tf32`. Through
    the transform interpreter, since the rewrite exists only as a transform
    op upstream (its fragment layouts are upstream's, tested there).
  }];
  let dependentDialects = ["::mlir::nvgpu::NVGPUDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::gpu::GPUDialect"];
}

def WorkgroupAttributions
    : Pass<"flash-gpu-workgroup-attributions", "gpu::GPUModuleOp"> {
  let summary = "Make a kernel's workgroup-memory allocations workgroup "
                "attributions of the kernel (for NVVM and ROCDL).";
  let description = [{
    MapLoopsToGpu stages matmul tiles in `memref.alloc() : memref<..., 3>`
    (memory space 3, workgroup memory): SPIR-V lowers such an alloc to a
    `Workgroup` variable, but NVVM and ROCDL lower `memref.alloc` to a
    malloc call; they expect workgroup buffers as attributions of the
    `gpu.func`, which become `.shared` (LDS) globals. This moves them there.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def SpirvEntryPointAbi : Pass<"flash-gpu-spirv-entry-abi", "ModuleOp"> {
  let summary = "Give every kernel the SPIR-V entry point ABI of its known "
                "workgroup size.";
  let description = [{
    `convert-gpu-to-spirv` lowers a `gpu.func` kernel to a SPIR-V entry
    point only if it carries `spirv.entry_point_abi` (upstream sets it with
    a test pass); this sets it from the kernel's `known_block_size`, which
    `gpu-kernel-outlining` records from the launch.
  }];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect"];
}

#endif // FLASH_GPU_PASSES_TD
