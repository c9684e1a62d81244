// RUN: flash-opt %s --canonicalize | FileCheck %s

// relu is idempotent: relu(relu(x)) folds to relu(x).
// CHECK-LABEL: func.func @relu_relu
// CHECK: %[[R:.*]] = flash.relu %arg0
// CHECK-NOT: flash.relu
// CHECK: return %[[R]]
func.func @relu_relu(%a: tensor<7xf32>) -> tensor<7xf32> {
  %0 = flash.relu %a : tensor<7xf32>
  %1 = flash.relu %0 : tensor<7xf32>
  return %1 : tensor<7xf32>
}

// Unused pure ops are removed.
// CHECK-LABEL: func.func @dead
// CHECK-NOT: flash.matmul
func.func @dead(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = flash.matmul %a, %a : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %a : tensor<4x4xf32>
}
