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

// Constant folding: add of two constants (with broadcasting) and relu of a
// constant become one constant.
// CHECK-LABEL: func.func @fold_constants
// CHECK-NEXT: %[[C:.*]] = flash.constant dense<{{\[\[}}1.100000e+01, 0.000000e+00], [1.300000e+01, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT: return %[[C]]
func.func @fold_constants() -> tensor<2x2xf32> {
  %a = flash.constant dense<[[1.0, -2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = flash.constant dense<[10.0, -2.0]> : tensor<2xf32>
  %0 = flash.add %a, %b : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = flash.relu %0 : tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// A slice of a constant folds to the constant's elements; a full slice is
// its input.
// CHECK-LABEL: func.func @fold_slice
// CHECK: %[[C:.*]] = flash.constant dense<{{\[}}[2.000000e+00], [6.000000e+00]]> : tensor<2x1xf32>
// CHECK: return %[[C]], %arg0
func.func @fold_slice(%x: tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<2x3xf32>) {
  %c = flash.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %0 = flash.slice %c {starts = array<i64: 0, 1>, sizes = array<i64: 2, 1>, steps = array<i64: 1, 2>} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  %1 = flash.slice %x {starts = array<i64: 0, 0>, sizes = array<i64: 2, 3>, steps = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x1xf32>, tensor<2x3xf32>
}

// Nothing folds when an operand is not constant.
// CHECK-LABEL: func.func @no_fold
// CHECK: flash.add
func.func @no_fold(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = flash.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = flash.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// Duplicate ops are merged (CSE runs in the pipeline after canonicalize).
// RUN: flash-opt %s --cse | FileCheck %s --check-prefix=CSE
// CSE-LABEL: func.func @duplicates
// CSE: %[[R:.*]] = flash.relu %arg0
// CSE-NOT: flash.relu
// CSE: flash.add %[[R]], %[[R]]
func.func @duplicates(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = flash.relu %x : tensor<3xf32>
  %1 = flash.relu %x : tensor<3xf32>
  %2 = flash.add %0, %1 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}

// Comparisons of constants fold to 0/1 masks (NaN compares unequal).
// CHECK-LABEL: func.func @fold_compare
// CHECK: flash.constant dense<[1.000000e+00, 0.000000e+00, 0.000000e+00]> : tensor<3xf32>
// CHECK: flash.constant dense<[0.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<3xf32>
func.func @fold_compare() -> (tensor<3xf32>, tensor<3xf32>) {
  %a = flash.constant dense<[1.0, 0x7FC00000, 3.0]> : tensor<3xf32>
  %b = flash.constant dense<[1.0, 0x7FC00000, 2.0]> : tensor<3xf32>
  %0 = flash.equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = flash.not_equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}
