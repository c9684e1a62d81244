// RUN: flash-opt %s --flash-to-linalg --cse --flash-distinct-inits | FileCheck %s
// RUN: flash-opt %s --flash-to-linalg --cse --flash-bufferize --flash-matmul-to-ukernel --flash-depthwise-to-ukernel | FileCheck %s --check-prefix=LOOPS

// Two convolutions with equal (zero) biases: CSE leaves one bias broadcast
// for both. Each destination gets its own, reshapes included, right before
// its convolution, and each its own empty tensor.
// CHECK-LABEL: func.func @equal_biases
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<1x6x13x10xf32>
// CHECK: %[[B1:.*]] = linalg.broadcast ins(%{{.*}} : tensor<6xf32>) outs(%[[E1]]
// CHECK: %[[C1:.*]] = tensor.collapse_shape %[[B1]]
// CHECK-NEXT: linalg.generic {{.*}} outs(%[[C1]]
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<1x6x13x10xf32>
// CHECK: %[[B2:.*]] = linalg.broadcast ins(%{{.*}} : tensor<6xf32>) outs(%[[E2]]
// CHECK: %[[X2:.*]] = tensor.expand_shape %[[B2]]
// CHECK-NEXT: linalg.generic {{.*}} outs(%[[X2]]
// CHECK-NOT: linalg.broadcast
// After bufferization neither is copied, and the depthwise convolution is
// one ukernel call, not loops.
// LOOPS-LABEL: func.func @equal_biases
// LOOPS-NOT: memref.copy
// LOOPS: call @flash_matmul
// LOOPS: call @flash_depthwise_conv2d_f32
// LOOPS-NOT: memref.copy
func.func @equal_biases(%x: tensor<1x3x13x10xf32>) -> tensor<1x6x13x10xf32> {
  %w1 = flash.constant dense<0.5> : tensor<6x3x1x1xf32>
  %w2 = flash.constant dense<0.25> : tensor<6x1x3x3xf32>
  %b = flash.constant dense<0.0> : tensor<6xf32>
  %0 = flash.conv2d %x, %w1, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x13x10xf32>, tensor<6x3x1x1xf32>, tensor<6xf32>) -> tensor<1x6x13x10xf32>
  %1 = flash.conv2d %0, %w2, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 6} : (tensor<1x6x13x10xf32>, tensor<6x1x3x3xf32>, tensor<6xf32>) -> tensor<1x6x13x10xf32>
  return %1 : tensor<1x6x13x10xf32>
}
