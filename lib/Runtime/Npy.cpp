//===- Npy.cpp - Read and write NumPy .npy files --------------------------===//
#include "flash/Runtime/Npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

using namespace ::flash::runtime;

static bool fail(std::string &error, const std::string &path,
                 const std::string &why) {
  error = path + ": " + why;
  return false;
}

bool flash::runtime::readNpy(const std::string &path, NpyArray &array,
                             std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(error, path, "cannot open file");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    return fail(error, path, "not a .npy file (bad magic)");
  uint32_t headerLen = 0;
  unsigned char lenBytes[4] = {0, 0, 0, 0};
  int lenSize = magic[6] == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char *>(lenBytes), lenSize))
    return fail(error, path, "truncated header");
  for (int i = lenSize - 1; i >= 0; --i)
    headerLen = (headerLen << 8) | lenBytes[i];
  if (headerLen > (1u << 20))
    return fail(error, path, "header too large");
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen))
    return fail(error, path, "truncated header");

  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    return fail(error, path, "header has no dtype");
  if (m[1] == "<f4")
    array.dtype = "f32";
  else if (m[1] == "<i8")
    array.dtype = "i64";
  else if (m[1] == "<i4")
    array.dtype = "i32";
  else
    return fail(error, path,
                "dtype " + m[1].str() +
                    " is not float32 ('<f4'), int64 ('<i8') or int32 ('<i4')");
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True")))
    return fail(error, path, "Fortran-order arrays are not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return fail(error, path, "header has no shape");
  array.shape.clear();
  std::stringstream dims(m[1].str());
  std::string dim;
  int64_t count = 1;
  while (std::getline(dims, dim, ',')) {
    if (dim.find_first_not_of(" ") == std::string::npos)
      continue;
    int64_t d = std::stoll(dim);
    if (d < 0)
      return fail(error, path, "negative dimension in shape");
    array.shape.push_back(d);
    count *= d;
  }
  size_t bytes = array.dtype == "i64" ? 8 : 4;
  if (array.dtype == "f32")
    array.data.resize(count);
  else if (array.dtype == "i64")
    array.i64.resize(count);
  else
    array.i32.resize(count);
  if (!in.read(static_cast<char *>(array.buffer()), count * bytes))
    return fail(error, path,
                "truncated data: expected " + std::to_string(count) + " " +
                    array.dtype + " values");
  return true;
}

void *NpyArray::buffer() {
  if (dtype == "i64")
    return i64.data();
  if (dtype == "i32")
    return i32.data();
  return data.data();
}

bool flash::runtime::writeNpy(const std::string &path, const NpyArray &array,
                              std::string &error) {
  std::string shape = "(";
  for (int64_t d : array.shape)
    shape += std::to_string(d) + ", ";
  if (array.shape.size() > 1)
    shape.resize(shape.size() - 2);
  else if (array.shape.size() == 1)
    shape.resize(shape.size() - 1);
  shape += ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that magic + length + header is a multiple of 64, ending in \n.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out)
    return fail(error, path, "cannot open file for writing");
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  char lenBytes[2] = {static_cast<char>(len & 0xff),
                      static_cast<char>(len >> 8)};
  out.write(lenBytes, 2);
  out.write(header.data(), header.size());
  out.write(reinterpret_cast<const char *>(array.data.data()),
            array.data.size() * sizeof(float));
  if (!out)
    return fail(error, path, "write failed");
  return true;
}
