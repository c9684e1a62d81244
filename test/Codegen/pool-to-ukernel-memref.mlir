// RUN: flash-opt %s --flash-pool-to-ukernel --cse | FileCheck %s

// flash-pool-to-ukernel on memrefs. A pool that combines into values the
// output already holds (no identity fill right before it, here a copy of
// an argument) is left to the generated loops; the same pool after a -inf
// fill of its output becomes the call (no padding: pads 0).
// CHECK-LABEL: func.func @not_from_identity
// CHECK-NOT: call @flash_pool2d_f32
// CHECK: linalg.generic
#in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d3, d5 * 2 + d4)>
#win = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>
#out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>
func.func @not_from_identity(%x: memref<1x2x8x8xf32>, %acc: memref<1x2x3x3xf32>, %o: memref<1x2x3x3xf32>) {
  %w = memref.alloc() : memref<3x3xf32>
  memref.copy %acc, %o : memref<1x2x3x3xf32> to memref<1x2x3x3xf32>
  linalg.generic {indexing_maps = [#in, #win, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%x, %w : memref<1x2x8x8xf32>, memref<3x3xf32>) outs(%o : memref<1x2x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.maximumf %c, %a : f32
    linalg.yield %m : f32
  }
  memref.dealloc %w : memref<3x3xf32>
  return
}

// CHECK-LABEL: func.func @from_identity
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : i64
// CHECK: call @flash_pool2d_f32(%{{.*}}, %{{.*}}, %[[THREE]], %[[THREE]], %[[TWO]], %[[TWO]], %[[ZERO]], %[[ZERO]], %[[ONE]])
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.alloc
func.func @from_identity(%x: memref<1x2x8x8xf32>, %o: memref<1x2x3x3xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  linalg.fill ins(%ninf : f32) outs(%o : memref<1x2x3x3xf32>)
  %w = memref.alloc() : memref<3x3xf32>
  linalg.generic {indexing_maps = [#in, #win, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%x, %w : memref<1x2x8x8xf32>, memref<3x3xf32>) outs(%o : memref<1x2x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.maximumf %c, %a : f32
    linalg.yield %m : f32
  }
  memref.dealloc %w : memref<3x3xf32>
  return
}
