// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-depthwise-to-ukernel --cse --split-input-file | FileCheck %s
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-depthwise-to-ukernel="epilogue=false" --cse --split-input-file | FileCheck %s --check-prefix=OFF

// A padded, strided depthwise convolution with a bias, then ReLU6: one
// call. The zero padding (an allocation filled with zeros and the input
// copied into its interior) is gone: the call takes the input itself with
// padTop = padLeft = 1; the bias broadcast is gone (terms = 1: the bias);
// the clamp is [0, 6] and the call writes the function's result.
// CHECK-LABEL: func.func @padded_relu6
// CHECK-NOT: linalg.map
// CHECK-NOT: memref.copy
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[SIX:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-DAG: %[[IN:.*]] = memref.cast %arg0 : memref<1x8x10x10xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-DAG: %[[OUT:.*]] = memref.cast %arg1 : memref<1x8x5x5xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK: call @flash_depthwise_conv2d_f32(%[[IN]], %{{.*}}, %{{.*}}, %[[OUT]], %[[OUT]], %[[THREE]], %[[THREE]], %[[TWO]], %[[TWO]], %[[ONE]], %[[ONE]], %[[ONE]], %[[ONE]], %[[ONE]], %[[ZERO]], %[[SIX]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.broadcast
// OFF-LABEL: func.func @padded_relu6
// OFF: call @flash_depthwise_conv2d_f32
// OFF: linalg.generic
func.func @padded_relu6(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x5x5xf32> {
  %w = flash.constant dense<0.5> : tensor<8x1x3x3xf32>
  %b = flash.constant dense<0.25> : tensor<8xf32>
  %zero = flash.constant dense<0.0> : tensor<f32>
  %m6 = flash.constant dense<-6.0> : tensor<f32>
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 8} : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
  %1 = flash.max %0, %zero : (tensor<1x8x5x5xf32>, tensor<f32>) -> tensor<1x8x5x5xf32>
  %2 = flash.neg %1 : tensor<1x8x5x5xf32>
  %3 = flash.max %2, %m6 : (tensor<1x8x5x5xf32>, tensor<f32>) -> tensor<1x8x5x5xf32>
  %4 = flash.neg %3 : tensor<1x8x5x5xf32>
  return %4 : tensor<1x8x5x5xf32>
}

// -----

// Unpadded, no bias, two output channels per input channel, dilation 2:
// the call starts from zeros (terms = 0), no clamp (infinities).
// CHECK-LABEL: func.func @multiplier
// CHECK-DAG: %[[ZEROI:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK: call @flash_depthwise_conv2d_f32({{.*}}, %[[TWO]], %[[TWO]], %[[ZEROI]], %[[ZEROI]], %[[ZEROI]], %[[NINF]], %[[INF]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.fill
func.func @multiplier(%x: tensor<2x4x9x9xf32>) -> tensor<2x8x5x5xf32> {
  %w = flash.constant dense<0.5> : tensor<8x1x3x3xf32>
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>, groups = 4} : (tensor<2x4x9x9xf32>, tensor<8x1x3x3xf32>) -> tensor<2x8x5x5xf32>
  return %0 : tensor<2x8x5x5xf32>
}

// -----

// Two input channels per group: not depthwise, the generated loops stay.
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: call @flash_depthwise_conv2d_f32
// CHECK: linalg.generic
func.func @grouped(%x: tensor<1x8x6x6xf32>) -> tensor<1x4x4x4xf32> {
  %w = flash.constant dense<0.5> : tensor<4x2x3x3xf32>
  %0 = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 4} : (tensor<1x8x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Two depthwise convolutions of one padded input (the pads merged by CSE):
// the padded copy stays for both, each call reads it with no padding of
// its own (the second also adds the first's output as its residual).
// CHECK-LABEL: func.func @shared_padding
// CHECK: memref.copy
// CHECK-DAG: %[[ZEROI:.*]] = arith.constant 0 : i64
// CHECK-COUNT-2: call @flash_depthwise_conv2d_f32({{.*}}, %[[ZEROI]], %[[ZEROI]], %{{.*}}, %{{.*}}, %{{.*}})
func.func @shared_padding(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w1 = flash.constant dense<0.5> : tensor<4x1x3x3xf32>
  %w2 = flash.constant dense<0.25> : tensor<4x1x3x3xf32>
  %b1 = flash.constant dense<1.0> : tensor<4xf32>
  %b2 = flash.constant dense<2.0> : tensor<4xf32>
  %0 = flash.conv2d %x, %w1, %b1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 4} : (tensor<1x4x6x6xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %1 = flash.conv2d %x, %w2, %b2 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 4} : (tensor<1x4x6x6xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %2 = flash.add %0, %1 : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %2 : tensor<1x4x6x6xf32>
}
