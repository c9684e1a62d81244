func.func @layer(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<128xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.relu %1 : tensor<8x16xf32>
  %3 = flash.mul %2, %x : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %4 = flash.reshape %3 {shape = array<i64: 128>} : (tensor<8x16xf32>) -> tensor<128xf32>
  return %4 : tensor<128xf32>
}

func.func @epilogue(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = flash.matmul %x, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %1 = flash.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = flash.relu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}
