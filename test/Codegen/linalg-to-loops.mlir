// RUN: flash-opt %s --pass-pipeline="builtin.module(func.func(flash-linalg-to-loops{parallel-min-iterations=1000}))" | FileCheck %s
// RUN: flash-opt %s --pass-pipeline="builtin.module(func.func(flash-linalg-to-loops))" | FileCheck %s --check-prefix=SEQ
// RUN: flash-opt %s --flash-to-loops | FileCheck %s --check-prefix=PIPELINE

#id = affine_map<(d0, d1) -> (d0, d1)>
// SEQ: #loop_vectorize = #llvm.loop_vectorize<disable = false>
// SEQ: #loop_annotation = #llvm.loop_annotation<vectorize = #loop_vectorize, parallelAccesses = #access_group>

// 64 x 32 = 2048 iterations >= 1000: the outer loop runs in parallel, the
// inner one stays a plain (vectorizable) loop. (A per-row operand keeps
// the two loops apart.)
// CHECK-LABEL: func.func @large
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     memref.load %arg0
// CHECK:     arith.maximumf
// SEQ-LABEL: func.func @large
// SEQ-NOT: scf.parallel
// SEQ: scf.for
func.func @large(%a: memref<64x32xf32>, %r: memref<64xf32>, %b: memref<64x32xf32>) {
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a, %r : memref<64x32xf32>, memref<64xf32>) outs(%b : memref<64x32xf32>) {
  ^bb0(%x: f32, %m: f32, %y: f32):
    %v = arith.maximumf %x, %m : f32
    linalg.yield %v : f32
  }
  return
}

// An elementwise op over contiguous buffers runs as one loop over all its
// elements: LLVM vectorizes only the innermost loop, and an NCHW
// activation's (its width) is often too short.
// CHECK-LABEL: func.func @merged
// CHECK: memref.collapse_shape %arg0 {{\[\[}}0, 1, 2]]
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c2048) step
// CHECK-NOT: scf.for
// CHECK: return
func.func @merged(%a: memref<2x64x16xf32>, %b: memref<2x64x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : memref<2x64x16xf32>) outs(%b : memref<2x64x16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// A per-channel operand read at (n, c, 0, 0) is read through a 1xC view
// at (n, c): the channel and pixel loops stay apart, each image's pixels
// are one loop (196, not rows of 14).
// CHECK-LABEL: func.func @channel_broadcast
// CHECK-DAG: memref.collapse_shape %arg1 {{\[\[}}0], [1, 2, 3]] : memref<1x64x1x1xf32> into memref<1x64xf32>
// CHECK-DAG: memref.collapse_shape %arg0 {{\[\[}}0, 1], [2, 3]] : memref<1x64x14x14xf32> into memref<64x196xf32>
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c196 step
// CHECK: return
func.func @channel_broadcast(%a: memref<1x64x14x14xf32>, %c: memref<1x64x1x1xf32>, %b: memref<1x64x14x14xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>,
                                   affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a, %c : memref<1x64x14x14xf32>, memref<1x64x1x1xf32>) outs(%b : memref<1x64x14x14xf32>) {
  ^bb0(%x: f32, %m: f32, %y: f32):
    %v = arith.addf %x, %m : f32
    linalg.yield %v : f32
  }
  return
}

