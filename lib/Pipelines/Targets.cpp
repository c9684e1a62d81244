//===- Targets.cpp - The devices FlashCompile generates code for ----------===//
#include "flash/Pipelines/Targets.h"

using namespace mlir::flash;

// PTX 8.0 (CUDA 12.0) is the oldest ISA with sm_90; it also covers sm_80.
// Without a PTX version LLVM picks 6.0, which ptxas rejects for sm_80.
static const Target kTargets[] = {
    {"host", TargetKind::Host, "", "", "", "this CPU (JIT, in process)"},
    {"vulkan", TargetKind::Vulkan, "", "", "",
     "Vulkan compute (SPIR-V), run through the Vulkan loader"},
    {"nvidia-sm80", TargetKind::Nvidia, "sm_80", "+ptx80", "nvidia-a100-80gb",
     "NVIDIA Ampere (A100): PTX, cubin"},
    {"nvidia-sm90", TargetKind::Nvidia, "sm_90", "+ptx80", "nvidia-h100-sxm",
     "NVIDIA Hopper (H100): PTX, cubin"},
    {"amd-gfx90a", TargetKind::Amd, "gfx90a", "", "amd-mi250x",
     "AMD CDNA2 (MI250X): HSACO"},
    {"amd-gfx942", TargetKind::Amd, "gfx942", "", "amd-mi300x",
     "AMD CDNA3 (MI300X): HSACO"},
};

llvm::ArrayRef<Target> mlir::flash::getTargets() { return kTargets; }

const Target *mlir::flash::lookupTarget(llvm::StringRef name) {
  for (const Target &target : kTargets)
    if (name == target.name)
      return &target;
  return nullptr;
}

llvm::StringRef mlir::flash::kindName(TargetKind kind) {
  switch (kind) {
  case TargetKind::Host:
    return "host";
  case TargetKind::Vulkan:
    return "vulkan";
  case TargetKind::Nvidia:
    return "nvidia";
  case TargetKind::Amd:
    return "amd";
  }
  return "host";
}
