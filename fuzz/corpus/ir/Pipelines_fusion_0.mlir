func.func @chain(%x: tensor<64x128xf32>, %b: tensor<128xf32>, %r: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %0 = flash.add %x, %b : (tensor<64x128xf32>, tensor<128xf32>) -> tensor<64x128xf32>
  %1 = flash.add %0, %r : (tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<64x128xf32>
  %2 = flash.relu %1 : tensor<64x128xf32>
  return %2 : tensor<64x128xf32>
}

func.func @dense_relu(%x: tensor<8x32xf32>, %w: tensor<32x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.relu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}
