func.func @flatten(%x: tensor<2x3x4x4xf32>) -> tensor<2x48xf32> {
  %0 = flash.flatten %x {axis = 1 : i64} : (tensor<2x3x4x4xf32>) -> tensor<2x48xf32>
  return %0 : tensor<2x48xf32>
}
