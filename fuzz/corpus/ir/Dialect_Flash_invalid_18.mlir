func.func @integer_arithmetic(%a: tensor<3xi64>) -> tensor<3xi64> {
  %0 = flash.add %a, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}
