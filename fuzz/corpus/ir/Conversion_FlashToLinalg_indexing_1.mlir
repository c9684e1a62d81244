func.func @cast_i32(%x: tensor<3x5xi32>) -> tensor<3x5xf32> {
  %0 = flash.cast %x : (tensor<3x5xi32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
