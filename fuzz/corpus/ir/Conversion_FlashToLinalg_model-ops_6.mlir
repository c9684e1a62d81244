func.func @reduce_mean(%x: tensor<2x3x5xf32>) -> tensor<1x3x1xf32> {
  %0 = flash.reduce_mean %x {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x5xf32>) -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}
