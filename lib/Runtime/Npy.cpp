//===- Npy.cpp - Read and write NumPy .npy files --------------------------===//
#include "flash/Runtime/Npy.h"

#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace ::flash::runtime;

/// In a dict literal `header`, the text of key `key`'s value: after
/// optional spaces, from `open` (0: none) up to `close`.
static bool dictValue(const std::string &header, const char *key, char open,
                      char close, std::string_view &value) {
  std::string quoted = std::string("'") + key + "':";
  size_t at = header.find(quoted);
  if (at == std::string::npos)
    return false;
  at = header.find_first_not_of(' ', at + quoted.size());
  if (at == std::string::npos)
    return false;
  if (open) {
    if (header[at] != open)
      return false;
    ++at;
  }
  size_t end = header.find(close, at);
  if (end == std::string::npos)
    return false;
  value = std::string_view(header).substr(at, end - at);
  return true;
}

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
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad())
    return fail(error, path, "cannot read file");
  return parseNpy(bytes, path, array, error);
}

bool flash::runtime::parseNpy(std::string_view bytes, const std::string &path,
                              NpyArray &array, std::string &error) {
  if (bytes.size() < 8 || bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6))
    return fail(error, path, "not a .npy file (bad magic)");
  unsigned lenSize = bytes[6] == 1 ? 2 : 4;
  if (bytes.size() < 8 + lenSize)
    return fail(error, path, "truncated header");
  uint32_t headerLen = 0;
  for (int i = int(lenSize) - 1; i >= 0; --i)
    headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[8 + i]);
  if (headerLen > (1u << 20))
    return fail(error, path, "header too large");
  size_t dataStart = 8 + lenSize + size_t(headerLen);
  if (bytes.size() < dataStart)
    return fail(error, path, "truncated header");
  std::string header(bytes.substr(8 + lenSize, headerLen));

  // The header is a Python dict literal; read the three keys by hand
  // (std::regex recurses per character in libstdc++: a long header from a
  // hostile file would overflow the stack).
  std::string_view descr, order, shape;
  if (!dictValue(header, "descr", '\'', '\'', descr))
    return fail(error, path, "header has no dtype");
  if (descr == "<f4")
    array.dtype = "f32";
  else if (descr == "<i8")
    array.dtype = "i64";
  else if (descr == "<i4")
    array.dtype = "i32";
  else
    return fail(error, path,
                "dtype " + std::string(descr) +
                    " is not float32 ('<f4'), int64 ('<i8') or int32 ('<i4')");
  if (dictValue(header, "fortran_order", 0, ',', order) &&
      order.substr(0, 4) == "True")
    return fail(error, path, "Fortran-order arrays are not supported");
  if (!dictValue(header, "shape", '(', ')', shape))
    return fail(error, path, "header has no shape");
  array.shape.clear();
  std::stringstream dims{std::string(shape)};
  std::string dim;
  uint64_t count = 1;
  size_t elementBytes = array.dtype == "i64" ? 8 : 4;
  while (std::getline(dims, dim, ',')) {
    size_t first = dim.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    size_t last = dim.find_last_not_of(' ');
    int64_t d = 0;
    const char *begin = dim.data() + first, *end = dim.data() + last + 1;
    auto [ptr, ec] = std::from_chars(begin, end, d);
    if (ec != std::errc() || ptr != end)
      return fail(error, path, "shape entry '" + dim + "' is not an integer");
    if (d < 0)
      return fail(error, path, "negative dimension in shape");
    array.shape.push_back(d);
  }
  // No overflow, and no more elements than the file holds: a small file
  // never makes a large allocation.
  for (int64_t d : array.shape)
    if (__builtin_mul_overflow(count, uint64_t(d), &count))
      return fail(error, path, "the shape's element count exceeds 64-bit sizes");
  uint64_t available = (bytes.size() - dataStart) / elementBytes;
  if (count > available)
    return fail(error, path,
                "truncated data: expected " + std::to_string(count) + " " +
                    array.dtype + " values, the file holds " +
                    std::to_string(available));
  if (array.dtype == "f32")
    array.data.resize(count);
  else if (array.dtype == "i64")
    array.i64.resize(count);
  else
    array.i32.resize(count);
  if (count)
    std::memcpy(array.buffer(), bytes.data() + dataStart, count * elementBytes);
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
