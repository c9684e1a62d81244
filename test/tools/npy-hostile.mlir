// flash-run's .npy reader on hostile files: each is refused with a message
// naming the file (the reader used to throw on a non-numeric shape entry
// and to allocate whatever a header claimed; fuzz/FuzzNpy.cpp).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/hostile_npy.py %t
// RUN: not flash-run %s --input %t/badshape.npy 2>&1 | FileCheck %s --check-prefix=BADSHAPE
// RUN: not flash-run %s --input %t/huge.npy 2>&1 | FileCheck %s --check-prefix=HUGE
// RUN: not flash-run %s --input %t/bignumber.npy 2>&1 | FileCheck %s --check-prefix=BIGNUMBER
// RUN: not flash-run %s --input %t/longheader.npy 2>&1 | FileCheck %s --check-prefix=LONG
// RUN: not flash-run %s --input %t/short.npy 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: flash-run %s --input %t/good.npy --output-dir %t/out | FileCheck %s --check-prefix=GOOD

// BADSHAPE: badshape.npy: shape entry ' x3' is not an integer
// HUGE: huge.npy: the shape's element count exceeds 64-bit sizes
// BIGNUMBER: bignumber.npy: shape entry '99999999999999999999999' is not an integer
// LONG: longheader.npy: truncated header
// SHORT: short.npy: truncated data: expected 6 f32 values, the file holds 5
// GOOD: wrote {{.*}}out0.npy tensor<2x3xf32>
func.func @f(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = flash.relu %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
