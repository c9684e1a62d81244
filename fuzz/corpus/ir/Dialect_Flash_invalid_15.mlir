func.func @constant_dtype() -> tensor<2xi8> {
  %0 = flash.constant dense<1> : tensor<2xi8>
  return %0 : tensor<2xi8>
}
