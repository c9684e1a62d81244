//===- GraphCostText.cpp - Analyses of Flash IR text ----------------------===//
#include "flash/Analysis/GraphCostText.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Dialect/Flash/IR/Tuning.h"
#include "flash/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::flash;

namespace {
/// A module parsed from text in its own context, with its diagnostics
/// collected into `error`, and the function to read.
struct ParsedFunction {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;

  explicit ParsedFunction(DialectRegistry &registry)
      : ctx(registry, MLIRContext::Threading::DISABLED) {}

  bool parse(const std::string &text, const std::string &entry,
             std::string &error) {
    ctx.loadAllAvailableDialects();
    llvm::raw_string_ostream os(error);
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
      os << diag.getLocation() << ": " << diag << "\n";
      return success();
    });
    module = parseSourceString<ModuleOp>(text, &ctx);
    if (!module)
      return false;
    module->walk([&](func::FuncOp f) {
      if (!func && (entry.empty() || f.getName() == entry) && !f.isExternal())
        func = f;
    });
    if (!func) {
      os << "no function '" << entry << "' in the module";
      return false;
    }
    return true;
  }
};

DialectRegistry allDialects() {
  DialectRegistry registry;
  registerAllDialects(registry);
  return registry;
}

/// Whether fc.tune tunes `op`: the ops the sgemm ukernel runs.
bool isTunable(Operation *op) {
  if (isa<MatmulOp, BatchMatmulOp>(op))
    return true;
  auto conv = dyn_cast<Conv2DOp>(op);
  return conv && conv.getGroups() == 1;
}

std::vector<int64_t> ints(ArrayRef<int64_t> values) {
  return std::vector<int64_t>(values.begin(), values.end());
}
} // namespace

bool mlir::flash::analyzeGraphCostText(const std::string &text,
                                       const std::string &entry,
                                       GraphCost &cost, std::string &error,
                                       const FusionRules &rules) {
  DialectRegistry registry = allDialects();
  ParsedFunction parsed(registry);
  if (!parsed.parse(text, entry, error))
    return false;
  cost = analyzeGraphCost(parsed.func, rules);
  return true;
}

bool mlir::flash::tunableOpsText(const std::string &text,
                                 const std::string &entry,
                                 std::vector<TunableOp> &ops,
                                 std::string &error) {
  DialectRegistry registry = allDialects();
  ParsedFunction parsed(registry);
  if (!parsed.parse(text, entry, error))
    return false;
  // The GEMM sizes come from the shared cost analysis, whose ops are the
  // function's flash ops in order.
  GraphCost cost = analyzeGraphCost(parsed.func);
  size_t costIndex = 0;
  for (Operation &op : parsed.func.getBody().getOps()) {
    if (!op.getDialect() || op.getDialect()->getNamespace() != "flash")
      continue;
    const OpCost &opCost = cost.ops[costIndex++];
    if (!isTunable(&op))
      continue;
    TunableOp tunable;
    tunable.index = static_cast<int>(ops.size());
    tunable.op = op.getName().getStringRef().str();
    for (Value operand : op.getOperands())
      tunable.shapes.push_back(
          ints(cast<RankedTensorType>(operand.getType()).getShape()));
    if (auto conv = dyn_cast<Conv2DOp>(op)) {
      tunable.attrs.emplace_back("dilation", ints(conv.getDilation()));
      tunable.attrs.emplace_back("padding", ints(conv.getPadding()));
      tunable.attrs.emplace_back("stride", ints(conv.getStride()));
    }
    tunable.batch = opCost.batch, tunable.m = opCost.m;
    tunable.n = opCost.n, tunable.k = opCost.k;
    if (auto sgemm = op.getAttrOfType<DenseI64ArrayAttr>(kSgemmAttr))
      tunable.sgemm = ints(sgemm.asArrayRef());
    ops.push_back(std::move(tunable));
  }
  return true;
}

bool mlir::flash::withSgemmText(const std::string &text,
                                const std::string &entry,
                                const std::map<int, std::vector<int64_t>> &params,
                                std::string &out, std::string &error) {
  DialectRegistry registry = allDialects();
  ParsedFunction parsed(registry);
  if (!parsed.parse(text, entry, error))
    return false;
  int index = 0;
  for (Operation &op : parsed.func.getBody().getOps()) {
    if (!isTunable(&op))
      continue;
    auto it = params.find(index++);
    if (it == params.end() || op.hasAttr(kSgemmAttr))
      continue;
    op.setAttr(kSgemmAttr,
               DenseI64ArrayAttr::get(&parsed.ctx, it->second));
  }
  llvm::raw_string_ostream os(out);
  parsed.module->print(os, OpPrintingFlags().enableDebugInfo(
                               /*enable=*/true, /*prettyForm=*/false));
  return true;
}
