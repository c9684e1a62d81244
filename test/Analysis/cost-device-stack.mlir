// A device stack's fusions (FusionRules, the simulator's sim/stacks.toml):
// the same functions grouped as the host compiler runs them and as a GPU
// library / XLA-class stack does.
// RUN: flash-opt %s --flash-decompose --flash-print-cost -o /dev/null | FileCheck %s --check-prefix=HOST
// RUN: flash-opt %s --flash-decompose "--flash-print-cost=elementwise-epilogues=true fused-attention=true" -o /dev/null | FileCheck %s --check-prefix=STACK

// Any elementwise chain on a product's only result is its epilogue on a
// GPU stack; the sgemm ukernel takes bias, residual and ReLU only.
// HOST-LABEL: cost of @gelu_epilogue
// HOST: kernel 0 kind=contraction ops=1
// HOST: kernel 1 kind=elementwise ops=2
// STACK-LABEL: cost of @gelu_epilogue
// STACK: kernel 0 kind=contraction ops=3 flops={{[0-9]+}} in=1600 out=512
// STACK-NOT: kernel 1
func.func @gelu_epilogue(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.gelu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// A product used twice keeps its result in memory: no epilogue.
// STACK-LABEL: cost of @two_uses
// STACK: kernel 0 kind=contraction ops=1
// STACK: kernel 1 kind=elementwise ops=1
func.func @two_uses(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %0 = flash.matmul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = flash.tanh %0 : tensor<8x16xf32>
  return %0, %1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// Attention: the host runs the scores, five softmax kernels and the second
// product; the stack runs one kernel that reads Q, K^T, V and the mask and
// writes the output (the scores never reach memory). The mask is used by
// something else too, so it stays a kernel of its own.
// HOST-LABEL: cost of @attention
// HOST: kernel 7 kind=contraction ops=1
// STACK-LABEL: cost of @attention
// STACK: op flash.mul kind=elementwise kernel=0
// STACK: kernel 0 kind=elementwise ops=1
// STACK: kernel 1 kind=contraction ops=10 flops={{[0-9]+}} in=5128 out=1024
// STACK-NOT: kernel 2
func.func @attention(%q: tensor<2x16x8xf32>, %kt: tensor<2x8x16xf32>, %v: tensor<2x16x8xf32>, %m: tensor<2x16x16xf32>) -> (tensor<2x16x8xf32>, tensor<2x16x16xf32>) {
  %c = flash.constant dense<-1.0e4> : tensor<f32>
  %mask = flash.mul %m, %c : (tensor<2x16x16xf32>, tensor<f32>) -> tensor<2x16x16xf32>
  %s = flash.batch_matmul %q, %kt : (tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<2x16x16xf32>
  %scale = flash.constant dense<0.35> : tensor<f32>
  %t = flash.mul %s, %scale : (tensor<2x16x16xf32>, tensor<f32>) -> tensor<2x16x16xf32>
  %u = flash.add %t, %mask : (tensor<2x16x16xf32>, tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
  %p = flash.softmax %u {axis = 2 : i64} : tensor<2x16x16xf32>
  %o = flash.batch_matmul %p, %v : (tensor<2x16x16xf32>, tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  return %o, %mask : tensor<2x16x8xf32>, tensor<2x16x16xf32>
}

// Without an exponent it is two products, not attention.
// STACK-LABEL: cost of @two_products
// STACK: kernel 0 kind=contraction ops=1
// STACK: kernel 1 kind=contraction ops=1
func.func @two_products(%a: tensor<2x16x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<2x16x8xf32>) -> tensor<2x16x8xf32> {
  %0 = flash.batch_matmul %a, %b : (tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<2x16x16xf32>
  %1 = flash.batch_matmul %0, %c : (tensor<2x16x16xf32>, tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  return %1 : tensor<2x16x8xf32>
}
