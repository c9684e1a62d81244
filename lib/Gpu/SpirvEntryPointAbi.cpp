//===- SpirvEntryPointAbi.cpp - Workgroup size as the SPIR-V entry ABI ----===//
#include "flash/Gpu/Passes.h"

#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"

namespace mlir::flash {
#define GEN_PASS_DEF_SPIRVENTRYPOINTABI
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
struct SpirvEntryPointAbi
    : mlir::flash::impl::SpirvEntryPointAbiBase<SpirvEntryPointAbi> {
  void runOnOperation() override {
    getOperation().walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel() ||
          func->hasAttr(spirv::getEntryPointABIAttrName()))
        return;
      SmallVector<int32_t, 3> size = {1, 1, 1};
      if (auto known = func.getKnownBlockSize())
        size.assign(known->begin(), known->end());
      func->setAttr(spirv::getEntryPointABIAttrName(),
                    spirv::getEntryPointABIAttr(&getContext(), size));
    });
  }
};
} // namespace
