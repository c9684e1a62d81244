//===- RecordLaunchSizes.cpp - Constant launch sizes onto the kernels -----===//
#include "flash/Gpu/Passes.h"

#include "mlir/IR/Matchers.h"

namespace mlir::flash {
#define GEN_PASS_DEF_RECORDLAUNCHSIZES
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
std::optional<SmallVector<int32_t, 3>> constants(gpu::KernelDim3 dims) {
  SmallVector<int32_t, 3> values;
  for (Value v : {dims.x, dims.y, dims.z}) {
    APInt c;
    if (!matchPattern(v, m_ConstantInt(&c)))
      return std::nullopt;
    values.push_back(static_cast<int32_t>(c.getSExtValue()));
  }
  return values;
}

struct RecordLaunchSizes
    : mlir::flash::impl::RecordLaunchSizesBase<RecordLaunchSizes> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    struct Sizes {
      std::optional<SmallVector<int32_t, 3>> block, grid;
      bool consistent = true;
    };
    llvm::DenseMap<Operation *, Sizes> kernels;
    module.walk([&](gpu::LaunchFuncOp launch) {
      Operation *kernel =
          SymbolTable::lookupNearestSymbolFrom(launch, launch.getKernel());
      if (!kernel)
        return;
      auto block = constants(launch.getBlockSizeOperandValues());
      auto grid = constants(launch.getGridSizeOperandValues());
      auto [it, inserted] = kernels.try_emplace(kernel);
      Sizes &sizes = it->second;
      if (inserted) {
        sizes.block = block;
        sizes.grid = grid;
      } else if (sizes.block != block || sizes.grid != grid) {
        sizes.consistent = false;
      }
    });
    // The work MapLoopsToGpu recorded on an op inside each kernel, onto the
    // kernel.
    module.walk([&](gpu::GPUFuncOp func) {
      func.walk([&](Operation *inner) {
        if (inner == func.getOperation())
          return;
        if (auto cost = inner->getAttr("flash.kernel_cost")) {
          func->setAttr("flash.kernel_cost", cost);
          inner->removeAttr("flash.kernel_cost");
        }
      });
    });
    for (auto &[op, sizes] : kernels) {
      auto func = dyn_cast<gpu::GPUFuncOp>(op);
      if (!func || !sizes.consistent)
        continue;
      if (sizes.block)
        func.setKnownBlockSizeAttr(
            DenseI32ArrayAttr::get(&getContext(), *sizes.block));
      if (sizes.grid)
        func.setKnownGridSizeAttr(
            DenseI32ArrayAttr::get(&getContext(), *sizes.grid));
    }
  }
};
} // namespace
