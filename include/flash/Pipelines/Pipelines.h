//===- Pipelines.h - Named Flash lowering pipelines -------------*- C++ -*-===//
//
// The one source of truth for how a Flash module is lowered. flash-opt
// registers these pipelines, and the runtime (and so the Python API) runs
// exactly these functions, stage by stage.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_PIPELINES_PIPELINES_H
#define FLASH_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"

namespace mlir::flash {

/// Flash -> Linalg on tensors (+ canonicalize, CSE).
void buildFlashToLinalgPipeline(OpPassManager &pm);
/// Linalg on tensors -> Linalg on memrefs (one-shot bufferization; results
/// become caller-owned out-parameters; temporaries are freed).
void buildBufferizePipeline(OpPassManager &pm);
/// Linalg on memrefs -> scf loops.
void buildLowerToLoopsPipeline(OpPassManager &pm);
/// Loops -> LLVM dialect.
void buildLoopsToLLVMPipeline(OpPassManager &pm);
/// All of the above, Flash -> LLVM dialect.
void buildFlashToLLVMPipeline(OpPassManager &pm);

/// One step of the progressive lowering: the IR after it is called `name`.
struct LoweringStage {
  const char *name;         ///< stage name, e.g. "linalg"
  const char *pipelineName; ///< flash-opt flag that produces it from the
                            ///< previous stage, e.g. "flash-to-linalg"
  const char *description;
  void (*build)(OpPassManager &);
};

/// The stages after the input ("flash"), in pipeline order.
llvm::ArrayRef<LoweringStage> getLoweringStages();

/// Registers every stage pipeline and flash-to-llvm with the pass registry.
void registerFlashPipelines();

} // namespace mlir::flash

#endif // FLASH_PIPELINES_PIPELINES_H
