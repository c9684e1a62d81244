//===- Executable.h - JIT-compiled Flash functions --------------*- C++ -*-===//
//
// Compiles a Flash module with the named pipelines (Pipelines.h) and MLIR's
// ExecutionEngine (LLVM -O3 for the host CPU) into an in-process function
// called on caller-owned buffers.
//
// This header is deliberately free of MLIR/LLVM types so that the Python
// binding (built with exceptions) and tools include it cheaply.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_EXECUTABLE_H
#define FLASH_RUNTIME_EXECUTABLE_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flash::builder {
class GraphBuilder;
} // namespace flash::builder

namespace flash::runtime {

/// A function argument or result: a statically shaped tensor.
struct TensorSpec {
  std::vector<int64_t> shape;
  std::string dtype; ///< "f32", or "i64"/"i32" (indices; arguments only)
  /// For an integer argument that indexes (flash.gather): every value must
  /// lie in [-indexLimit, indexLimit). 0: not checked.
  int64_t indexLimit = 0;
  int64_t numElements() const;
  int64_t elementBytes() const; ///< 4 for f32 and i32, 8 for i64
  std::string str() const; ///< e.g. "tensor<2x3xf32>"
};

struct CompileOptions {
  /// The function to compile; empty means the module's only public function.
  std::string entry;
  /// Pipeline options in flash-opt syntax, e.g. "ukernels=false" (see
  /// mlir::flash::PipelineOptions).
  std::string pipelineOptions;
  /// Time every pass of the MLIR pipeline (CompileTimes::passes), as
  /// -mlir-timing does.
  bool timePasses = false;
};

/// Where one compile spent its time (milliseconds): the breakdown that
/// FLASH_LOGS=timing prints. A compile served from the on-disk cache has
/// `cached` set and no pipeline, LLVM or codegen time.
struct CompileTimes {
  double parseMs = 0;    ///< parse and verify the source
  double cacheMs = 0;    ///< cache key, lookup and (on a hit) object load
  double pipelineMs = 0; ///< the MLIR pipeline, Flash to the LLVM dialect
  double llvmMs = 0;     ///< LLVM's -O3 on the module
  double codegenMs = 0;  ///< translation to LLVM IR, codegen, JIT linking
  bool cached = false;
  std::string passes; ///< MLIR's per-pass timing report, if timePasses
};

/// One kernel launch of a GPU-compiled function, in program order.
struct KernelLaunch {
  std::string module; ///< the gpu.module (and gpu.binary) holding it
  std::string kernel; ///< the kernel's name in it
  int64_t grid[3] = {1, 1, 1};  ///< workgroups (blocks)
  int64_t block[3] = {1, 1, 1}; ///< threads per workgroup
  int64_t numBuffers = 0;       ///< memref arguments
  int64_t flops = -1;           ///< the kernel's work (-1: unknown)
  int64_t bytes = -1;           ///< bytes it reads and writes, once each
  int64_t issuedFlops = -1;     ///< FLOPs its threads execute, tile padding included
};

/// The device code of one gpu.module: SPIR-V ("bin"), PTX text ("isa" for
/// NVIDIA), HSACO ("bin") or AMDGPU assembly ("isa" for AMD).
struct DeviceBinary {
  std::string module;
  std::string format;
  std::string data;
};

class Executable {
public:
  /// Parses, verifies and JIT-compiles `source`. On failure returns null and
  /// sets `error` to the MLIR diagnostics (with `bufferName:line:col`).
  static std::unique_ptr<Executable> compile(std::string source,
                                             const std::string &bufferName,
                                             const CompileOptions &options,
                                             std::string &error);
  /// A finished GraphBuilder's function from the on-disk compile cache,
  /// looked up without writing and parsing the module (for a model, most of
  /// a cache hit's time): null on a miss (then compile() its bytecode), with
  /// `error` set only if the options or the function are invalid. On a hit
  /// the executable takes the builder's module as its source (source()).
  static std::unique_ptr<Executable>
  fromCache(builder::GraphBuilder &builder, const std::string &bufferName,
            const CompileOptions &options, std::string &error);
  ~Executable();

  /// The source as given: text or MLIR bytecode (written on first use when
  /// it came from fromCache).
  const std::string &source() const;
  const std::string &entry() const;
  /// The target it was compiled for (CompileOptions' "target=", default
  /// "host"), and whether it runs in this process (see run()).
  const std::string &target() const;
  bool runnable() const;
  /// GPU targets: every kernel launch and every module's device code.
  const std::vector<KernelLaunch> &launches() const;
  const std::vector<DeviceBinary> &deviceBinaries() const;
  const std::vector<TensorSpec> &inputs() const;
  const std::vector<TensorSpec> &outputs() const;

  /// Every stage whose IR `stageIR` can print, in pipeline order: "flash",
  /// then one per lowering stage, then "llvm-ir" (optimized) and "asm".
  static std::vector<std::string> stageNames();
  /// ... of a target (its lowering stages; "llvm-ir" and "asm" are the host
  /// code's).
  static std::vector<std::string> stageNames(const std::string &target);
  /// The compiled object code (ELF, host CPU) holding the packed entry
  /// point `_mlir_<entry>`, for ahead-of-time libraries.
  std::string objectCode() const;
  /// LLVM's remarks from compiling it: loop vectorizer and SLP decisions
  /// (and why a loop was not vectorized), register-allocator spills and
  /// reloads per loop. Empty when the object came from the compile cache.
  const std::vector<std::string> &remarks() const;
  /// Where compiling it spent its time.
  const CompileTimes &compileTimes() const;

  /// Flash IR text (with locations) of `source`, text or MLIR bytecode.
  static bool sourceText(const std::string &source,
                         const std::string &bufferName, std::string &text,
                         std::string &error);

  /// The IR after `stage`, re-derived from the source by the same pipeline
  /// functions the compile used. Returns false and sets `error` on failure.
  bool stageIR(const std::string &stage, std::string &text,
               std::string &error) const;

  /// Runs the function: `inputs[i]` / `outputs[j]` point to contiguous
  /// row-major buffers of the shapes and dtypes in inputs() / outputs().
  /// Thread-safe. Integer inputs must have passed checkIndices. False, with
  /// `error` (if given) saying why, when it did not run: a target that does
  /// not run here, or a failed device call (with the Vulkan result code).
  bool run(void *const *inputs, void *const *outputs,
           std::string *error = nullptr) const;
  /// False, with `error` naming the input, the position and the value, if
  /// an integer input holds an index outside its indexLimit.
  bool checkIndices(void *const *inputs, std::string &error) const;
  /// Whether any input has an indexLimit (callers skip the scan if not).
  bool hasIndexInputs() const;

private:
  struct Impl;
  explicit Executable(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace flash::runtime

#endif // FLASH_RUNTIME_EXECUTABLE_H
