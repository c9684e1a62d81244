// RUN: flash-opt %s | flash-opt | FileCheck %s
// RUN: flash-opt %s --mlir-print-op-generic | flash-opt | FileCheck %s

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // CHECK: flash.matmul %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %0 = flash.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// CHECK-LABEL: func.func @add_broadcast
func.func @add_broadcast(%a: tensor<3x1x5xf32>, %b: tensor<4x1xf32>) -> tensor<3x4x5xf32> {
  // CHECK: flash.add %{{.*}}, %{{.*}} : (tensor<3x1x5xf32>, tensor<4x1xf32>) -> tensor<3x4x5xf32>
  %0 = flash.add %a, %b : (tensor<3x1x5xf32>, tensor<4x1xf32>) -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

// CHECK-LABEL: func.func @relu
func.func @relu(%a: tensor<7xf32>) -> tensor<7xf32> {
  // CHECK: flash.relu %{{.*}} : tensor<7xf32>
  %0 = flash.relu %a : tensor<7xf32>
  return %0 : tensor<7xf32>
}

// CHECK-LABEL: func.func @conv2d
func.func @conv2d(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> (tensor<2x4x5x5xf32>, tensor<2x4x5x4xf32>) {
  // CHECK: flash.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  // CHECK: flash.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 3>, padding = array<i64: 0, 1, 0, 0>, stride = array<i64: 1, 1>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x4xf32>
  %1 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 1, 0, 0>, dilation = array<i64: 2, 3>} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x4xf32>
  return %0, %1 : tensor<2x4x5x5xf32>, tensor<2x4x5x4xf32>
}

// CHECK-LABEL: func.func @constant
func.func @constant() -> tensor<2x2xf32> {
  // CHECK: flash.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
  %0 = flash.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// Integer tensors index: function arguments and constants, reshaped, then
// gathered with or converted by flash.cast.
// CHECK-LABEL: func.func @indexing
func.func @indexing(%table: tensor<10x4xf32>, %ids: tensor<1x6xi64>, %mask: tensor<1x6xi32>) -> (tensor<2x3x4xf32>, tensor<1x6xf32>, tensor<10x2xf32>) {
  // CHECK: flash.reshape %{{.*}} {shape = array<i64: 2, 3>} : (tensor<1x6xi64>) -> tensor<2x3xi64>
  %r = flash.reshape %ids {shape = array<i64: 2, 3>} : (tensor<1x6xi64>) -> tensor<2x3xi64>
  // CHECK: flash.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %e = flash.gather %table, %r {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  // CHECK: flash.cast %{{.*}} : (tensor<1x6xi32>) -> tensor<1x6xf32>
  %m = flash.cast %mask : (tensor<1x6xi32>) -> tensor<1x6xf32>
  // CHECK: flash.constant dense<[3, 1]> : tensor<2xi64>
  %c = flash.constant dense<[3, 1]> : tensor<2xi64>
  %g = flash.gather %table, %c {axis = 1 : i64} : (tensor<10x4xf32>, tensor<2xi64>) -> tensor<10x2xf32>
  return %e, %m, %g : tensor<2x3x4xf32>, tensor<1x6xf32>, tensor<10x2xf32>
}

// CHECK-LABEL: func.func @compare_and_select
func.func @compare_and_select(%a: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  // CHECK: flash.equal
  %0 = flash.equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  // CHECK: flash.not_equal
  %1 = flash.not_equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  // CHECK: flash.less
  %2 = flash.less %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  // CHECK: flash.less_equal
  %3 = flash.less_equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  // CHECK: flash.select %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %4 = flash.select %0, %1, %b : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %5 = flash.add %4, %2 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %6 = flash.add %5, %3 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %6 : tensor<3x4xf32>
}
