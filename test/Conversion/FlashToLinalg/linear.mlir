// RUN: flash-opt %s --convert-flash-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<5x7xf32>, %[[B:.*]]: tensor<7x3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<5x3xf32>
// CHECK: %[[FILL:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<5x3xf32>)
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<5x7xf32>, tensor<7x3xf32>) outs(%[[FILL]] : tensor<5x3xf32>)
// CHECK: return %[[MM]]
// CHECK-NOT: flash.
func.func @matmul(%a: tensor<5x7xf32>, %b: tensor<7x3xf32>) -> tensor<5x3xf32> {
  %0 = flash.matmul %a, %b : (tensor<5x7xf32>, tensor<7x3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// Tuned ukernel parameters (fc.tune's flash.sgemm) move to the Linalg op.
// CHECK-LABEL: func.func @tuned
// CHECK: linalg.matmul {flash.sgemm = array<i64: 48, 128, 512, 1, 3>}
func.func @tuned(%a: tensor<7x5xf32>, %b: tensor<5x3xf32>) -> tensor<7x3xf32> {
  %0 = flash.matmul %a, %b {flash.sgemm = array<i64: 48, 128, 512, 1, 3>} : (tensor<7x5xf32>, tensor<5x3xf32>) -> tensor<7x3xf32>
  return %0 : tensor<7x3xf32>
}
