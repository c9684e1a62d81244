// flash-decompose rewrites composite ops into primitive Flash ops.
// RUN: flash-opt %s --flash-decompose --split-input-file | FileCheck %s

// Softmax subtracts the maximum first (stable).
// Its maximum skips NaNs (a NaN still reaches the whole row through exp and
// the sum), and each row is scaled by one reciprocal.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[ONE:.*]] = flash.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[MAX:.*]] = flash.reduce_max %arg0 {axes = array<i64: 1>, ignore_nan, keepdims = true}
// CHECK: %[[SUB:.*]] = flash.sub %arg0, %[[MAX]]
// CHECK: %[[EXP:.*]] = flash.exp %[[SUB]]
// CHECK: %[[SUM:.*]] = flash.reduce_sum %[[EXP]] {axes = array<i64: 1>, keepdims = true}
// CHECK: %[[R:.*]] = flash.div %[[ONE]], %[[SUM]]
// CHECK: flash.mul %[[EXP]], %[[R]]
// CHECK-NOT: flash.softmax
func.func @softmax(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = flash.softmax %x {axis = 1 : i64} : tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// The variance is taken of x - mean (two passes).
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[EPS:.*]] = flash.constant dense<9.99999974E-6> : tensor<f32>
// CHECK: %[[MEAN:.*]] = flash.reduce_mean %arg0 {axes = array<i64: 1, 2>, keepdims = true}
// CHECK: %[[C:.*]] = flash.sub %arg0, %[[MEAN]]
// CHECK: %[[SQ:.*]] = flash.mul %[[C]], %[[C]]
// CHECK: %[[VAR:.*]] = flash.reduce_mean %[[SQ]] {axes = array<i64: 1, 2>, keepdims = true}
// CHECK: %[[VE:.*]] = flash.add %[[VAR]], %[[EPS]]
// CHECK: %[[SD:.*]] = flash.sqrt %[[VE]]
// CHECK: %[[N:.*]] = flash.div %[[C]], %[[SD]]
// CHECK: %[[S:.*]] = flash.mul %[[N]], %arg1
// CHECK: flash.add %[[S]], %arg2
func.func @layer_norm(%x: tensor<2x3x4xf32>, %s: tensor<3x4xf32>, %b: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = flash.layer_norm %x, %s, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Per-channel parameters broadcast along dimension 1 as C x 1 x 1.
// CHECK-LABEL: func.func @batch_norm
// CHECK: flash.reshape %{{.*}} {shape = array<i64: 3, 1, 1>} : (tensor<3xf32>) -> tensor<3x1x1xf32>
// CHECK: flash.mul %arg0, %{{.*}} : (tensor<2x3x5x5xf32>, tensor<3x1x1xf32>)
// CHECK: flash.add %{{.*}}, %{{.*}} : (tensor<2x3x5x5xf32>, tensor<3x1x1xf32>)
func.func @batch_norm(%x: tensor<2x3x5x5xf32>, %c: tensor<3xf32>) -> tensor<2x3x5x5xf32> {
  %0 = flash.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-5 : f32} : (tensor<2x3x5x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x5x5xf32>
  return %0 : tensor<2x3x5x5xf32>
}

// -----

// Heads fold into the batch; the causal mask is a constant added to the
// scaled scores; the result is reshaped back.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: flash.constant dense<0.353553385> : tensor<f32>
// CHECK-DAG: flash.constant dense<"0x00000000000080FF{{.*}}"> : tensor<16x16xf32>
// CHECK: flash.reshape %arg0 {shape = array<i64: 8, 16, 8>}
// CHECK: %[[KT:.*]] = flash.transpose %{{.*}} {permutation = array<i64: 0, 2, 1>} : (tensor<8x16x8xf32>) -> tensor<8x8x16xf32>
// CHECK: %[[S:.*]] = flash.batch_matmul %{{.*}}, %[[KT]] : (tensor<8x16x8xf32>, tensor<8x8x16xf32>) -> tensor<8x16x16xf32>
// CHECK: flash.reduce_max
// CHECK: flash.batch_matmul %{{.*}}, %{{.*}} : (tensor<8x16x16xf32>, tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
// CHECK: flash.reshape %{{.*}} {shape = array<i64: 2, 4, 16, 8>}
func.func @attention(%q: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = flash.attention %q, %q, %q {causal = true} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %0 : tensor<2x4x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @flatten
// CHECK: flash.reshape %arg0 {shape = array<i64: 2, 48>}
func.func @flatten(%x: tensor<2x3x4x4xf32>) -> tensor<2x48xf32> {
  %0 = flash.flatten %x {axis = 1 : i64} : (tensor<2x3x4x4xf32>) -> tensor<2x48xf32>
  return %0 : tensor<2x48xf32>
}
