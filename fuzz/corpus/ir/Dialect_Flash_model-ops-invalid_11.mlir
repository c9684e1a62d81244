func.func @reduce_axes(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = flash.reduce_sum %a {axes = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
