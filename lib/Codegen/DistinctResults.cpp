//===- DistinctResults.cpp - One tensor per function result ---------------===//
//
// Upstream's buffer-results-to-out-params (MLIR 22) crashes on a function
// that returns the same value twice; every repeat is copied first, so each
// result has a buffer of its own (Passes.td: flash-distinct-results).
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::flash {
#define GEN_PASS_DEF_DISTINCTRESULTS
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
struct DistinctResults
    : mlir::flash::impl::DistinctResultsBase<DistinctResults> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 4> seen;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || seen.insert(v).second)
          continue;
        auto copy = bufferization::AllocTensorOp::create(
            b, ret.getLoc(), type, /*dynamicSizes=*/ValueRange(),
            /*copy=*/v, /*sizeHint=*/Value(), /*memorySpace=*/Attribute());
        operand.set(copy);
      }
    });
  }
};
} // namespace
