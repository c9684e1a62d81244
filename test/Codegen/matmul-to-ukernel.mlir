// RUN: flash-opt %s --flash-matmul-to-ukernel --split-input-file | FileCheck %s
// RUN: flash-opt %s --flash-matmul-to-ukernel="min-flops=1000" --split-input-file | FileCheck %s --check-prefix=THRESHOLD
// RUN: flash-opt %s --flash-matmul-to-ukernel="sgemm=96,384,1024,2,1,1" --split-input-file | FileCheck %s --check-prefix=OPTION
// RUN: flash-opt %s --flash-matmul-to-ukernel="constant-panels=false" --split-input-file | FileCheck %s --check-prefix=NOPANELS

// CHECK: func.func private @flash_matmul_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i1, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @mm
// CHECK: %[[ACC:.*]] = arith.constant true
// CHECK: %[[A:.*]] = memref.cast %arg0 : memref<7x5xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[B:.*]] = memref.cast %arg1 : memref<5x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[C:.*]] = memref.cast %arg2 : memref<7x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @flash_matmul_f32(%[[A]], %[[B]], %[[C]], %[[ACC]], %c0_i64{{.*}}, %c0_i64{{.*}}, %c0_i64{{.*}}, %c0_i64{{.*}}, %c0_i64{{.*}}, %c0_i64{{.*}})
// The sgemm option sets the ukernel parameters of every call:
// OPTION-LABEL: func.func @mm
// OPTION: call @flash_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c96_i64, %c384_i64, %c1024_i64, %c2_i64, %c1_i64, %c1_i64{{[_0-9]*}})
// CHECK-NOT: linalg.matmul
// 2*7*5*3 = 210 FLOPs: below the threshold the matmul stays.
// THRESHOLD-LABEL: func.func @mm
// THRESHOLD: linalg.matmul
func.func @mm(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %c: memref<7x3xf32>) {
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  return
}

// -----

// Tensors (not bufferized yet) and other element types are left alone.
// CHECK-NOT: @flash_matmul_f32
// CHECK-LABEL: func.func @not_converted
// CHECK: linalg.matmul {{.*}} -> tensor<4x4xf32>
// CHECK: linalg.matmul ins({{.*}} : memref<4x4xf64>, memref<4x4xf64>)
func.func @not_converted(%t: tensor<4x4xf32>, %m: memref<4x4xf64>) -> tensor<4x4xf32> {
  %0 = linalg.matmul ins(%t, %t : tensor<4x4xf32>, tensor<4x4xf32>) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  linalg.matmul ins(%m, %m : memref<4x4xf64>, memref<4x4xf64>) outs(%m : memref<4x4xf64>)
  return %0 : tensor<4x4xf32>
}

// -----

