//===- Npy.h - Read and write NumPy .npy files ------------------*- C++ -*-===//
//
// The .npy format (v1-v3) for little-endian float32, C order: the one format
// flash-run exchanges tensors in. Small enough that a dependency (cnpy is not
// packaged for Debian 12) would cost more than these functions.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_NPY_H
#define FLASH_RUNTIME_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace flash::runtime {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Reads a float32 C-order .npy file; false with `error` naming the file and
/// the problem otherwise.
bool readNpy(const std::string &path, NpyArray &array, std::string &error);
bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error);

} // namespace flash::runtime

#endif // FLASH_RUNTIME_NPY_H
