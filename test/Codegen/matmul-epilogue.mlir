// RUN: flash-opt %s --flash-matmul-to-ukernel --split-input-file | FileCheck %s
// RUN: flash-opt %s --flash-matmul-to-ukernel="epilogue=false" --split-input-file | FileCheck %s --check-prefix=OFF

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Bias along the columns, a residual, then ReLU6 written as NumPy's
// minimum (-max(-x, -6)): one call; the generic is gone. terms = 2
// (column bias) | 4 (residual); the clamp is [0, 6].
// CHECK-LABEL: func.func @bias_residual_relu6
// CHECK-DAG: %[[HI:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-DAG: %[[TERMS:.*]] = arith.constant 6 : i64
// CHECK-DAG: %[[COL:.*]] = memref.cast %arg2 : memref<3xf32> to memref<?xf32, strided<[?], offset: ?>>
// CHECK: call @flash_matmul_epilogue_f32({{.*}}, %{{.*}}, %[[COL]], %{{.*}}, %{{.*}}, %[[TERMS]], %{{.*}}, %[[HI]])
// CHECK-NOT: linalg.generic
// OFF-LABEL: func.func @bias_residual_relu6
// OFF: call @flash_matmul_f32
// OFF: linalg.generic
func.func @bias_residual_relu6(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %bias: memref<3xf32>,
                               %r: memref<7x3xf32>, %c: memref<7x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %m6 = arith.constant -6.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias, %r : memref<7x3xf32>, memref<3xf32>, memref<7x3xf32>) outs(%c : memref<7x3xf32>) {
  ^bb0(%x: f32, %bb: f32, %rr: f32, %out: f32):
    %0 = arith.addf %x, %bb : f32
    %1 = arith.addf %0, %rr : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = arith.negf %2 : f32
    %4 = arith.maximumf %3, %m6 : f32
    %5 = arith.negf %4 : f32
    linalg.yield %5 : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d1)>
