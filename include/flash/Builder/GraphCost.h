//===- GraphCost.h - Cost analysis of Flash IR text -------------*- C++ -*-===//
//
// The entry point the Python layer (simulator, analysis) uses: parse Flash
// IR text and run the shared cost analysis (flash/Analysis/OpCost.h) on one
// function. No MLIR types in the interface.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_BUILDER_GRAPHCOST_H
#define FLASH_BUILDER_GRAPHCOST_H

#include "flash/Analysis/OpCost.h"

#include <string>

namespace mlir::flash {
/// Parses `text` and analyzes function `entry` (the first defined one if
/// empty). False with `error` set if it does not parse.
bool analyzeGraphCostText(const std::string &text, const std::string &entry,
                          GraphCost &cost, std::string &error);
} // namespace mlir::flash

#endif // FLASH_BUILDER_GRAPHCOST_H
