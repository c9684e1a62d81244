//===- TagParallelAccesses.cpp - Access groups for loops marked parallel --===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::flash {
#define GEN_PASS_DEF_TAGPARALLELACCESSES
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
struct TagParallelAccesses
    : mlir::flash::impl::TagParallelAccessesBase<TagParallelAccesses> {
  void runOnOperation() override {
    getOperation().walk([](LLVM::BrOp latch) {
      LLVM::LoopAnnotationAttr annotation = latch.getLoopAnnotationAttr();
      if (!annotation || annotation.getParallelAccesses().empty())
        return;
      auto groups = ArrayAttr::get(
          latch.getContext(),
          SmallVector<Attribute>(annotation.getParallelAccesses().begin(),
                                 annotation.getParallelAccesses().end()));
      for (Operation &op : *latch->getBlock())
        if (isa<LLVM::LoadOp, LLVM::StoreOp>(op))
          cast<LLVM::AccessGroupOpInterface>(op).setAccessGroups(groups);
    });
  }
};
} // namespace
