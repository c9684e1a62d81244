func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = flash.concat %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
