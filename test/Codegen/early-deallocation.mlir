// RUN: flash-opt %s --flash-early-deallocation --split-input-file | FileCheck %s

// Two temporaries in a chain: each is freed right after its last reader,
// through a view and inside a loop, so the second can reuse the first's
// memory; nothing waits for the return.
// CHECK-LABEL: func.func @chain
// CHECK: %[[T0:.*]] = memref.alloc() : memref<8x16xf32>
// CHECK: linalg.fill {{.*}} outs(%[[T0]]
// CHECK: %[[T1:.*]] = memref.alloc() : memref<8x16xf32>
// CHECK: %[[V:.*]] = memref.collapse_shape %[[T0]]
// CHECK: scf.for
// CHECK: memref.load %[[V]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[T0]]
// CHECK-NEXT: linalg.copy ins(%[[T1]] {{.*}} outs(%arg1
// CHECK-NEXT: memref.dealloc %[[T1]]
// CHECK-NEXT: call @use
// CHECK-NEXT: return
func.func private @use()
func.func @chain(%x: f32, %out: memref<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %t0 = memref.alloc() : memref<8x16xf32>
  linalg.fill ins(%x : f32) outs(%t0 : memref<8x16xf32>)
  %t1 = memref.alloc() : memref<8x16xf32>
  %v = memref.collapse_shape %t0 [[0, 1]] : memref<8x16xf32> into memref<128xf32>
  %t1v = memref.collapse_shape %t1 [[0, 1]] : memref<8x16xf32> into memref<128xf32>
  scf.for %i = %c0 to %c128 step %c1 {
    %e = memref.load %v[%i] : memref<128xf32>
    memref.store %e, %t1v[%i] : memref<128xf32>
  }
  linalg.copy ins(%t1 : memref<8x16xf32>) outs(%out : memref<8x16xf32>)
  call @use() : () -> ()
  memref.dealloc %t0 : memref<8x16xf32>
  memref.dealloc %t1 : memref<8x16xf32>
  return
}

// -----

// A buffer whose address is taken as an index may be reached through it,
// and one carried through a loop is used under another name: both stay.
// CHECK-LABEL: func.func @escapes
// CHECK: %[[P:.*]] = memref.alloc() : memref<16xf32>
// CHECK: %[[L:.*]] = memref.alloc() : memref<16xf32>
// CHECK: call @use
// CHECK-NEXT: memref.dealloc %[[P]]
// CHECK-NEXT: memref.dealloc %[[L]]
// CHECK-NEXT: return
func.func private @use()
func.func @escapes(%n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %p = memref.alloc() : memref<16xf32>
  %addr = memref.extract_aligned_pointer_as_index %p : memref<16xf32> -> index
  %l = memref.alloc() : memref<16xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%m = %l) -> (memref<16xf32>) {
    scf.yield %m : memref<16xf32>
  }
  call @use() : () -> ()
  memref.dealloc %p : memref<16xf32>
  memref.dealloc %l : memref<16xf32>
  return %addr : index
}
