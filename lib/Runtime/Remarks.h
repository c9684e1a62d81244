//===- Remarks.h - LLVM remarks fc.analyze reports (private) ----*- C++ -*-===//
#ifndef FLASH_LIB_RUNTIME_REMARKS_H
#define FLASH_LIB_RUNTIME_REMARKS_H

#include "llvm/IR/DiagnosticHandler.h"

#include <memory>
#include <string>
#include <vector>

namespace flash::runtime::detail {
/// Collects LLVM's remarks that fc.analyze reports: the vectorizers'
/// decisions with their reasons, and the register allocator's spills and
/// reloads per loop. Shared ownership: the handler stays on the module's
/// context, which the JIT keeps.
class RemarkCollector : public llvm::DiagnosticHandler {
public:
  explicit RemarkCollector(std::shared_ptr<std::vector<std::string>> out)
      : out(std::move(out)) {}
  // Passes ask this before building a remark at all.
  bool isAnyRemarkEnabled() const override { return true; }
  bool isAnalysisRemarkEnabled(llvm::StringRef pass) const override {
    return pass == "loop-vectorize";
  }
  bool isMissedOptRemarkEnabled(llvm::StringRef pass) const override {
    return pass == "loop-vectorize" || pass == "slp-vectorizer" ||
           pass == "regalloc";
  }
  bool isPassedOptRemarkEnabled(llvm::StringRef pass) const override {
    return pass == "loop-vectorize" || pass == "slp-vectorizer";
  }
  bool handleDiagnostics(const llvm::DiagnosticInfo &info) override;

private:
  std::shared_ptr<std::vector<std::string>> out;
};
} // namespace flash::runtime::detail

#endif // FLASH_LIB_RUNTIME_REMARKS_H
