//===- GraphCost.cpp - Cost analysis of Flash IR text ---------------------===//
#include "flash/Builder/GraphCost.h"
#include "flash/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::flash;

bool mlir::flash::analyzeGraphCostText(const std::string &text,
                                       const std::string &entry,
                                       GraphCost &cost, std::string &error) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);
  ctx.loadAllAvailableDialects();
  llvm::raw_string_ostream os(error);
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    os << diag.getLocation() << ": " << diag << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  if (!module)
    return false;
  func::FuncOp func;
  module->walk([&](func::FuncOp f) {
    if (!func && (entry.empty() || f.getName() == entry) && !f.isExternal())
      func = f;
  });
  if (!func) {
    os << "no function '" << entry << "' in the module";
    return false;
  }
  cost = analyzeGraphCost(func);
  return true;
}

