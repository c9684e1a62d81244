func.func @relu(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = flash.relu %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
