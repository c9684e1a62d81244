//===- WorkgroupAttributions.cpp - Workgroup allocs as attributions -------===//
#include "flash/Gpu/Passes.h"

namespace mlir::flash {
#define GEN_PASS_DEF_WORKGROUPATTRIBUTIONS
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// Memory space 3 (what MapLoopsToGpu allocates in, and SPIR-V's Vulkan
/// mapping's Workgroup), or the GPU dialect's workgroup space.
bool isWorkgroup(MemRefType type) {
  if (auto space = dyn_cast_or_null<IntegerAttr>(type.getMemorySpace()))
    return space.getInt() == 3;
  if (auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace()))
    return space.getValue() == gpu::AddressSpace::Workgroup;
  return false;
}

struct WorkgroupAttributions
    : mlir::flash::impl::WorkgroupAttributionsBase<WorkgroupAttributions> {
  void runOnOperation() override {
    auto workgroup = gpu::AddressSpaceAttr::get(&getContext(),
                                                gpu::AddressSpace::Workgroup);
    getOperation().walk([&](gpu::GPUFuncOp func) {
      SmallVector<memref::AllocOp> allocs;
      func.walk([&](memref::AllocOp alloc) {
        if (isWorkgroup(alloc.getType()))
          allocs.push_back(alloc);
      });
      for (memref::AllocOp alloc : allocs) {
        MemRefType type = alloc.getType();
        if (!type.hasStaticShape() || !alloc->getParentOfType<gpu::GPUFuncOp>()
                                           .getBody()
                                           .isAncestor(alloc->getParentRegion())) {
          alloc.emitOpError("workgroup memory must have a static shape");
          return signalPassFailure();
        }
        auto attributionType =
            MemRefType::get(type.getShape(), type.getElementType(),
                            type.getLayout(), workgroup);
        BlockArgument buffer =
            func.addWorkgroupAttribution(attributionType, alloc.getLoc());
        alloc.getResult().replaceAllUsesWith(buffer);
        alloc.erase();
      }
    });
  }
};
} // namespace
