//===- ParsedModule.h - Flash IR parsed for a pipeline (private) -*- C++ -*-===//
//
// The source parsed in a context of its own, with diagnostics (and pass
// failures later on) collected as `bufferName:line:col: error: ...`; and
// the pipeline options. Shared by compilation and stage printing.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_LIB_RUNTIME_PARSEDMODULE_H
#define FLASH_LIB_RUNTIME_PARSEDMODULE_H

#include "flash/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace flash::runtime::detail {
struct ParsedModule {
  std::unique_ptr<mlir::MLIRContext> ctx;
  llvm::SourceMgr sourceMgr;
  std::string diagnostics;
  llvm::raw_string_ostream os{diagnostics};
  std::unique_ptr<mlir::SourceMgrDiagnosticHandler> handler;
  mlir::OwningOpRef<mlir::ModuleOp> module;

  /// Parses `source` (text or bytecode) in place: it must outlive this.
  bool parse(const std::string &source, const std::string &bufferName);
  bool runPipeline(void (*build)(mlir::OpPassManager &,
                                 const mlir::flash::PipelineOptions &),
                   const mlir::flash::PipelineOptions &options,
                   std::string *passTimings = nullptr);
};

/// Parses "key=value ..." pipeline options; null with `error` if invalid.
std::unique_ptr<mlir::flash::PipelineOptions>
parsePipelineOptions(const std::string &text, std::string &error);
} // namespace flash::runtime::detail

#endif // FLASH_LIB_RUNTIME_PARSEDMODULE_H
