//===- FlashDialect.td - Flash dialect definition ----------*- tablegen -*-===//
#ifndef FLASH_DIALECT_TD
#define FLASH_DIALECT_TD

include "mlir/IR/OpBase.td"

def Flash_Dialect : Dialect {
  let name = "flash";
  let summary = "Tensor-level ops of the FlashCompile ML compiler.";
  let description = [{
    The `flash` dialect holds graph-level tensor operations (matmul, conv2d,
    elementwise ops with NumPy broadcasting, constants) on statically shaped
    tensors. It is lowered to Linalg on tensors by `--convert-flash-to-linalg`
    and from there through MLIR's own bufferization and LLVM conversions.
  }];
  let cppNamespace = "::mlir::flash";
  let hasConstantMaterializer = 1;
}

// Every Flash op's tensors must be addressable: element count and byte size
// within 64-bit sizes (a larger shape would wrap in every size computation
// below it). FlashOps.h defines the check.
def Flash_AddressableShapes : NativeOpTrait<"AddressableShapes"> {
  let cppNamespace = "::mlir::flash";
}

class Flash_Op<string mnemonic, list<Trait> traits = []>
    : Op<Flash_Dialect, mnemonic, !listconcat(traits, [Flash_AddressableShapes])>;

// Flash ops compute on statically shaped f32 tensors; f16/bf16/i8 come
// later where the backend allows. Integer tensors (token ids, positions)
// only index: they enter as function arguments or constants, move through
// flash.reshape, and are consumed by flash.gather or flash.cast.
def Flash_Tensor : StaticShapeTensorOf<[F32]>;
def Flash_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
def Flash_AnyTensor : StaticShapeTensorOf<[F32, I32, I64]>;
def Flash_Tensor1D : 1DTensorOf<[F32]>;
def Flash_Tensor2D : 2DTensorOf<[F32]>;
def Flash_Tensor4D : 4DTensorOf<[F32]>;

#endif // FLASH_DIALECT_TD