// A batched product with a shared A (the im2col form of a convolution): one
// ukernel call per batch element on rank-reduced views.
#mapA = affine_map<(b, m, n, k) -> (m, k)>
#mapB = affine_map<(b, m, n, k) -> (b, k, n)>
#mapC = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @batched_shared_lhs
// CHECK: %[[A:.*]] = memref.cast %arg0 : memref<4x27xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[BV:.*]] = memref.subview %arg1[%[[B]], 0, 0] [1, 27, 36] [1, 1, 1] : memref<2x27x36xf32> to memref<27x36xf32, strided<[36, 1], offset: ?>>
// CHECK:   %[[CV:.*]] = memref.subview %arg2[%[[B]], 0, 0] [1, 4, 36] [1, 1, 1] : memref<2x4x36xf32> to memref<4x36xf32, strided<[36, 1], offset: ?>>
// CHECK:   func.call @flash_matmul_f32(%[[A]], %{{.*}}, %{{.*}}, %true, %{{.*}})
// CHECK-NOT: linalg.generic
func.func @batched_shared_lhs(%a: memref<4x27xf32>, %b: memref<2x27x36xf32>, %c: memref<2x4x36xf32>) {
  linalg.generic {indexing_maps = [#mapA, #mapB, #mapC], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x27xf32>, memref<2x27x36xf32>) outs(%c : memref<2x4x36xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A batched A that repeats every 3 elements (a grouped convolution over
// several images: element b reads the filter of group b mod 3): A's view
// is taken at b mod 3, B's and C's at b.
#mapAR = affine_map<(b, m, n, k) -> (b mod 3, m, k)>
#mapBR = affine_map<(b, m, n, k) -> (b, k, n)>
#mapCR = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @batched_repeating_lhs
// CHECK: %[[THREE:.*]] = arith.constant 3 : index
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[G:.*]] = arith.remui %[[B]], %[[THREE]] : index
// CHECK:   memref.subview %arg0[%[[G]], 0, 0] [1, 4, 27] [1, 1, 1] : memref<3x4x27xf32>
// CHECK:   memref.subview %arg1[%[[B]], 0, 0] [1, 27, 36] [1, 1, 1] : memref<6x27x36xf32>
// CHECK:   memref.subview %arg2[%[[B]], 0, 0] [1, 4, 36] [1, 1, 1] : memref<6x4x36xf32>
// CHECK:   func.call @flash_matmul_f32
// CHECK-NOT: linalg.generic
func.func @batched_repeating_lhs(%a: memref<3x4x27xf32>, %b: memref<6x27x36xf32>, %c: memref<6x4x36xf32>) {
  linalg.generic {indexing_maps = [#mapAR, #mapBR, #mapCR], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<3x4x27xf32>, memref<6x27x36xf32>) outs(%c : memref<6x4x36xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A modulo anywhere else (here on B) is not that form: left alone.
#mapAM = affine_map<(b, m, n, k) -> (b, m, k)>
#mapBM = affine_map<(b, m, n, k) -> (b mod 2, k, n)>
#mapCM = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @batched_repeating_rhs
// CHECK: linalg.generic
// CHECK-NOT: call
func.func @batched_repeating_rhs(%a: memref<4x4x27xf32>, %b: memref<2x27x36xf32>, %c: memref<4x4x36xf32>) {
  linalg.generic {indexing_maps = [#mapAM, #mapBM, #mapCM], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4x27xf32>, memref<2x27x36xf32>) outs(%c : memref<4x4x36xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A transposed operand is not a row-major product: left alone.
#mapAT = affine_map<(m, n, k) -> (k, m)>
#mapB2 = affine_map<(m, n, k) -> (k, n)>
#mapC2 = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @transposed_lhs
// CHECK: linalg.generic
// CHECK-NOT: call
func.func @transposed_lhs(%a: memref<5x4xf32>, %b: memref<5x3xf32>, %c: memref<4x3xf32>) {
  linalg.generic {indexing_maps = [#mapAT, #mapB2, #mapC2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<5x4xf32>, memref<5x3xf32>) outs(%c : memref<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A zero fill of C right before the product is folded into it: the ukernel
// writes C (accumulate = false) and the fill is gone. A non-zero fill stays.
// CHECK-LABEL: func.func @zero_filled
// CHECK-NOT: linalg.fill
// CHECK: %[[FALSE:.*]] = arith.constant false
// CHECK-NOT: linalg.fill
// CHECK: call @flash_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[FALSE]], %{{.*}})
func.func @zero_filled(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %c: memref<7x3xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  return
}

// CHECK-LABEL: func.func @one_filled
// CHECK: linalg.fill
// CHECK: %[[TRUE:.*]] = arith.constant true
// CHECK: call @flash_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[TRUE]], %{{.*}})
func.func @one_filled(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %c: memref<7x3xf32>) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%c : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  return
}

// -----

// fc.tune's flash.sgemm attribute on the op wins over the option.
// CHECK-LABEL: func.func @tuned
// CHECK: call @flash_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c48_i64, %c128_i64, %c512_i64, %c1_i64, %c3_i64, %c2_i64)
// OPTION-LABEL: func.func @tuned
// OPTION: call @flash_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c48_i64, %c128_i64, %c512_i64, %c1_i64, %c3_i64, %c2_i64)
func.func @tuned(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %c: memref<7x3xf32>) {
  linalg.matmul {flash.sgemm = array<i64: 48, 128, 512, 1, 3, 2>} ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  return
}

// -----

// A seventh flash.sgemm value of 1 spreads the batch over the cores: an
// scf.parallel whose calls each run on one thread (threads = 1).
#mapA3 = affine_map<(b, m, n, k) -> (m, k)>
#mapB3 = affine_map<(b, m, n, k) -> (b, k, n)>
#mapC3 = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @batch_parallel
// CHECK: scf.parallel
// CHECK: func.call @flash_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %true, %c0_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c1_i64, %c0_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK-NOT: scf.for
// CHECK-NOT: scf.if
func.func @batch_parallel(%a: memref<4x27xf32>, %b: memref<2x27x36xf32>, %c: memref<2x4x36xf32>) {
  linalg.generic {indexing_maps = [#mapA3, #mapB3, #mapC3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x27xf32>, memref<2x27x36xf32>) outs(%c : memref<2x4x36xf32>) attrs = {flash.sgemm = array<i64: 0, 0, 0, 2, 0, 0, 1>} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// By default (0) the batch loop is generated both ways and the runtime
// picks per call, for its thread count (flash_batch_in_parallel with the
// batch size and the FLOPs of one call: 16 x 480000 here): spread over the
// threads, each call on one thread, or one call after the other, each call
// free to split.
// CHECK: func.func private @flash_batch_in_parallel(i64, i64) -> i32
// CHECK-LABEL: func.func @batch_parallel_by_default
// CHECK-DAG: %[[N:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[F:.*]] = arith.constant 480000 : i64
// CHECK: %[[ASK:.*]] = call @flash_batch_in_parallel(%[[N]], %[[F]]) : (i64, i64) -> i32
// CHECK: %[[SPREAD:.*]] = arith.cmpi ne, %[[ASK]], %{{.*}} : i32
// CHECK: scf.if %[[SPREAD]] {
// CHECK:   scf.parallel
// CHECK:     func.call @flash_matmul_f32({{.*}}, %c1_i64, %c0_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: } else {
// CHECK:   scf.for
// CHECK:     func.call @flash_matmul_f32({{.*}}, %c0_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
func.func @batch_parallel_by_default(%a: memref<16x16x150xf32>, %b: memref<16x150x100xf32>, %c: memref<16x16x100xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<16x16x150xf32>, memref<16x150x100xf32>) outs(%c : memref<16x16x100xf32>)
  return
}

// -----

// A constant B (a model's weights) is packed into the ukernel's panels when
// compiling: 3 x 20 becomes 2 panels of 3 rows x 16 (columns 16-19 of the
// second panel, zero-padded), and the call goes to the panels entry. The
// 4x24 register tile (sgemm option, tile 1) keeps B as it is.
// CHECK-LABEL: memref.global "private" constant @weights_b_panels : memref<6x16xf32> = dense<{{\[\[}}0.000000e+00, 1.000000e+00, {{.*}}, 1.500000e+01], [2.000000e+01, {{.*}}], [4.000000e+01, {{.*}}], [1.600000e+01, 1.700000e+01, 1.800000e+01, 1.900000e+01, 0.000000e+00, {{.*}}]{{.*}}> {alignment = 64 : i64}
// The original weights are no longer read: not stored twice.
// CHECK-NOT: memref.global "private" constant @weights :
// CHECK-LABEL: func.func @constant_b
// CHECK: %[[P:.*]] = memref.get_global @weights_b_panels : memref<6x16xf32>
// CHECK: %[[PB:.*]] = memref.cast %[[P]] : memref<6x16xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @flash_matmul_panels_f32(%{{.*}}, %[[PB]], %{{.*}}, %c2_i64)
// OPTION-LABEL: func.func @constant_b
// OPTION: call @flash_matmul_f32(
// NOPANELS-NOT: @weights_b_panels
// NOPANELS: memref.global "private" constant @weights :
// NOPANELS-LABEL: func.func @constant_b
// NOPANELS: call @flash_matmul_f32(
memref.global "private" constant @weights : memref<3x20xf32> = dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0], [40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0]]>
func.func @constant_b(%a: memref<7x3xf32>, %c: memref<7x20xf32>) {
  %w = memref.get_global @weights : memref<3x20xf32>
  linalg.matmul ins(%a, %w : memref<7x3xf32>, memref<3x20xf32>) outs(%c : memref<7x20xf32>)
  return
}

// -----

// A constant A shared by a batch (a convolution's filter, seen through the
// collapse of its shape) goes in panels of 6 rows: 8 x 2 becomes 2 panels
// of 2 columns x 6 (rows 6-7 of the second, then zeros); the call says 1
// (A in panels) and the original filter and its view go.
// CHECK-LABEL: memref.global "private" constant @filter_a_panels : memref<4x6xf32> = dense<{{\[\[}}0.000000e+00, 2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00, 1.000000e+01], [1.000000e+00, 3.000000e+00, {{.*}}], [1.200000e+01, 1.400000e+01, 0.000000e+00, {{.*}}], [1.300000e+01, 1.500000e+01, 0.000000e+00, {{.*}}]]> {alignment = 64 : i64}
// CHECK-NOT: memref.global "private" constant @filter :
// CHECK-LABEL: func.func @constant_filter
// CHECK-NOT: memref.collapse_shape
// CHECK: %[[P:.*]] = memref.get_global @filter_a_panels : memref<4x6xf32>
// CHECK: scf.for
// CHECK: call @flash_matmul_panels_f32({{.*}}, %c1_i64)
memref.global "private" constant @filter : memref<8x2x1x1xf32> = dense<[[[[0.0]], [[1.0]]], [[[2.0]], [[3.0]]], [[[4.0]], [[5.0]]], [[[6.0]], [[7.0]]], [[[8.0]], [[9.0]]], [[[10.0]], [[11.0]]], [[[12.0]], [[13.0]]], [[[14.0]], [[15.0]]]]>
func.func @constant_filter(%p: memref<3x2x5xf32>, %c: memref<3x8x5xf32>) {
  %f = memref.get_global @filter : memref<8x2x1x1xf32>
  %a = memref.collapse_shape %f [[0], [1, 2, 3]] : memref<8x2x1x1xf32> into memref<8x2xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %p : memref<8x2xf32>, memref<3x2x5xf32>) outs(%c : memref<3x8x5xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  }
  return
}
