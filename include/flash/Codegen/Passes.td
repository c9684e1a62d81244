//===- Passes.td - Flash loop-level (codegen) passes -------*- tablegen -*-===//
#ifndef FLASH_CODEGEN_PASSES_TD
#define FLASH_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def MatmulToUkernel : Pass<"flash-matmul-to-ukernel", "ModuleOp"> {
  let summary = "Replace f32 linalg.matmul on memrefs by a call to the "
                "packed sgemm ukernel.";
  let description = [{
    Each `linalg.matmul` on f32 memrefs becomes
    `func.call @flash_matmul_f32(A, B, C)` (C += A * B) on memrefs cast to a
    fully dynamic strided layout; the callee is declared with
    `llvm.emit_c_interface` and provided by the runtime
    (lib/Runtime/Ukernels). Matmuls below `min-flops` stay in generated code.
  }];
  let options = [
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"0",
           "Only matmuls with at least this many FLOPs (2*M*N*K) use the "
           "ukernel">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // FLASH_CODEGEN_PASSES_TD
