//===- NestSpirvModules.cpp - spirv.module into its gpu.module ------------===//
#include "flash/Gpu/Passes.h"

#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"

namespace mlir::flash {
#define GEN_PASS_DEF_NESTSPIRVMODULES
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
struct NestSpirvModules
    : mlir::flash::impl::NestSpirvModulesBase<NestSpirvModules> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto spirvModule :
         llvm::make_early_inc_range(module.getOps<spirv::ModuleOp>())) {
      std::optional<StringRef> name = spirvModule.getName();
      if (!name || !name->starts_with("__spv__"))
        continue;
      auto gpuModule =
          module.lookupSymbol<gpu::GPUModuleOp>(name->drop_front(7));
      if (!gpuModule) {
        spirvModule.emitError("no gpu.module named ")
            << name->drop_front(7) << " for this SPIR-V module";
        return signalPassFailure();
      }
      spirvModule->moveBefore(&gpuModule.getBody()->back());
    }
  }
};
} // namespace
