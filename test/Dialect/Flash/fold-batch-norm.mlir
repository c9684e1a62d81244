// flash-fold-batch-norm folds per-channel constant scales and shifts into
// the preceding convolution's constant weight and bias.
// RUN: flash-opt %s --flash-fold-batch-norm --split-input-file | FileCheck %s

// A batch norm as flash-decompose leaves it (a multiply and an add by C x 1 x 1
// constants) after a convolution without bias: filter o is scaled by s[o], the
// bias becomes b*s + t.
// CHECK-LABEL: func.func @scale_and_shift
// CHECK-DAG: %[[W:.*]] = flash.constant dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}-3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = flash.constant dense<[5.000000e-01, 2.500000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = flash.conv2d %arg0, %[[W]], %[[B]]
// CHECK-NOT: flash.mul
// CHECK-NOT: flash.add
// CHECK: return %[[Y]]
func.func @scale_and_shift(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = flash.constant dense<[[[[1.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>
  %s = flash.constant dense<[[[2.0]], [[-3.0]]]> : tensor<2x1x1xf32>
  %t = flash.constant dense<[[[0.5]], [[2.5]]]> : tensor<2x1x1xf32>
  %0 = flash.conv2d %x, %w {dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = flash.mul %0, %s : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %2 = flash.add %t, %1 : (tensor<2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %2 : tensor<1x2x4x4xf32>
}

// -----

// An existing bias is scaled too; a scalar scales every channel.
// CHECK-LABEL: func.func @bias_and_scalar
// CHECK-DAG: flash.constant dense<[3.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK: flash.conv2d
// CHECK-NOT: flash.mul
func.func @bias_and_scalar(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = flash.constant dense<1.0> : tensor<2x1x3x3xf32>
  %b = flash.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = flash.constant dense<3.0> : tensor<f32>
  %0 = flash.conv2d %x, %w, %b {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %1 = flash.mul %s, %0 : (tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// Not folded: the convolution has another use (its output is needed
// unscaled), the scale varies along W (not per channel), the weight is not
// a constant.
// CHECK-LABEL: func.func @not_folded
// CHECK-COUNT-3: flash.mul
func.func @not_folded(%x: tensor<1x1x4x4xf32>, %wv: tensor<2x1x1x1xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = flash.constant dense<1.0> : tensor<2x1x1x1xf32>
  %s = flash.constant dense<[[[2.0]], [[-3.0]]]> : tensor<2x1x1xf32>
  %row = flash.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %0 = flash.conv2d %x, %w {dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = flash.mul %0, %s : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %2 = flash.conv2d %x, %w {dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %3 = flash.mul %2, %row : (tensor<1x2x4x4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  %4 = flash.conv2d %x, %wv {dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %5 = flash.mul %4, %s : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %0, %1, %3, %5 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
