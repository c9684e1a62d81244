func.func @flatten_axis(%a: tensor<2x3xf32>) -> tensor<6x1xf32> {
  %0 = flash.flatten %a {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}
