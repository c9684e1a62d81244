func.func @layout(%x: tensor<2x3x4xf32>, %y: tensor<2x3x5xf32>) -> (tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<2x3x9xf32>) {
  %0 = flash.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = flash.reshape %x {shape = array<i64: 6, 4>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %2 = flash.concat %x, %y {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>) -> tensor<2x3x9xf32>
  return %0, %1, %2 : tensor<4x2x3xf32>, tensor<6x4xf32>, tensor<2x3x9xf32>
}
