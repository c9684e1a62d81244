func.func @reshape_negative(%a: tensor<2x3xf32>) -> tensor<6xf32> {
  %0 = flash.reshape %a {shape = array<i64: -1>} : (tensor<2x3xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}