#a = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// A convolution's product per image (C: 2 x 4 x 6) read back as NCHW
// (2 x 4 x 2 x 3) with a per-channel bias (a row bias of C) and ReLU into
// another buffer: fused, the output viewed in C's shape per image.
// CHECK-LABEL: func.func @conv_epilogue
// CHECK-DAG: %[[TERMS:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[OUT:.*]] = memref.collapse_shape %arg3 {{\[}}[0], [1], [2, 3]]
// CHECK: scf.for %[[I:.*]] =
// CHECK: memref.subview %[[OUT]][%[[I]], 0, 0] [1, 4, 6] [1, 1, 1]
// CHECK: call @flash_matmul_epilogue_f32({{.*}}%[[TERMS]]
// CHECK-NOT: linalg.generic
func.func @conv_epilogue(%w: memref<4x9xf32>, %patches: memref<2x9x6xf32>, %bias: memref<4xf32>,
                         %y: memref<2x4x2x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<2x4x6xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<2x4x6xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %patches : memref<4x9xf32>, memref<2x9x6xf32>) outs(%acc : memref<2x4x6xf32>) {
  ^bb0(%x: f32, %p: f32, %o: f32):
    %0 = arith.mulf %x, %p : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  }
  %nchw = memref.expand_shape %acc [[0], [1], [2, 3]] output_shape [2, 4, 2, 3] : memref<2x4x6xf32> into memref<2x4x2x3xf32>
  linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%nchw, %bias : memref<2x4x2x3xf32>, memref<4xf32>) outs(%y : memref<2x4x2x3xf32>) {
  ^bb0(%x: f32, %bb: f32, %out: f32):
    %0 = arith.addf %x, %bb : f32
    %1 = arith.maximumf %0, %zero : f32
    linalg.yield %1 : f32
  }
  memref.dealloc %acc : memref<2x4x6xf32>
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Not fused: a body the ukernel does not apply (exp), the product read
// again after the generic, and an output that is the product's A.
// CHECK-LABEL: func.func @not_fused
// CHECK: call @flash_matmul_f32
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: call @flash_matmul_f32
// CHECK: linalg.generic
// CHECK: call @flash_matmul_f32
// CHECK: linalg.generic
func.func @not_fused(%a: memref<6x6xf32>, %b: memref<6x6xf32>, %c: memref<6x6xf32>, %d: memref<6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.matmul ins(%a, %b : memref<6x6xf32>, memref<6x6xf32>) outs(%c : memref<6x6xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<6x6xf32>) outs(%c : memref<6x6xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = math.exp %x : f32
    linalg.yield %0 : f32
  }
  %t = memref.alloc() : memref<6x6xf32>
  linalg.matmul ins(%a, %b : memref<6x6xf32>, memref<6x6xf32>) outs(%t : memref<6x6xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<6x6xf32>) outs(%d : memref<6x6xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = arith.maximumf %x, %zero : f32
    linalg.yield %0 : f32
  }
  memref.copy %t, %c : memref<6x6xf32> to memref<6x6xf32>
  memref.dealloc %t : memref<6x6xf32>
  linalg.matmul ins(%a, %b : memref<6x6xf32>, memref<6x6xf32>) outs(%c : memref<6x6xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<6x6xf32>) outs(%a : memref<6x6xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = arith.maximumf %x, %zero : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A concatenation's piece: its buffer is allocated between the product
// and the ReLU, and the product's buffer is given to the next value after
// it (bufferization reuses a dead buffer): the next write overwrites it
// all without reading it, so the ReLU still fuses. A later read inside a
// loop, before any overwrite, keeps the generic.
// CHECK-LABEL: func.func @piece_and_reused_buffer
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<6x6xf32>
// CHECK: call @flash_matmul_epilogue_f32
// CHECK-NOT: linalg.generic
// CHECK: linalg.fill
// CHECK: return %[[OUT]]
func.func @piece_and_reused_buffer(%a: memref<6x6xf32>, %b: memref<6x6xf32>) -> memref<6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %t = memref.alloc() : memref<6x6xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x6xf32>)
  linalg.matmul ins(%a, %b : memref<6x6xf32>, memref<6x6xf32>) outs(%t : memref<6x6xf32>)
  %out = memref.alloc() : memref<6x6xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<6x6xf32>) outs(%out : memref<6x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %0 = arith.maximumf %x, %zero : f32
    linalg.yield %0 : f32
  }
  linalg.fill ins(%one : f32) outs(%t : memref<6x6xf32>)
  memref.copy %t, %b : memref<6x6xf32> to memref<6x6xf32>
  memref.dealloc %t : memref<6x6xf32>
  return %out : memref<6x6xf32>
}