// 4 x 8 = 32 iterations: sequential.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.parallel
// CHECK: scf.for
func.func @small(%a: memref<4x8xf32>, %b: memref<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// In the pipeline, large parallel loops become OpenMP worksharing loops
// (default threshold 65536 iterations).
// PIPELINE-LABEL: func.func @huge
// PIPELINE: omp.parallel
// PIPELINE: omp.wsloop
// PIPELINE: omp.loop_nest
func.func @huge(%a: memref<512x256xf32>, %b: memref<512x256xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<512x256xf32>) outs(%b : memref<512x256xf32>) {
  ^bb0(%x: f32, %y: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// The first parallel loop with enough iterations to share runs in
// parallel, together with the parallel loops around it that have too few
// (here a size-1 one): one parallel nest, the innermost loop left alone.
// (A per-(row, column) operand keeps the loops from merging into one.)
// CHECK-LABEL: func.func @unit_outer
// CHECK-NOT: scf.for
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0{{.*}}, %c0{{.*}}) to (%c1{{.*}}, %c64) step
// CHECK: scf.for
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @unit_outer(%a: memref<1x64x32xf32>, %m: memref<1x32xf32>, %b: memref<1x64x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>,
                                   affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a, %m : memref<1x64x32xf32>, memref<1x32xf32>) outs(%b : memref<1x64x32xf32>) {
  ^bb0(%x: f32, %w: f32, %y: f32):
    %r = arith.maximumf %x, %w : f32
    linalg.yield %r : f32
  }
  return
}

// Four attention heads around 128 rows: one parallel region over the
// 4 x 128 rows, not one per head (a region's fork and join cost more than
// a head's share of a softmax on two threads).
// CHECK-LABEL: func.func @few_heads
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0{{.*}}, %c0{{.*}}) to (%c4, %c128) step
// CHECK: scf.for
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @few_heads(%a: memref<4x128x128xf32>, %m: memref<4x128xf32>, %b: memref<4x128x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>,
                                   affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a, %m : memref<4x128x128xf32>, memref<4x128xf32>) outs(%b : memref<4x128x128xf32>) {
  ^bb0(%x: f32, %w: f32, %y: f32):
    %r = arith.maximumf %x, %w : f32
    linalg.yield %r : f32
  }
  return
}

// A copy into a strided view (the interior of a padded buffer) becomes
// loops, not a call to the element-by-element runtime memrefCopy.
// CHECK-LABEL: func.func @strided_copy
// CHECK-NOT: memref.copy
// CHECK: scf.for
// CHECK: memref.load
// CHECK: memref.store
func.func @strided_copy(%src: memref<3x8x8xf32>, %dst: memref<3x10x10xf32>) {
  %view = memref.subview %dst[0, 1, 1] [3, 8, 8] [1, 1, 1] : memref<3x10x10xf32> to memref<3x8x8xf32, strided<[100, 10, 1], offset: 11>>
  memref.copy %src, %view : memref<3x8x8xf32> to memref<3x8x8xf32, strided<[100, 10, 1], offset: 11>>
  return
}

// A transpose that moves the innermost axis runs in 8x8 tiles of the two
// dimensions involved (result dims 1 and 2 here), the others tiled by 1,
// the tile loops outside, the outermost large one parallel; a remainder
// tile (20 = 8 + 8 + 4) is a smaller subview.
// CHECK-LABEL: func.func @transpose_tiled
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK:   scf.for %{{.*}} step %c8
// CHECK:     scf.for %{{.*}} step %c8
// CHECK:       memref.subview %arg0{{.*}} to memref<1x?x8xf32
// CHECK:       scf.for
// CHECK:         scf.for
// CHECK:           memref.load
// CHECK:           memref.store
// SEQ-LABEL: func.func @transpose_tiled
// SEQ-NOT: scf.parallel
// SEQ: step %c8
func.func @transpose_tiled(%a: memref<16x20x24xf32>, %b: memref<16x24x20xf32>) {
  linalg.transpose ins(%a : memref<16x20x24xf32>) outs(%b : memref<16x24x20xf32>) permutation = [0, 2, 1]
  return
}

// One that keeps the innermost axis copies whole rows: no tiles.
// CHECK-LABEL: func.func @transpose_rows
// CHECK-NOT: step %c8
// CHECK: return
func.func @transpose_rows(%a: memref<16x20x24xf32>, %b: memref<20x16x24xf32>) {
  linalg.transpose ins(%a : memref<16x20x24xf32>) outs(%b : memref<20x16x24xf32>) permutation = [1, 0, 2]
  return
}

