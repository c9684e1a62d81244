//===- GraphCostText.h - Analyses of Flash IR text --------------*- C++ -*-===//
//
// The entry points the Python layer (simulator, analysis, tuner) uses: parse
// Flash IR text and read one function with the shared analyses (OpCost.h):
// its cost, and the ops fc.tune can tune with the GEMMs they run as. The
// tuner reads these as data and never re-parses IR text itself. No MLIR
// types in the interface.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_ANALYSIS_GRAPHCOSTTEXT_H
#define FLASH_ANALYSIS_GRAPHCOSTTEXT_H

#include "flash/Analysis/OpCost.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mlir::flash {
/// Parses `text` and analyzes function `entry` (the first defined one if
/// empty), grouping kernels by `rules`. False with `error` set if it does
/// not parse.
bool analyzeGraphCostText(const std::string &text, const std::string &entry,
                          GraphCost &cost, std::string &error,
                          const FusionRules &rules = {});

/// One op whose sgemm ukernel parameters fc.tune searches: a matmul, a
/// batch_matmul or an ungrouped convolution (grouped ones run as loops).
struct TunableOp {
  int index = 0;  ///< among the function's tunable ops, in order
  std::string op; ///< e.g. "flash.conv2d"
  std::vector<std::vector<int64_t>> shapes; ///< operand shapes
  /// The attributes that change its cost (a convolution's stride, padding,
  /// dilation), by name.
  std::vector<std::pair<std::string, std::vector<int64_t>>> attrs;
  /// The GEMMs it runs as (OpCost: `batch` products of m x k by k x n).
  int64_t batch = 0, m = 0, n = 0, k = 0;
  /// Its flash.sgemm parameters when it carries them (empty otherwise).
  std::vector<int64_t> sgemm;
};

/// The tunable ops of function `entry` of `text`, in order.
bool tunableOpsText(const std::string &text, const std::string &entry,
                    std::vector<TunableOp> &ops, std::string &error);

/// `text` with tunable op number i given the flash.sgemm parameters
/// `params[i]` (ops that carry parameters already keep theirs), printed
/// with its locations.
bool withSgemmText(const std::string &text, const std::string &entry,
                   const std::map<int, std::vector<int64_t>> &params,
                   std::string &out, std::string &error);
} // namespace mlir::flash

#endif // FLASH_ANALYSIS_GRAPHCOSTTEXT_H
