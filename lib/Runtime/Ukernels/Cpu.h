//===- Cpu.h - Which vector paths the ukernels take on this CPU ------------===//
//
// One answer for every ukernel that picks its AVX-512 or AVX2 code by hand
// (the sgemm tiles, the implicit GEMM's packing): FLASH_NO_AVX512=1 keeps
// them on AVX2 on an AVX-512 CPU, to compare the two or test the AVX2 code
// there. (Ukernels compiled with target_clones pick their own.)
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_UKERNELS_CPU_H
#define FLASH_RUNTIME_UKERNELS_CPU_H

#include <cstdlib>

namespace flash::runtime {
inline bool cpuHasAvx2() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

inline bool cpuUsesAvx512() {
  static const bool uses = cpuHasAvx2() && __builtin_cpu_supports("avx512f") &&
                           !std::getenv("FLASH_NO_AVX512");
  return uses;
}
} // namespace flash::runtime

#endif // FLASH_RUNTIME_UKERNELS_CPU_H
