//===- Remarks.cpp - LLVM remarks fc.analyze reports ----------------------===//
#include "Remarks.h"

#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/Support/raw_ostream.h"

using namespace ::flash::runtime::detail;

bool RemarkCollector::handleDiagnostics(const llvm::DiagnosticInfo &info) {
  auto *remark = llvm::dyn_cast<llvm::DiagnosticInfoOptimizationBase>(&info);
  if (!remark)
    return false; // errors and warnings: LLVM's default handling
  if (!remark->isEnabled())
    return true; // a remark of a pass not asked for: dropped
  std::string text;
  llvm::raw_string_ostream os(text);
  os << remark->getPassName() << ": " << remark->getFunction().getName()
     << ": " << remark->getMsg();
  out->push_back(std::move(text));
  return true;
}
