// flash-run on .npy inputs, checked against NumPy; random inputs; stage output.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/conv_check.py make %t
// RUN: flash-run %s --input %t/x.npy --input %t/w.npy --input %t/b.npy --output-dir %t/out | FileCheck %s --check-prefix=RUNOUT
// RUN: %python %S/Inputs/conv_check.py check %t | FileCheck %s --check-prefix=CHECKED
// RUN: flash-run %s --repeat 3 --output-dir %t/rand | FileCheck %s --check-prefix=RANDOM
// RUN: flash-run %s --emit=llvm-ir | FileCheck %s --check-prefix=LLVMIR
// RUN: flash-run %s --emit=asm | FileCheck %s --check-prefix=ASM
// RUN: not flash-run %s --input %t/x.npy 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not flash-run %s --input %t/w.npy --input %t/w.npy --input %t/b.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not flash-run %s --input %t/bad.npy --input %t/w.npy --input %t/b.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not flash-run %s --emit=nonsense 2>&1 | FileCheck %s --check-prefix=STAGE

// RUNOUT-LABEL: time per call:
// RUNOUT: wrote {{.*}}out0.npy tensor<1x3x5x5xf32>
// CHECKED: MATCHES NUMPY
// RANDOM: time per call: {{[0-9.]+}} ms (median of 3)
// LLVMIR: define void @conv(
// ASM: conv:
// COUNT: flash-run: 'conv' takes 3 inputs but 1 --input files were given
// SHAPE: w.npy: tensor<3x2x3x3xf32> does not match input 0 of 'conv', tensor<1x2x5x5xf32>
// DTYPE: bad.npy: dtype <f8 is not float32 ('<f4'), int64 ('<i8') or int32 ('<i4')
// STAGE: unknown stage 'nonsense'; stages are: flash graph linalg bufferized loops llvm llvm-ir asm
func.func @conv(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x3x5x5xf32> {
  %0 = flash.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
  %1 = flash.relu %0 : tensor<1x3x5x5xf32>
  return %1 : tensor<1x3x5x5xf32>
}
