func.func @slice_out_of_range(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  %0 = flash.slice %a {starts = array<i64: 0, 2>, sizes = array<i64: 2, 3>, steps = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
