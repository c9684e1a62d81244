// allow-tf32: a matmul whose sizes are multiples of 16x8x4 runs as one warp
// per 16x8 tile of C, each K step of 4 a TF32 mma.sync (m16n8k4).
// RUN: flash-opt %s --flash-to-gpu="target=nvidia-sm80 allow-tf32=true" | FileCheck %s
// RUN: flash-opt %s --flash-to-target="target=nvidia-sm90 allow-tf32=true" | FileCheck %s --check-prefix=PTX
// Other targets ignore the option.
// RUN: flash-opt %s --flash-to-gpu="target=vulkan allow-tf32=true" | FileCheck %s --check-prefix=VULKAN

func.func @mm(%x: tensor<32x64xf32>, %w: tensor<64x48xf32>) -> tensor<32x48xf32> {
  %0 = flash.matmul %x, %w : (tensor<32x64xf32>, tensor<64x48xf32>) -> tensor<32x48xf32>
  return %0 : tensor<32x48xf32>
}

// 48/8 x 32/16 warps of 32 lanes.
// CHECK: gpu.launch_func @mm_kernel_0::@mm_kernel blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%c32, %{{.*}}, %{{.*}})
// CHECK: gpu.func @mm_kernel({{.*}}) kernel attributes {flash.kernel_cost = array<i64: 196608, {{[0-9]+}}, 196608>, known_block_size = array<i32: 32, 1, 1>, known_grid_size = array<i32: 6, 2, 1>}
// CHECK: scf.for
// CHECK: gpu.thread_id  x
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 4], tf32Enabled} : (vector<2x1xf32>, vector<1x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>

// PTX: mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32

// VULKAN-NOT: nvgpu.mma.sync
// VULKAN: memref<16x16xf32, 3>
