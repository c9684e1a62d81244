//===- MmaSync.cpp - Warp matmuls as TF32 mma.sync ------------------------===//
#include "flash/Gpu/Passes.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

namespace mlir::flash {
#define GEN_PASS_DEF_MMASYNC
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
constexpr const char *kScript = R"mlir(
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %m = transform.structured.match ops{["linalg.matmul"]} attributes{flash.mma} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.nvgpu.rewrite_matmul_as_mma_sync %m : (!transform.any_op) -> ()
    transform.yield
  }
}
)mlir";

struct MmaSync : mlir::flash::impl::MmaSyncBase<MmaSync> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool any = false;
    module.walk([&](Operation *op) { any |= op->hasAttr("flash.mma"); });
    if (!any)
      return;
    OwningOpRef<ModuleOp> script =
        parseSourceString<ModuleOp>(kScript, &getContext());
    if (!script) {
      module.emitError("flash-gpu-mma-sync: cannot parse its transform script");
      return signalPassFailure();
    }
    Operation *entry = transform::detail::findTransformEntryPoint(
        *script, ModuleOp(), "__transform_main");
    if (!entry ||
        failed(transform::applyTransformNamedSequence(
            module, entry, *script, transform::TransformOptions())))
      return signalPassFailure();
    // A marked matmul the rewrite left alone would run as a scalar loop in
    // every lane: a wrong result, not a slow one.
    WalkResult left = module.walk([&](linalg::MatmulOp op) {
      if (!op->hasAttr("flash.mma"))
        return WalkResult::advance();
      op.emitOpError("was not rewritten as mma.sync");
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
