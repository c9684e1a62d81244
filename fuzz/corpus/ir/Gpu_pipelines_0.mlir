func.func @mlp_layer(%x: tensor<5x7xf32>, %w: tensor<7x13xf32>, %b: tensor<13xf32>) -> tensor<5x13xf32> {
  %0 = flash.matmul %x, %w : (tensor<5x7xf32>, tensor<7x13xf32>) -> tensor<5x13xf32>
  %1 = flash.add %0, %b : (tensor<5x13xf32>, tensor<13xf32>) -> tensor<5x13xf32>
  %2 = flash.relu %1 : tensor<5x13xf32>
  return %2 : tensor<5x13xf32>
}
