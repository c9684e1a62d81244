// RUN: flash-opt %s --flash-matmul-to-ukernel --split-input-file | FileCheck %s
// RUN: flash-opt %s --flash-matmul-to-ukernel="min-flops=1000" --split-input-file | FileCheck %s --check-prefix=THRESHOLD

// CHECK: func.func private @flash_matmul_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @mm
// CHECK: %[[A:.*]] = memref.cast %arg0 : memref<7x5xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[B:.*]] = memref.cast %arg1 : memref<5x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[C:.*]] = memref.cast %arg2 : memref<7x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @flash_matmul_f32(%[[A]], %[[B]], %[[C]])
// CHECK-NOT: linalg.matmul
// 2*7*5*3 = 210 FLOPs: below the threshold the matmul stays.
// THRESHOLD-LABEL: func.func @mm
// THRESHOLD: linalg.matmul
func.func @mm(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %c: memref<7x3xf32>) {
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  return
}

// -----

// Tensors (not bufferized yet) and other element types are left alone.
// CHECK-LABEL: func.func @not_converted
// CHECK: linalg.matmul {{.*}} -> tensor<4x4xf32>
// CHECK: linalg.matmul ins({{.*}} : memref<4x4xf64>, memref<4x4xf64>)
// CHECK-NOT: flash_matmul_f32
func.func @not_converted(%t: tensor<4x4xf32>, %m: memref<4x4xf64>) -> tensor<4x4xf32> {
  %0 = linalg.matmul ins(%t, %t : tensor<4x4xf32>, tensor<4x4xf32>) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  linalg.matmul ins(%m, %m : memref<4x4xf64>, memref<4x4xf64>) outs(%m : memref<4x4xf64>)
  return %0 : tensor<4x4xf32>
}
