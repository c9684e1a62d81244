func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<4x2xf32> {
  %0 = flash.reshape %a {shape = array<i64: 4, 2>} : (tensor<2x3xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}
