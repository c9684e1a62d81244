// A 3x3 stride-1 convolution with a constant filter by Winograd F(4x4, 3x3)
// (flash-matmul-to-ukernel, `winograd`): the filter is transformed when
// compiling into a new constant global, 36 blocks of its 6-row panels
// (here ceil(2/6) = 1 panel of C = 1 row: 36 x 6), and the implicit GEMM's
// call becomes flash_conv_winograd_f32 with the same arguments.
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops="winograd=true" | FileCheck %s
// By default the shape rule (convUsesWinograd) keeps so small a
// convolution (one input channel) an implicit GEMM; `false` always does.
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops | FileCheck %s --check-prefix=RULE
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops="winograd=false" | FileCheck %s --check-prefix=RULE
// RUN: not flash-opt %s --flash-optimize-graph --flash-to-linalg --flash-bufferize --flash-to-loops="winograd=maybe" 2>&1 | FileCheck %s --check-prefix=BAD

// U_00 = g[0][0] / 16 for each filter: 1/16 (0x3D800000), -1/16, then the
// padding rows of the panel.
// CHECK: memref.global "private" constant @{{.*}}_winograd : memref<36x6xf32> = dense<"0x0000803D000080BD0000000000000000
// CHECK-LABEL: func.func @conv
// CHECK: %[[U:.*]] = memref.get_global @{{.*}}_winograd : memref<36x6xf32>
// CHECK: %[[A:.*]] = memref.cast %[[U]]
// The window (3, 3, 1, 1, 1, 1), padding (1, 1) and output width 8 last.
// CHECK: call @flash_conv_winograd_f32(%[[A]], {{.*}}, %c3_i64, %c3_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c8_i64)
// CHECK-NOT: flash_conv_im2col_f32(
// RULE-NOT: _winograd
// RULE: call @flash_conv_im2col_f32(
// BAD: winograd must be auto, true or false, got 'maybe'
func.func @conv(%x: tensor<1x1x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %w = flash.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[-1.0, 0.5, 0.25], [2.0, -3.0, 1.0], [0.0, 1.0, -2.0]]]]> : tensor<2x1x3x3xf32>
  %y = flash.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x8x8xf32>
  return %y : tensor<1x2x8x8xf32>
}
