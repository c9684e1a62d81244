//===- GraphBuilder.h - Build Flash functions op by op ----------*- C++ -*-===//
//
// How the Python layer creates Flash IR: values are integer handles, ops are
// created by name with MLIR's generic OperationState, result types come from
// each op's own type inference, and every op is verified as it is added, so
// a bad shape is reported at the op that caused it. Like Executable.h, the
// header carries no MLIR types.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_BUILDER_GRAPHBUILDER_H
#define FLASH_BUILDER_GRAPHBUILDER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flash::builder {

struct BuiltModule; // BuiltModule.h

/// An attribute value as the Python layer passes it.
struct AttrValue {
  enum class Kind { Int, IntArray, Float, Bool } kind = Kind::Int;
  int64_t i = 0;
  double f = 0;
  std::vector<int64_t> ints;
};

/// Where an op came from (the user's Python file and line), for diagnostics.
struct SourceLocation {
  std::string file;
  unsigned line = 0;
};

class GraphBuilder {
public:
  GraphBuilder();
  ~GraphBuilder();

  /// A new function argument of element type `dtype` ("f32", or "i64" /
  /// "i32" for indices); returns its value handle, or -1 for another dtype.
  int addInput(const std::vector<int64_t> &shape,
               const std::string &dtype = "f32");
  /// A flash.constant holding `data` (row-major f32) of `shape`.
  int addConstant(const float *data, const std::vector<int64_t> &shape,
                  const SourceLocation &loc);
  /// A flash.constant of i64 indices.
  int addConstant(const int64_t *data, const std::vector<int64_t> &shape,
                  const SourceLocation &loc);
  /// Creates op `name` (e.g. "flash.matmul") on `operands`. Returns the
  /// result handle, or -1 with `error` set to the op's diagnostics.
  int addOp(const std::string &name, const std::vector<int> &operands,
            const std::vector<std::pair<std::string, AttrValue>> &attrs,
            const SourceLocation &loc, std::string &error);
  /// The static shape of a value (also after finish); throws
  /// std::out_of_range for an unknown handle.
  std::vector<int64_t> shape(int value) const;
  /// Its element type: "f32", "i64" or "i32" (throws like shape()).
  std::string dtype(int value) const;
  /// True once finish() has run: nothing more can be added.
  bool finished() const;
  /// Finishes the function `funcName` returning `results` and prints the
  /// module: as text, or with `bytecode` as MLIR bytecode (weights as raw
  /// bytes: a model's is written and read again in a fraction of the time
  /// its hex text takes). False with `error` set if it does not verify.
  bool finish(const std::string &funcName, const std::vector<int> &results,
              std::string &module, std::string &error, bool bytecode = false);
  /// Finishes it as above without printing: the module stays here (built())
  /// until it is written or handed over.
  bool finish(const std::string &funcName, const std::vector<int> &results,
              std::string &error);
  /// The finished module while the builder holds it; null before finish()
  /// and after takeModule().
  const BuiltModule *built() const;
  /// Hands the finished module and its context over (the runtime keeps it
  /// as an executable's source); shape() and dtype() still answer.
  std::unique_ptr<BuiltModule> takeModule();

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace flash::builder

#endif // FLASH_BUILDER_GRAPHBUILDER_H
