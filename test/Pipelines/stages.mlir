// Each named pipeline produces one stage of the progressive lowering.
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize | FileCheck %s --check-prefix=BUF
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops | FileCheck %s --check-prefix=LOOPS
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops --flash-loops-to-llvm | FileCheck %s --check-prefix=LLVM
// The one-shot pipeline equals the stages run in sequence.
// RUN: flash-opt %s --flash-to-llvm > %t.all
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops --flash-loops-to-llvm > %t.staged
// RUN: diff %t.all %t.staged

// LINALG-LABEL: func.func @mlp_layer(%{{.*}}: tensor<4x8xf32>, %{{.*}}: tensor<8x16xf32>, %{{.*}}: tensor<16xf32>) -> tensor<4x16xf32>
// LINALG: linalg.matmul
// LINALG: linalg.generic
// LINALG: arith.addf
// LINALG: arith.maximumf
// LINALG-NOT: flash.

// Results become caller-owned out-parameters.
// BUF-LABEL: func.func @mlp_layer(%{{.*}}: memref<4x8xf32>, %{{.*}}: memref<8x16xf32>, %{{.*}}: memref<16xf32>, %{{.*}}: memref<4x16xf32>) {
// The result is computed in the caller's buffer: no allocation, no copy.
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: linalg.matmul ins({{.*}} : memref<4x8xf32>, memref<8x16xf32>) outs(%arg3 : memref<4x16xf32>)
// BUF-NOT: tensor<{{[0-9]}}
// BUF: return

// The matmul calls the sgemm ukernel, which also adds the bias and applies
// the ReLU tile by tile (its epilogue: terms 2 = a column bias, then the
// clamp to [0, inf)); nothing else is left.
// LOOPS-LABEL: func.func @mlp_layer
// LOOPS: call @flash_matmul_epilogue_f32
// LOOPS-NOT: scf.for
// LOOPS-NOT: linalg.

// Without epilogue fusion the bias and ReLU are a loop nest of their own.
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops="fuse-epilogue=false" | FileCheck %s --check-prefix=NOEPI
// NOEPI-LABEL: func.func @mlp_layer
// NOEPI: call @flash_matmul_f32
// NOEPI: scf.for
// NOEPI: scf.for
// NOEPI: arith.addf
// NOEPI-NOT: linalg.

// Without ukernels the matmul is generated code too.
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops="ukernels=false" | FileCheck %s --check-prefix=NOUK
// NOUK-LABEL: func.func @mlp_layer
// NOUK-NOT: call
// NOUK: scf.for
// NOUK: scf.for
// NOUK: scf.for
// NOUK: arith.mulf

// LLVM-LABEL: llvm.func @mlp_layer
// LLVM: llvm.call @flash_matmul_epilogue_f32
// LLVM-NOT: llvm.intr.maximum
// LLVM-NOT: scf.
// LLVM-NOT: memref.
// LLVM-NOT: func.func
func.func @mlp_layer(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = flash.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = flash.add %0, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = flash.relu %1 : tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}
