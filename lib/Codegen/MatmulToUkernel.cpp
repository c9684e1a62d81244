//===- MatmulToUkernel.cpp - linalg.matmul -> sgemm ukernel call ----------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::flash {
#define GEN_PASS_DEF_MATMULTOUKERNEL
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
constexpr StringLiteral kMatmulUkernel = "flash_matmul_f32";

/// memref<?x?xf32, strided<[?, ?], offset: ?>>: one callee type for every
/// shape and layout.
MemRefType dynamicMatrixType(MLIRContext *ctx) {
  int64_t dyn = ShapedType::kDynamic;
  return MemRefType::get(
      {dyn, dyn}, Float32Type::get(ctx),
      StridedLayoutAttr::get(ctx, dyn, ArrayRef<int64_t>{dyn, dyn}));
}

func::FuncOp getOrDeclareUkernel(ModuleOp module) {
  if (auto func = module.lookupSymbol<func::FuncOp>(kMatmulUkernel))
    return func;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  MemRefType type = dynamicMatrixType(module.getContext());
  auto func = func::FuncOp::create(b, module.getLoc(), kMatmulUkernel,
                                   b.getFunctionType({type, type, type}, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

bool isF32Matrix(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == 2 && type.getElementType().isF32() &&
         type.hasStaticShape();
}

struct MatmulToUkernel
    : mlir::flash::impl::MatmulToUkernelBase<MatmulToUkernel> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::MatmulOp> matmuls;
    module.walk([&](linalg::MatmulOp op) {
      if (!op.hasPureBufferSemantics() ||
          !llvm::all_of(op->getOperands(), isF32Matrix))
        return;
      // Default indexing maps only (no transposed/broadcast variants).
      if (op.getIndexingMapsArray() !=
          linalg::MatmulOp::getDefaultIndexingMaps(op.getContext()))
        return;
      auto c = cast<MemRefType>(op.getOutputs()[0].getType());
      auto a = cast<MemRefType>(op.getInputs()[0].getType());
      int64_t flops = 2 * c.getDimSize(0) * c.getDimSize(1) * a.getDimSize(1);
      if (flops >= minFlops)
        matmuls.push_back(op);
    });
    if (matmuls.empty())
      return;
    func::FuncOp callee = getOrDeclareUkernel(module);
    MemRefType type = dynamicMatrixType(module.getContext());
    for (linalg::MatmulOp op : matmuls) {
      OpBuilder b(op);
      SmallVector<Value> args;
      for (Value operand : op->getOperands())
        args.push_back(memref::CastOp::create(b, op.getLoc(), type, operand));
      func::CallOp::create(b, op.getLoc(), callee, args);
      op.erase();
    }
  }
};
} // namespace
