func.func @attention(%q: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = flash.attention %q, %q, %q {causal = true} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %0 : tensor<2x4x16x8xf32>
}
