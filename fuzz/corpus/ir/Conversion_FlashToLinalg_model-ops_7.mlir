func.func @reduce_max(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = flash.reduce_max %x {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
