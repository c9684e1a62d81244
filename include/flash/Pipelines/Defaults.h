//===- Defaults.h - Pipeline defaults the models read -----------*- C++ -*-===//
//
// The default values of pipeline options that the tuner's and simulator's
// models restate (read through _flashcompile.runtime_facts). No MLIR
// headers: the Python module includes this.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_PIPELINES_DEFAULTS_H
#define FLASH_PIPELINES_DEFAULTS_H

#include <cstdint>

namespace mlir::flash {
/// Generated loop nests with at least this many iterations run on all
/// cores (the parallel-min-iterations option): a parallel region costs
/// microseconds to start.
inline constexpr int64_t kParallelMinIterations = 1 << 16;
} // namespace mlir::flash

#endif // FLASH_PIPELINES_DEFAULTS_H
