//===- DistinctInits.cpp - One fill or broadcast per destination ----------===//
//
// CSE merges equal fills and bias broadcasts, so two contractions can start
// from one tensor; bufferization then copies it for all but one writer and
// the ukernel rewrites no longer find their init right before the op
// (Passes.td: flash-distinct-inits). Each such destination gets its own
// clone, placed just before it.
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::flash {
#define GEN_PASS_DEF_DISTINCTINITS
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// A fill or broadcast on tensors: what a contraction's destination starts
/// from (FlashToLinalg writes the bias or zeros this way).
bool isInitProducer(Operation *op) {
  return op && isa<linalg::FillOp, linalg::BroadcastOp>(op) &&
         cast<linalg::LinalgOp>(op).hasPureTensorSemantics();
}

/// The ops from an init's fill or broadcast to the init itself, reshapes
/// between (a convolution's destination is its bias broadcast, reshaped),
/// if it is made that way and any of it has another user; else empty.
SmallVector<Operation *> sharedInitChain(Value init) {
  SmallVector<Operation *> chain;
  bool shared = false;
  Value v = init;
  while (true) {
    shared |= !v.hasOneUse();
    Operation *op = v.getDefiningOp();
    if (!op)
      return {};
    chain.push_back(op);
    if (isInitProducer(op))
      break;
    if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op))
      return {};
    v = op->getOperand(0);
  }
  if (!shared)
    return {};
  return {chain.rbegin(), chain.rend()};
}

struct DistinctInits : mlir::flash::impl::DistinctInitsBase<DistinctInits> {
  void runOnOperation() override {
    // Every destination of a shared chain gets a clone, the last one too:
    // the ukernel rewrites look for the init right before the op.
    SmallVector<std::pair<OpOperand *, SmallVector<Operation *>>> shared;
    getOperation().walk([&](DestinationStyleOpInterface op) {
      for (OpOperand &init : op.getDpsInitsMutable())
        if (SmallVector<Operation *> chain = sharedInitChain(init.get());
            !chain.empty())
          shared.push_back({&init, chain});
    });
    for (auto &[init, chain] : shared) {
      OpBuilder b(init->getOwner());
      IRMapping map;
      // Its own empty tensor too: a shared one would be written twice.
      Value empty =
          cast<DestinationStyleOpInterface>(chain.front()).getDpsInits()[0];
      if (auto emptyOp = empty.getDefiningOp<tensor::EmptyOp>())
        map.map(empty, b.clone(*emptyOp)->getResult(0));
      Operation *last = nullptr;
      for (Operation *op : chain)
        last = b.clone(*op, map);
      init->set(last->getResult(0));
      for (Operation *op : llvm::reverse(chain))
        if (op->use_empty())
          op->erase();
      if (Operation *emptyOp = empty.getDefiningOp();
          emptyOp && emptyOp->use_empty())
        emptyOp->erase();
    }
  }
};
} // namespace
