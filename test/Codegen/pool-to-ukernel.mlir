// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg="pool-ukernel=true" --flash-bufferize --flash-pool-to-ukernel --cse --split-input-file | FileCheck %s
// RUN: flash-opt %s --flash-optimize-graph --flash-to-linalg="pool-ukernel=false" --flash-bufferize --flash-pool-to-ukernel --cse --split-input-file | FileCheck %s --check-prefix=OFF

// A padded, strided max pool: one call. The -inf padding (an allocation
// filled with -inf and the input copied into its interior) and the -inf
// init fill of the output are gone: the call takes the input itself with
// padTop = padLeft = 1 and max = 1; the window operand goes too.
// CHECK-LABEL: func.func @max_strided
// CHECK-NOT: linalg.map
// CHECK-NOT: memref.copy
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[IN:.*]] = memref.cast %arg0 : memref<1x8x14x14xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-DAG: %[[OUT:.*]] = memref.cast %arg1 : memref<1x8x7x7xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK: call @flash_pool2d_f32(%[[IN]], %[[OUT]], %[[THREE]], %[[THREE]], %[[TWO]], %[[TWO]], %[[ONE]], %[[ONE]], %[[ONE]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.alloc
// With pool-ukernel=false the lowering is the same for stride 2 (and the
// pass, run here by hand, still matches it).
// OFF-LABEL: func.func @max_strided
// OFF: call @flash_pool2d_f32
func.func @max_strided(%x: tensor<1x8x14x14xf32>) -> tensor<1x8x7x7xf32> {
  %0 = flash.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x8x14x14xf32>) -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

// Stride 1: with the pooling ukernel (pool-ukernel=true, the default)
// the lowering emits the plain window
// generic (no flat rows), which the call replaces. Without it, the flat
// rows (a collapsed plane read at j + kh * 16 + kw) and no call.
// CHECK-LABEL: func.func @max_stride_one
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : i64
// CHECK: call @flash_pool2d_f32(%{{.*}}, %{{.*}}, %[[THREE]], %[[THREE]], %[[ONE]], %[[ONE]], %[[ONE]], %[[ONE]], %[[ONE]])
// CHECK-NOT: linalg.generic
// OFF-LABEL: func.func @max_stride_one
// OFF: memref.collapse_shape
// OFF-NOT: call @flash_pool2d_f32
func.func @max_stride_one(%x: tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32> {
  %0 = flash.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32>
  return %0 : tensor<1x8x14x14xf32>
}

// -----

// Average pooling: the sum is the call (max = 0, zero padding absorbed),
// the divide by each window's count stays a generic after it.
// CHECK-LABEL: func.func @average
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : i64
// CHECK: call @flash_pool2d_f32(%{{.*}}, %{{.*}}, %[[THREE]], %[[THREE]], %[[TWO]], %[[TWO]], %[[ONE]], %[[ONE]], %[[ZERO]])
// CHECK: linalg.generic
// CHECK: arith.divf
// OFF-LABEL: func.func @average
func.func @average(%x: tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32> {
  %0 = flash.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, count_include_pad = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}
