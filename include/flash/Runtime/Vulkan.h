//===- Vulkan.h - Run SPIR-V kernels through Vulkan --------------*- C++ -*-===//
//
// The `mgpu*` functions that MLIR's gpu-to-llvm lowering calls (module load,
// kernel lookup, launch, streams), implemented on the Vulkan API for the
// code compiled for target "vulkan": one Vulkan compute device per process
// (Mesa's lavapipe here, a real GPU elsewhere), one storage buffer per
// kernel argument, bound in argument order (binding i of set 0), copied
// from the host before and back after each dispatch.
//
// Why our own rather than MLIR's: Debian's MLIR ships no Vulkan runtime
// wrappers (upstream builds them only with the ExecutionEngine's optional
// Vulkan runner), and upstream's abort()s on errors and re-creates the
// whole Vulkan instance on every launch.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_VULKAN_H
#define FLASH_RUNTIME_VULKAN_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace flash::runtime::vulkan {

/// The mgpu* entry points, for the JIT's symbol table.
std::vector<std::pair<const char *, void *>> symbols();

/// Whether a Vulkan compute device can be used; `why` says why not.
bool available(std::string &why);
/// The device's name and driver, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
std::string deviceName();

/// Counters since the last reset (all threads).
struct Stats {
  int64_t launches = 0;
  int64_t bytesToDevice = 0;   ///< host -> device buffer copies
  int64_t bytesFromDevice = 0; ///< device -> host buffer copies
  double dispatchMs = 0;       ///< submit to fence signalled
  double copyMs = 0;           ///< the copies
  double setupMs = 0;          ///< buffers, descriptors, pipelines
};
Stats stats();
void resetStats();

/// The error of the first failed Vulkan call since the last take on this
/// thread (then cleared); empty if none. A launch after a failure on the
/// same thread does nothing until the error is taken.
std::string takeError();

} // namespace flash::runtime::vulkan

#endif // FLASH_RUNTIME_VULKAN_H
