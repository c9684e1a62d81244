// Round-trip of the whole-model op set, in custom and generic form.
// RUN: flash-opt %s | flash-opt | FileCheck %s
// RUN: flash-opt %s --mlir-print-op-generic | flash-opt | FileCheck %s

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: flash.sub %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = flash.sub %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: flash.mul
  %1 = flash.mul %0, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: flash.div
  %2 = flash.div %1, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: flash.pow
  %3 = flash.pow %2, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: flash.max
  %4 = flash.max %3, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: flash.exp %{{.*}} : tensor<2x3xf32>
  %5 = flash.exp %4 : tensor<2x3xf32>
  // CHECK: flash.tanh
  %6 = flash.tanh %5 : tensor<2x3xf32>
  // CHECK: flash.sigmoid
  %7 = flash.sigmoid %6 : tensor<2x3xf32>
  // CHECK: flash.gelu
  %8 = flash.gelu %7 : tensor<2x3xf32>
  // CHECK: flash.erf
  %9 = flash.erf %8 : tensor<2x3xf32>
  // CHECK: flash.sqrt
  %10 = flash.sqrt %9 : tensor<2x3xf32>
  // CHECK: flash.neg
  %11 = flash.neg %10 : tensor<2x3xf32>
  // CHECK: flash.bias_add %{{.*}}, %{{.*}} {axis = 1 : i64}
  %12 = flash.bias_add %11, %y {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %12 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @structure
func.func @structure(%a: tensor<2x4x8xf32>, %b: tensor<2x8x5xf32>) -> (tensor<5x8xf32>, tensor<2x4xf32>, tensor<8x5xf32>) {
  // CHECK: flash.batch_matmul {{.*}} -> tensor<2x4x5xf32>
  %0 = flash.batch_matmul %a, %b : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  // CHECK: flash.transpose %{{.*}} {permutation = array<i64: 2, 0, 1>}
  %1 = flash.transpose %0 {permutation = array<i64: 2, 0, 1>} : (tensor<2x4x5xf32>) -> tensor<5x2x4xf32>
  // CHECK: flash.reshape %{{.*}} {shape = array<i64: 5, 8>}
  %2 = flash.reshape %1 {shape = array<i64: 5, 8>} : (tensor<5x2x4xf32>) -> tensor<5x8xf32>
  // CHECK: flash.reduce_sum %{{.*}} {axes = array<i64: 2>}
  %3 = flash.reduce_sum %a {axes = array<i64: 2>} : (tensor<2x4x8xf32>) -> tensor<2x4xf32>
  // CHECK: flash.reduce_mean %{{.*}} {axes = array<i64: 0, 2>, keepdims = true}
  %4 = flash.reduce_mean %a {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x4x8xf32>) -> tensor<1x4x1xf32>
  // CHECK: flash.reduce_max
  %5 = flash.reduce_max %4 {axes = array<i64: 0>} : (tensor<1x4x1xf32>) -> tensor<4x1xf32>
  // CHECK: flash.flatten %{{.*}} {axis = 2 : i64} : (tensor<2x4x8xf32>) -> tensor<8x8xf32>
  %6 = flash.flatten %a {axis = 2 : i64} : (tensor<2x4x8xf32>) -> tensor<8x8xf32>
  // CHECK: flash.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<5x8xf32>, tensor<8x8xf32>) -> tensor<13x8xf32>
  %7 = flash.concat %2, %6 {axis = 0 : i64} : (tensor<5x8xf32>, tensor<8x8xf32>) -> tensor<13x8xf32>
  %8 = flash.reshape %b {shape = array<i64: 16, 5>} : (tensor<2x8x5xf32>) -> tensor<16x5xf32>
  %9 = flash.concat %6, %6 {axis = 1 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x16xf32>
  %10 = flash.matmul %9, %8 : (tensor<8x16xf32>, tensor<16x5xf32>) -> tensor<8x5xf32>
  return %2, %3, %10 : tensor<5x8xf32>, tensor<2x4xf32>, tensor<8x5xf32>
}

// CHECK-LABEL: func.func @normalization
func.func @normalization(%x: tensor<2x3x6x6xf32>, %c: tensor<3xf32>, %g: tensor<6xf32>) -> (tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>) {
  // CHECK: flash.softmax %{{.*}} {axis = 3 : i64} : tensor<2x3x6x6xf32>
  %0 = flash.softmax %x {axis = 3 : i64} : tensor<2x3x6x6xf32>
  // CHECK: flash.layer_norm {{.*}} {axis = 3 : i64, epsilon = 9.99999974E-6 : f32}
  %1 = flash.layer_norm %x, %g, %g {axis = 3 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x6x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<2x3x6x6xf32>
  // CHECK: flash.batch_norm
  %2 = flash.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-3 : f32} : (tensor<2x3x6x6xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x6x6xf32>
  return %0, %1, %2 : tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>, tensor<2x3x6x6xf32>
}

// CHECK-LABEL: func.func @pooling_attention
func.func @pooling_attention(%x: tensor<1x2x7x7xf32>, %q: tensor<2x4x16x8xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>, tensor<2x4x16x8xf32>) {
  // CHECK: flash.max_pool2d %{{.*}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>}
  %0 = flash.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  // CHECK: flash.avg_pool2d %{{.*}} {count_include_pad = false
  %1 = flash.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x3x3xf32>
  // CHECK: flash.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, scale = 5.000000e-01 : f32}
  %2 = flash.attention %q, %q, %q {causal = true, scale = 0.5 : f32} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %0, %1, %2 : tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>, tensor<2x4x16x8xf32>
}
