//===- FuzzNpy.cpp - libFuzzer: flash-run's .npy reader -------------------===//
//
// An input is a file's bytes; parseNpy must return true or false with an
// error, never throw, crash or allocate more than the bytes describe.
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Npy.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  flash::runtime::NpyArray array;
  std::string error;
  (void)flash::runtime::parseNpy(
      std::string_view(reinterpret_cast<const char *>(data), size), "fuzz.npy",
      array, error);
  return 0;
}
