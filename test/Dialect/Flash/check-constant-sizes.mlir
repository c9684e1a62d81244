// RUN: flash-opt %s --split-input-file --verify-diagnostics --flash-check-constant-sizes="max-bytes=4096"
// RUN: not flash-opt %s --split-input-file --flash-to-llvm="max-constant-bytes=4096" 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: flash-opt %s --split-input-file --flash-to-llvm="max-constant-bytes=1000000" -o /dev/null

// The bound on a compile's memory (docs/reliability.md): constants count
// at their full size, splats too, and together.

// PIPELINE: error: the program's constants hold more than 4096 bytes (this one, 'tensor<32x64xf32>', 8192 bytes, a splat): raise the pipeline option max-constant-bytes to compile it
func.func @splat(%x: tensor<4x32xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{the program's constants hold more than 4096 bytes (this one, 'tensor<32x64xf32>', 8192 bytes, a splat)}}
  %w = flash.constant dense<1.0> : tensor<32x64xf32>
  %0 = flash.matmul %x, %w : (tensor<4x32xf32>, tensor<32x64xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// Each alone fits, four make the limit exactly; the fifth crosses it.
func.func @together(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = flash.constant dense<2.0> : tensor<16x16xf32>
  %b = flash.constant dense<3.0> : tensor<16x16xf32>
  %c = flash.constant dense<4.0> : tensor<16x16xf32>
  %d = flash.constant dense<5.0> : tensor<16x16xf32>
  // expected-error @+1 {{(this one, 'tensor<16x16xf32>', 1024 bytes, a splat)}}
  %e = flash.constant dense<6.0> : tensor<16x16xf32>
  %0 = flash.mul %x, %a : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %1 = flash.add %0, %b : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %2 = flash.sub %1, %c : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %3 = flash.mul %2, %d : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %4 = flash.add %3, %e : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %4 : tensor<16x16xf32>
}

// -----

// Within the limit: nothing to say.
func.func @fits(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w = flash.constant dense<1.0> : tensor<8x8xf32>
  %0 = flash.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