// CHECK-LABEL: func.func @read_in_a_loop_after
// CHECK: call @flash_matmul_f32
// CHECK: linalg.generic
func.func @read_in_a_loop_after(%a: memref<6x6xf32>, %b: memref<6x6xf32>, %d: memref<6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %t = memref.alloc() : memref<6x6xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x6xf32>)
  linalg.matmul ins(%a, %b : memref<6x6xf32>, memref<6x6xf32>) outs(%t : memref<6x6xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<6x6xf32>) outs(%d : memref<6x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %0 = arith.maximumf %x, %zero : f32
    linalg.yield %0 : f32
  }
  scf.for %i = %c0 to %c6 step %c1 {
    %v = memref.load %t[%i, %c0] : memref<6x6xf32>
    memref.store %v, %b[%i, %c0] : memref<6x6xf32>
  }
  memref.dealloc %t : memref<6x6xf32>
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// A HardSwish after the adds and clamp, as flash.hardswish lowers:
// x * clamp(x/6 + 1/2, 0, 1) (the clamp as -max(-max(t, 0), -1)) after a
// ReLU6 is terms 2 (column bias) | 8 (HardSwish), the clamp [0, 6]. A
// SiLU, x * 1/(1 + exp(-x)), stays a loop (Epilogue.cpp says why).
// CHECK-LABEL: func.func @activations
// CHECK: call @flash_matmul_f32
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: %[[HSWISH:.*]] = arith.constant 10 : i64
// CHECK: call @flash_matmul_epilogue_f32({{.*}}, %[[HSWISH]], %{{.*}}, %{{.*}})
// CHECK-NOT: linalg.generic
// OFF-LABEL: func.func @activations
// OFF-COUNT-2: linalg.generic
func.func @activations(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %bias: memref<3xf32>,
                       %c: memref<7x3xf32>, %d: memref<7x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %m1 = arith.constant -1.0 : f32
  %m6 = arith.constant -6.0 : f32
  %half = arith.constant 0.5 : f32
  %sixth = arith.constant 0.166666672 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<7x3xf32>, memref<3xf32>) outs(%c : memref<7x3xf32>) {
  ^bb0(%x: f32, %bb: f32, %out: f32):
    %0 = arith.addf %x, %bb : f32
    %1 = arith.negf %0 : f32
    %2 = math.exp %1 : f32
    %3 = arith.addf %2, %one : f32
    %4 = arith.divf %one, %3 : f32
    %5 = arith.mulf %0, %4 : f32
    linalg.yield %5 : f32
  }
  linalg.fill ins(%zero : f32) outs(%d : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%d : memref<7x3xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d, %bias : memref<7x3xf32>, memref<3xf32>) outs(%d : memref<7x3xf32>) {
  ^bb0(%x: f32, %bb: f32, %out: f32):
    %0 = arith.addf %x, %bb : f32
    %r0 = arith.maximumf %0, %zero : f32
    %r1 = arith.negf %r0 : f32
    %r2 = arith.maximumf %r1, %m6 : f32
    %r3 = arith.negf %r2 : f32
    %1 = arith.mulf %r3, %sixth : f32
    %2 = arith.addf %1, %half : f32
    %3 = arith.maximumf %2, %zero : f32
    %4 = arith.negf %3 : f32
    %5 = arith.maximumf %4, %m1 : f32
    %6 = arith.negf %5 : f32
    %7 = arith.mulf %r3, %6 : f32
    linalg.yield %7 : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// Not an activation the ukernel has: a SiLU-like product of two different
// values, and a HardSwish whose slope is not 1/6.
// CHECK-LABEL: func.func @not_activations
// CHECK-COUNT-2: linalg.generic
func.func @not_activations(%a: memref<7x5xf32>, %b: memref<5x3xf32>, %bias: memref<3xf32>,
                           %c: memref<7x3xf32>, %d: memref<7x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %m1 = arith.constant -1.0 : f32
  %half = arith.constant 0.5 : f32
  %fifth = arith.constant 0.2 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%c : memref<7x3xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<7x3xf32>, memref<3xf32>) outs(%c : memref<7x3xf32>) {
  ^bb0(%x: f32, %bb: f32, %out: f32):
    %0 = arith.addf %x, %bb : f32
    %1 = arith.negf %0 : f32
    %2 = math.exp %1 : f32
    %3 = arith.addf %2, %one : f32
    %4 = arith.divf %one, %3 : f32
    %5 = arith.mulf %x, %4 : f32
    linalg.yield %5 : f32
  }
  linalg.fill ins(%zero : f32) outs(%d : memref<7x3xf32>)
  linalg.matmul ins(%a, %b : memref<7x5xf32>, memref<5x3xf32>) outs(%d : memref<7x3xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : memref<7x3xf32>) outs(%d : memref<7x3xf32>) {
  ^bb0(%x: f32, %out: f32):
    %1 = arith.mulf %x, %fifth : f32
    %2 = arith.addf %1, %half : f32
    %3 = arith.maximumf %2, %zero : f32
    %4 = arith.negf %3 : f32
    %5 = arith.maximumf %4, %m1 : f32
    %6 = arith.negf %5 : f32
    %7 = arith.mulf %x, %6 : f32
    linalg.yield %7 : f32
  }
  return
}
