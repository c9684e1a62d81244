//===- Targets.h - The devices FlashCompile generates code for --*- C++ -*-===//
//
// One table: the pipelines pick their stages and the GPU target attributes
// from it, the runtime checks names against it, Python lists it
// (fc.targets()).
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_PIPELINES_TARGETS_H
#define FLASH_PIPELINES_TARGETS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::flash {

enum class TargetKind { Host, Vulkan, Nvidia, Amd };

struct Target {
  const char *name;   ///< what users write: "host", "nvidia-sm90", ...
  TargetKind kind;
  const char *chip;     ///< "sm_90", "gfx942"; empty for host and Vulkan
  const char *features; ///< LLVM target features, e.g. "+ptx80"
  const char *device;   ///< the simulator's device file of this chip
  const char *description;
  /// Whether compiled code runs in this process (the host CPU; Vulkan
  /// through the loader, e.g. on Mesa's lavapipe).
  bool runnable() const {
    return kind == TargetKind::Host || kind == TargetKind::Vulkan;
  }
  bool isGpu() const { return kind != TargetKind::Host; }
};

llvm::ArrayRef<Target> getTargets();
/// The target named `name`, or null.
const Target *lookupTarget(llvm::StringRef name);
/// "nvidia", "amd", "vulkan" or "host".
llvm::StringRef kindName(TargetKind kind);

} // namespace mlir::flash

#endif // FLASH_PIPELINES_TARGETS_H
