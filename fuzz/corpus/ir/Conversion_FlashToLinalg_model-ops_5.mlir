func.func @slice(%x: tensor<5x3x9xf32>) -> tensor<2x3x2xf32> {
  %0 = flash.slice %x {starts = array<i64: 1, 0, 2>, sizes = array<i64: 2, 3, 2>, steps = array<i64: 2, 1, 3>} : (tensor<5x3x9xf32>) -> tensor<2x3x2xf32>
  return %0 : tensor<2x3x2xf32>
}
