func.func @attention_shapes(%q: tensor<2x4x8xf32>, %k: tensor<2x5x7xf32>) -> tensor<2x4x7xf32> {
  %0 = flash.attention %q, %k, %k : (tensor<2x4x8xf32>, tensor<2x5x7xf32>, tensor<2x5x7xf32>) -> tensor<2x4x7xf32>
  return %0 : tensor<2x4x7xf32>
}
