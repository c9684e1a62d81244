//===- EarlyDeallocation.cpp - Free temporaries after their last use ------===//
//
// Upstream's ownership-based deallocation places a buffer's dealloc at the
// end of its block, so a whole model's temporaries all live until the
// function returns (Passes.td: flash-early-deallocation). Upstream has no
// pass that moves a dealloc up to the buffer's last use (the old
// liveness-based buffer-deallocation pass that did is gone), hence this one.
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::flash {
#define GEN_PASS_DEF_EARLYDEALLOCATION
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// Whether `op` only re-describes memory its memref operand points to: its
/// memref results are views of it, its other results (sizes, strides,
/// offsets) plain numbers.
bool isPlainView(Operation *op) {
  return isa<ViewLikeOpInterface, memref::CastOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp, memref::ReinterpretCastOp,
             memref::ExtractStridedMetadataOp, memref::TransposeOp>(op);
}

/// The last op of `block` that uses `buffer` or a view of it (itself, or
/// the op of `block` holding the use), or null when the buffer may be
/// reached some other way (an op that is not a plain view returns a
/// memref from it, its address is taken, another dealloc frees it).
Operation *lastUseInBlock(Value buffer, Operation *dealloc, Block *block) {
  Operation *last = nullptr;
  SmallVector<Value> aliases{buffer};
  while (!aliases.empty()) {
    Value value = aliases.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user == dealloc)
        continue;
      if (isa<memref::DeallocOp, memref::ExtractAlignedPointerAsIndexOp>(user))
        return nullptr;
      bool returnsMemref = llvm::any_of(user->getResultTypes(), [](Type t) {
        return isa<BaseMemRefType>(t);
      });
      if (isPlainView(user))
        llvm::append_range(aliases, user->getResults());
      else if (returnsMemref || user->hasTrait<OpTrait::IsTerminator>())
        return nullptr;
      Operation *holder = block->findAncestorOpInBlock(*user);
      if (!holder)
        return nullptr;
      if (!last || last->isBeforeInBlock(holder))
        last = holder;
    }
  }
  return last;
}

struct EarlyDeallocation
    : mlir::flash::impl::EarlyDeallocationBase<EarlyDeallocation> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk([&](memref::DeallocOp d) { deallocs.push_back(d); });
    for (memref::DeallocOp dealloc : deallocs) {
      Value buffer = dealloc.getMemref();
      Operation *alloc = buffer.getDefiningOp();
      Block *block = dealloc->getBlock();
      if (!isa_and_nonnull<memref::AllocOp>(alloc) || alloc->getBlock() != block)
        continue;
      Operation *last = lastUseInBlock(buffer, dealloc, block);
      if (last && last->isBeforeInBlock(dealloc) && last->getNextNode() != dealloc)
        dealloc->moveAfter(last);
    }
  }
};
} // namespace
