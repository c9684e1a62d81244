//===- Npy.h - Read and write NumPy .npy files ------------------*- C++ -*-===//
//
// The .npy format (v1-v3) for little-endian float32 (and int64/int32
// indices), C order: the one format flash-run exchanges tensors in. Small enough that a dependency (cnpy is not
// packaged for Debian 12) would cost more than these functions.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_NPY_H
#define FLASH_RUNTIME_NPY_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flash::runtime {

struct NpyArray {
  std::vector<int64_t> shape;
  std::string dtype = "f32"; ///< "f32", "i64" or "i32" (TensorSpec's names)
  std::vector<float> data;   ///< f32 values
  std::vector<int64_t> i64;  ///< i64 values
  std::vector<int32_t> i32;  ///< i32 values
  /// The values of `dtype`, for Executable::run.
  void *buffer();
};

/// Reads a C-order .npy file of float32, int64 or int32; false with `error`
/// naming the file and the problem otherwise. writeNpy writes float32.
bool readNpy(const std::string &path, NpyArray &array, std::string &error);
/// The .npy format from memory (`path` names it in errors); never throws,
/// never allocates more than the bytes given hold.
bool parseNpy(std::string_view bytes, const std::string &path, NpyArray &array,
              std::string &error);
bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error);

} // namespace flash::runtime

#endif // FLASH_RUNTIME_NPY_H
