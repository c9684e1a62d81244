func.func @slice_rank(%a: tensor<4x6xf32>) -> tensor<2xf32> {
  %0 = flash.slice %a {starts = array<i64: 0>, sizes = array<i64: 2>, steps = array<i64: 1>} : (tensor<4x6xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