// The innermost loop over a parallel dimension is marked free of
// loop-carried dependences and to be vectorized (its loads and stores get
// the access group in flash-tag-parallel-accesses); an innermost reduction
// loop is not marked (its sum, not `reassoc`, keeps its order).
// SEQ-LABEL: func.func @marked_innermost
// SEQ: scf.for
// SEQ: scf.for
// SEQ: } {loop_annotation = #loop_annotation{{[0-9]*}}}
// SEQ-LABEL: func.func @row_sums
// SEQ-NOT: loop_annotation
// SEQ: return
// A parallel dimension the output does not index (the last write wins):
// not marked either.
// SEQ-LABEL: func.func @last_write
// SEQ-NOT: loop_annotation
// SEQ: return
func.func @marked_innermost(%a: memref<4x8xf32>, %r: memref<4xf32>, %b: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a, %r : memref<4x8xf32>, memref<4xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %m: f32, %y: f32):
    %v = arith.addf %x, %m : f32
    linalg.yield %v : f32
  }
  return
}
func.func @row_sums(%a: memref<4x8xf32>, %b: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %v = arith.addf %x, %y : f32
    linalg.yield %v : f32
  }
  return
}
func.func @last_write(%a: memref<4x8xf32>, %b: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  return
}

// A reduction over H and W of NCHW (global average pooling) runs as one
// loop over the H*W pixels, its sum carried in a register (read before
// the loop, written after it) and the loop marked for vectorization: LLVM
// cannot tell the output from the input apart, and kept the load and
// store of the sum in every iteration.
// SEQ-LABEL: func.func @pooled_sum
// SEQ-DAG: memref.collapse_shape %arg0 {{\[\[}}0, 1], [2, 3]] : memref<1x64x14x14xf32> into memref<64x196xf32>
// SEQ: scf.for %{{.*}} = %c0{{.*}} to %c64
// SEQ:   %[[INIT:.*]] = memref.load %[[OUT:.*]][%[[I:.*]]] : memref<64xf32>
// SEQ:   %[[SUM:.*]] = scf.for %{{.*}} = %c0{{.*}} to %c196 step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// SEQ-NOT: memref.store
// SEQ:     %[[NEXT:.*]] = arith.addf %{{.*}}, %[[ACC]] fastmath<reassoc>
// SEQ:     scf.yield %[[NEXT]]
// SEQ:   } {loop_annotation = #[[VEC:loop_annotation[0-9]*]]}
// SEQ:   memref.store %[[SUM]], %[[OUT]][%[[I]]]
func.func @pooled_sum(%a: memref<1x64x14x14xf32>, %b: memref<1x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a : memref<1x64x14x14xf32>) outs(%b : memref<1x64xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc fastmath<reassoc> : f32
    linalg.yield %s : f32
  }
  return
}

// A reduction whose innermost loop reads the output at an index that loop
// changes (a running sum along W) is left as it is.
// SEQ-LABEL: func.func @not_an_accumulator
// SEQ-NOT: iter_args
// SEQ: return
func.func @not_an_accumulator(%a: memref<8x16xf32>, %b: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<8x16xf32>) outs(%b : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc fastmath<reassoc> : f32
    linalg.yield %s : f32
  }
  return
}

// Swin's window partition (channels inner, every outer loop short): the
// parallel nest takes loops until their product is enough to share
// (2 x 2 x 7), and the innermost loop stays out of it -- a collapsed nest
// there was one loop of index divisions per element, 15x slower than a copy.
// CHECK-LABEL: func.func @window_partition
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0{{.*}}, %c0{{.*}}, %c0{{.*}}) to (%c2{{.*}}, %c2{{.*}}, %c7) step
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c2688 step
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @window_partition(%a: memref<1x2x7x2x7x384xf32>, %b: memref<1x2x2x7x7x384xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d3, d2, d4, d5)>,
                                   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%a : memref<1x2x7x2x7x384xf32>) outs(%b : memref<1x2x2x7x7x384xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  return
}

// Three rows of 4096 (a per-row operand keeps them apart): the rows are
// shared, each row's loop stays whole for the vectorizer.
// CHECK-LABEL: func.func @few_long_rows
// CHECK: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c3) step
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c4096 step
// CHECK: return
func.func @few_long_rows(%a: memref<3x4096xf32>, %r: memref<3xf32>, %b: memref<3x4096xf32>) {
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a, %r : memref<3x4096xf32>, memref<3xf32>) outs(%b : memref<3x4096xf32>) {
  ^bb0(%x: f32, %m: f32, %y: f32):
    %v = arith.maximumf %x, %m : f32
    linalg.yield %v : f32
  }
  return
}
