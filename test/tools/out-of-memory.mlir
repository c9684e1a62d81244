// Running out of memory at run time is an error, not a crash: the 2^20 x
// 2^18 intermediate (a terabyte) cannot be allocated, and flash-run says so
// (Executable::run through runCatchingOutOfMemory, Ukernels.h). The inputs
// are small; only the broadcast sum is huge.
// RUN: not flash-run %s 2>&1 | FileCheck %s
// CHECK: flash-run: 'f': out of memory: the compiled code could not allocate {{[0-9]+}} bytes for a temporary
func.func @f(%a: tensor<1048576x1xf32>, %b: tensor<1x262144xf32>, %w: tensor<262144x1xf32>) -> tensor<1048576x1xf32> {
  %0 = flash.add %a, %b : (tensor<1048576x1xf32>, tensor<1x262144xf32>) -> tensor<1048576x262144xf32>
  %1 = flash.exp %0 : tensor<1048576x262144xf32>
  %2 = flash.matmul %1, %w : (tensor<1048576x262144xf32>, tensor<262144x1xf32>) -> tensor<1048576x1xf32>
  return %2 : tensor<1048576x1xf32>
}
