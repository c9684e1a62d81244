// The GPU pipelines, stage by stage, on a matmul + bias + ReLU.
// RUN: flash-opt %s --flash-to-gpu | FileCheck %s --check-prefix=GPU
// RUN: flash-opt %s --flash-to-spirv | FileCheck %s --check-prefix=SPIRV
// RUN: flash-opt %s --flash-to-nvvm="target=nvidia-sm90" | FileCheck %s --check-prefix=NVVM
// RUN: flash-opt %s --flash-to-rocdl="target=amd-gfx942" | FileCheck %s --check-prefix=ROCDL
// RUN: flash-opt %s --flash-to-target="target=nvidia-sm80" | FileCheck %s --check-prefix=PTX
// RUN: flash-opt %s --flash-to-gpu="target=nvidia-sm80 allow-tf32=true" | FileCheck %s --check-prefix=TF32
// RUN: not flash-opt %s --flash-to-nvvm="target=amd-gfx90a" 2>&1 | FileCheck %s --check-prefix=WRONG
// RUN: not flash-opt %s --flash-to-target="target=tpu" 2>&1 | FileCheck %s --check-prefix=UNKNOWN

func.func @mlp_layer(%x: tensor<5x7xf32>, %w: tensor<7x13xf32>, %b: tensor<13xf32>) -> tensor<5x13xf32> {
  %0 = flash.matmul %x, %w : (tensor<5x7xf32>, tensor<7x13xf32>) -> tensor<5x13xf32>
  %1 = flash.add %0, %b : (tensor<5x13xf32>, tensor<13xf32>) -> tensor<5x13xf32>
  %2 = flash.relu %1 : tensor<5x13xf32>
  return %2 : tensor<5x13xf32>
}

// One launch per Linalg op (fill, matmul, the fused bias+ReLU), each kernel
// with its work (FLOPs, bytes) for the simulator. Elementwise
// ops: a thread per output element (65 of them: one workgroup of 65). The
// matmul: a 16x16 workgroup per 16x16 tile of C, A and B staged through
// workgroup memory (space 3) between barriers, the sum in a register.
// GPU-LABEL: func.func @mlp_layer
// GPU: gpu.launch_func @mlp_layer_kernel::@mlp_layer_kernel blocks in (%[[ONE:.*]], %[[ONE]], %[[ONE]]) threads in (%[[T:.*]], %[[ONE]], %[[ONE]]) args(%arg3 : memref<5x13xf32>)
// GPU: gpu.launch_func @mlp_layer_kernel_0::@mlp_layer_kernel {{.*}} args(%arg3 : memref<5x13xf32>, %arg0 : memref<5x7xf32>, %arg1 : memref<7x13xf32>)
// GPU: gpu.launch_func @mlp_layer_kernel_1::@mlp_layer_kernel {{.*}} args(%arg3 : memref<5x13xf32>, %arg2 : memref<13xf32>)
// GPU: gpu.module @mlp_layer_kernel
// GPU: gpu.func @mlp_layer_kernel({{.*}}) kernel attributes {flash.kernel_cost = array<i64: 0, 260, 0>, known_block_size = array<i32: 65, 1, 1>, known_grid_size = array<i32: 1, 1, 1>}
// GPU: arith.cmpi ult, %{{.*}}, %c65
// GPU: gpu.module @mlp_layer_kernel_0
// GPU: gpu.func @mlp_layer_kernel({{.*}}) kernel attributes {flash.kernel_cost = array<i64: 910, 1024, 8192>, known_block_size = array<i32: 16, 16, 1>, known_grid_size = array<i32: 1, 1, 1>}
// GPU: memref.alloc() : memref<16x16xf32, 3>
// GPU: memref.alloc() : memref<16x16xf32, 3>
// GPU: memref.store {{.*}} : memref<16x16xf32, 3>
// GPU: gpu.barrier
// GPU: scf.for {{.*}} iter_args
// GPU: arith.mulf
// GPU: gpu.barrier
// GPU: gpu.module @mlp_layer_kernel_1
// GPU: arith.addf
// GPU: arith.cmpf ugt
// GPU: arith.select

// SPIRV: gpu.module @mlp_layer_kernel_0 [#spirv.target_env<#spirv.vce<v1.3, [Shader, Int64], [SPV_KHR_storage_buffer_storage_class]>, api=Vulkan
// SPIRV: spirv.module @__spv__mlp_layer_kernel_0 Logical GLSL450
// Buffers bound in kernel-argument order (set 0, binding i); the tiles are
// Workgroup variables.
// SPIRV: spirv.GlobalVariable @__workgroup_mem__{{[0-9]+}} : !spirv.ptr<!spirv.struct<(!spirv.array<256 x f32>)>, Workgroup>
// SPIRV: spirv.GlobalVariable @mlp_layer_kernel_arg_0 bind(0, 0) : !spirv.ptr<!spirv.struct<(!spirv.array<65 x f32, stride=4> [0])>, StorageBuffer>
// SPIRV: spirv.GlobalVariable @mlp_layer_kernel_arg_1 bind(0, 1) : !spirv.ptr<!spirv.struct<(!spirv.array<35 x f32, stride=4> [0])>, StorageBuffer>
// SPIRV: spirv.GlobalVariable @mlp_layer_kernel_arg_2 bind(0, 2) : !spirv.ptr<!spirv.struct<(!spirv.array<91 x f32, stride=4> [0])>, StorageBuffer>
// SPIRV: spirv.ControlBarrier <Workgroup>
// SPIRV: spirv.ExecutionMode @mlp_layer_kernel "LocalSize", 16, 16, 1

// The tiles are shared-memory globals (workgroup attributions, address
// space 3), the barriers bar.sync.
// NVVM: gpu.module @mlp_layer_kernel_0 [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]
// NVVM: llvm.mlir.global internal @__wg_mlp_layer_kernel_0() {addr_space = 3 : i32} : !llvm.array<256 x f32>
// NVVM: llvm.func @mlp_layer_kernel
// NVVM: nvvm.read.ptx.sreg.tid.x
// NVVM: nvvm.barrier
// NVVM: llvm.fmul

// ROCDL: gpu.module @mlp_layer_kernel_0 [#rocdl.target<O = 3, chip = "gfx942">]
// ROCDL: llvm.func @mlp_layer_kernel
// ROCDL: rocdl.workitem.id.x

// The host function in the LLVM dialect (its launches become mgpu* calls
// when translated to LLVM IR); each module is PTX text in a gpu.binary.
// PTX: llvm.func @mlp_layer
// PTX: gpu.launch_func @mlp_layer_kernel_0::@mlp_layer_kernel
// PTX: gpu.binary @mlp_layer_kernel_0 [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.*}}assembly = "{{.*}}.target sm_80

// allow-tf32 needs M, N, K multiples of 16, 8, 4: 5x13x7 keeps the SIMT tile.
// TF32-NOT: nvgpu.mma.sync
// TF32: memref<16x16xf32, 3>

// WRONG: error: target 'amd-gfx90a' is not a nvidia target (nvidia-sm80, nvidia-sm90)
// UNKNOWN: error: unknown target 'tpu'
