//===- Executable.cpp - JIT-compiled Flash functions ----------------------===//
//
// Compile (from the compile cache when it holds the object, else through the
// pipeline and MLIR's ExecutionEngine) and run. The pieces it uses live
// beside it: HostTarget (LLVM for the host), Remarks, RuntimeSymbols,
// CachedObject, ParsedModule; StageIR prints the stages.
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Executable.h"
#include "CachedObject.h"
#include "ExecutableImpl.h"
#include "HostTarget.h"
#include "ParsedModule.h"
#include "RuntimeSymbols.h"
#include "flash/Runtime/Vulkan.h"
#include "flash/Builder/BuiltModule.h"
#include "flash/Builder/GraphBuilder.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/Pipelines/Pipelines.h"
#include "flash/Runtime/CompileCache.h"
#include "flash/Runtime/Ukernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <chrono>

using namespace mlir;
using namespace ::flash::runtime::detail;
using ::flash::runtime::CompileOptions;
using ::flash::runtime::CompileTimes;
using ::flash::runtime::Executable;
using ::flash::runtime::TensorSpec;

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t TensorSpec::elementBytes() const { return dtype == "i64" ? 8 : 4; }

std::string TensorSpec::str() const {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + dtype + ">";
}

namespace {
/// Milliseconds since the last lap (or construction).
class Stopwatch {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();

public:
  double lap() {
    auto now = std::chrono::steady_clock::now();
    double ms = std::chrono::duration<double, std::milli>(now - last).count();
    last = now;
    return ms;
  }
};

/// The entry function: the named one, or the only public one.
func::FuncOp findEntry(ModuleOp module, const std::string &name,
                       std::string &error) {
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      error = "no function named '" + name + "' in the module";
    return func;
  }
  func::FuncOp found;
  int count = 0;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal()) {
      found = func;
      ++count;
    }
  if (count != 1) {
    error = "the module has " + std::to_string(count) +
            " public functions; name the entry function";
    return nullptr;
  }
  return found;
}

/// f32 tensors anywhere; i64/i32 tensors (indices) as arguments only.
bool toSpec(Type type, TensorSpec &spec, bool argument) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return false;
  Type element = tensor.getElementType();
  if (element.isF32())
    spec.dtype = "f32";
  else if (argument && element.isSignlessInteger(64))
    spec.dtype = "i64";
  else if (argument && element.isSignlessInteger(32))
    spec.dtype = "i32";
  else
    return false;
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  return true;
}

/// The smallest extent any flash.gather indexes with `value` (followed
/// through reshapes), or 0 if none does.
int64_t indexLimitOf(Value value) {
  int64_t limit = 0;
  llvm::SmallVector<Value> work{value};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (auto reshape = dyn_cast<mlir::flash::ReshapeOp>(user)) {
        work.push_back(reshape.getResult());
      } else if (auto gather = dyn_cast<mlir::flash::GatherOp>(user)) {
        if (gather.getIndices() != v)
          continue;
        int64_t extent = cast<RankedTensorType>(gather.getData().getType())
                             .getDimSize(gather.getAxis());
        limit = limit ? std::min(limit, extent) : extent;
      }
    }
  }
  return limit;
}

int64_t constantOr1(Value v) {
  APInt c;
  return matchPattern(v, m_ConstantInt(&c)) ? c.getSExtValue() : 1;
}

/// Every gpu.launch_func, in program order (the "gpu" stage's IR).
std::vector<::flash::runtime::KernelLaunch> collectLaunches(ModuleOp module) {
  std::vector<::flash::runtime::KernelLaunch> launches;
  module.walk([&](gpu::LaunchFuncOp op) {
    ::flash::runtime::KernelLaunch launch;
    launch.module = op.getKernelModuleName().str();
    launch.kernel = op.getKernelName().str();
    gpu::KernelDim3 grid = op.getGridSizeOperandValues();
    gpu::KernelDim3 block = op.getBlockSizeOperandValues();
    Value g[3] = {grid.x, grid.y, grid.z}, b[3] = {block.x, block.y, block.z};
    for (int i = 0; i < 3; ++i) {
      launch.grid[i] = constantOr1(g[i]);
      launch.block[i] = constantOr1(b[i]);
    }
    for (Value arg : op.getKernelOperands())
      launch.numBuffers += isa<MemRefType>(arg.getType());
    if (auto func = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
            op, op.getKernel()))
      if (auto cost = func->getAttrOfType<DenseI64ArrayAttr>("flash.kernel_cost");
          cost && cost.size() >= 2) {
        launch.flops = cost[0];
        launch.bytes = cost[1];
        launch.issuedFlops = cost.size() > 2 ? cost[2] : cost[0];
      }
    launches.push_back(std::move(launch));
  });
  return launches;
}

/// The device code of every gpu.binary (the last stage's IR).
std::vector<::flash::runtime::DeviceBinary> collectBinaries(ModuleOp module) {
  std::vector<::flash::runtime::DeviceBinary> binaries;
  module.walk([&](gpu::BinaryOp op) {
    for (Attribute attr : op.getObjects()) {
      auto object = dyn_cast<gpu::ObjectAttr>(attr);
      if (!object)
        continue;
      ::flash::runtime::DeviceBinary binary;
      binary.module = op.getName().str();
      switch (object.getFormat()) {
      case gpu::CompilationTarget::Assembly:
        binary.format = "isa";
        break;
      case gpu::CompilationTarget::Fatbin:
        binary.format = "fatbin";
        break;
      case gpu::CompilationTarget::Offload:
        binary.format = "offload";
        break;
      default:
        binary.format = "bin";
      }
      binary.data = object.getObject().getValue().str();
      binaries.push_back(std::move(binary));
    }
  });
  return binaries;
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}
} // namespace

Executable::Executable(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Executable::~Executable() = default;
const std::string &Executable::source() const { return impl->sourceBytes(); }
const std::string &Executable::entry() const { return impl->entry; }
const std::string &Executable::target() const { return impl->target; }
bool Executable::runnable() const { return impl->runnable; }
const std::vector<::flash::runtime::KernelLaunch> &
Executable::launches() const {
  return impl->launches;
}
const std::vector<::flash::runtime::DeviceBinary> &
Executable::deviceBinaries() const {
  return impl->deviceBinaries;
}
const std::vector<std::string> &Executable::remarks() const {
  return impl->remarks;
}

const CompileTimes &Executable::compileTimes() const { return impl->times; }
const std::vector<TensorSpec> &Executable::inputs() const {
  return impl->inputs;
}
const std::vector<TensorSpec> &Executable::outputs() const {
  return impl->outputs;
}

const mlir::flash::Target *
Executable::Impl::describe(ModuleOp module, const CompileOptions &options,
                           const mlir::flash::PipelineOptions &parsedOptions,
                           std::string &error) {
  const mlir::flash::Target *found =
      mlir::flash::lookupTarget(parsedOptions.target);
  if (!found) {
    error = "unknown target '" + parsedOptions.target.getValue() +
            "'; the targets are:";
    for (const mlir::flash::Target &t : mlir::flash::getTargets())
      error += std::string(" ") + t.name;
    return nullptr;
  }
  target = found->name;
  pipelineOptions = options.pipelineOptions;

  func::FuncOp func = findEntry(module, options.entry, error);
  if (!func)
    return nullptr;
  entry = func.getName().str();
  FunctionType type = func.getFunctionType();
  for (auto [index, t] : llvm::enumerate(type.getInputs())) {
    TensorSpec spec;
    if (!toSpec(t, spec, /*argument=*/true)) {
      error = "function '" + entry + "': argument " + std::to_string(index) +
              " has type " + typeString(t) +
              "; expected a statically shaped f32, i64 or i32 tensor";
      return nullptr;
    }
    if (spec.dtype != "f32")
      spec.indexLimit = indexLimitOf(func.getArgument(index));
    inputs.push_back(spec);
  }
  for (auto [index, t] : llvm::enumerate(type.getResults())) {
    TensorSpec spec;
    if (!toSpec(t, spec, /*argument=*/false)) {
      error = "function '" + entry + "': result " + std::to_string(index) +
              " has type " + typeString(t) +
              "; expected a statically shaped f32 tensor";
      return nullptr;
    }
    outputs.push_back(spec);
  }
  for (const auto *specs : {&inputs, &outputs})
    for (const TensorSpec &spec : *specs) {
      std::vector<int64_t> specStrides(spec.shape.size(), 1);
      for (int i = static_cast<int>(spec.shape.size()) - 2; i >= 0; --i)
        specStrides[i] = specStrides[i + 1] * spec.shape[i + 1];
      sizes.push_back(spec.shape);
      strides.push_back(std::move(specStrides));
    }
  return found;
}

namespace {
/// The compile cache's key: the module as MLIR prints it without locations
/// (the same program traced from another line is the same code), its large
/// constants elided from the text and their bytes appended instead: printing
/// a model's weights as hex costs more than compiling a small one.
std::string cacheKeyOf(ModuleOp module, const std::string &entry,
                       const std::string &pipelineOptions) {
  std::string program;
  llvm::raw_string_ostream programStream(program);
  module->print(programStream,
                OpPrintingFlags()
                    .enableDebugInfo(/*enable=*/false)
                    .elideLargeElementsAttrs(/*largeElementLimit=*/64));
  std::vector<llvm::StringRef> constants;
  module->walk([&](Operation *op) {
    for (NamedAttribute attr : op->getAttrs())
      if (auto dense = dyn_cast<DenseElementsAttr>(attr.getValue()))
        if (dense.getNumElements() >= 64)
          constants.emplace_back(dense.getRawData().data(),
                                 dense.getRawData().size());
  });
  return ::flash::runtime::CompileCache::key(program, entry, pipelineOptions,
                                             constants);
}
} // namespace

bool Executable::Impl::loadCached(
    const ::flash::runtime::CompileCache &cache, const std::string &key) {
  auto object = cache.load(key);
  if (!object)
    return false;
  initializeLLVMOnce();
  // The JIT links from the mapped entry, which stays for objectCode().
  auto jit = loadObject(
      llvm::MemoryBuffer::getMemBuffer(object->getMemBufferRef(),
                                       /*RequiresNullTerminator=*/false),
      entry, &packedFn);
  if (!jit) {
    // An unreadable entry is a miss: compile again and overwrite it.
    llvm::consumeError(jit.takeError());
    return false;
  }
  cachedObject = std::move(object);
  cachedJit = std::move(*jit);
  ::flash::runtime::CompileCache::recordHit();
  return true;
}

const std::string &Executable::Impl::sourceBytes() {
  std::call_once(sourceWritten, [this] {
    if (built && source.empty())
      built->write(source, /*bytecode=*/true);
  });
  return source;
}

std::unique_ptr<Executable>
Executable::fromCache(::flash::builder::GraphBuilder &builder,
                      const std::string &bufferName,
                      const CompileOptions &options, std::string &error) {
  Stopwatch clock;
  const ::flash::builder::BuiltModule *built = builder.built();
  ::flash::runtime::CompileCache cache =
      ::flash::runtime::CompileCache::fromEnvironment();
  if (!built || !cache.enabled())
    return nullptr;
  auto pipelineOptions = parsePipelineOptions(options.pipelineOptions, error);
  if (!pipelineOptions)
    return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->bufferName = bufferName;
  const mlir::flash::Target *target =
      impl->describe(*built->module, options, *pipelineOptions, error);
  // GPU programs are not cached (see compile); a miss is compile()'s to count.
  if (!target || target->isGpu() ||
      !impl->loadCached(cache, cacheKeyOf(*built->module, impl->entry,
                                          options.pipelineOptions)))
    return nullptr;
  impl->built = builder.takeModule();
  impl->times.cacheMs = clock.lap();
  impl->times.cached = true;
  return std::unique_ptr<Executable>(new Executable(std::move(impl)));
}

std::unique_ptr<Executable> Executable::compile(std::string source,
                                                const std::string &bufferName,
                                                const CompileOptions &options,
                                                std::string &error) {
  initializeLLVMOnce();
  CompileTimes times;
  Stopwatch clock;
  auto impl = std::make_unique<Impl>();
  // Kept for stageIR, and parsed where it is (a model's is ~50 MB).
  impl->source = std::move(source);
  ParsedModule parsed;
  if (!parsed.parse(impl->source, bufferName)) {
    error = parsed.diagnostics;
    return nullptr;
  }
  times.parseMs = clock.lap();
  auto pipelineOptions = parsePipelineOptions(options.pipelineOptions, error);
  if (!pipelineOptions)
    return nullptr;
  impl->bufferName = bufferName;
  const mlir::flash::Target *target =
      impl->describe(*parsed.module, options, *pipelineOptions, error);
  if (!target)
    return nullptr;

  ::flash::runtime::CompileCache cache =
      ::flash::runtime::CompileCache::fromEnvironment();
  std::string cacheKey;
  // GPU programs are not cached yet: their kernel table and device code
  // live beside the host object.
  if (cache.enabled() && !target->isGpu()) {
    cacheKey =
        cacheKeyOf(*parsed.module, impl->entry, options.pipelineOptions);
    if (impl->loadCached(cache, cacheKey)) {
      times.cacheMs = clock.lap();
      times.cached = true;
      impl->times = times;
      return std::unique_ptr<Executable>(new Executable(std::move(impl)));
    }
    ::flash::runtime::CompileCache::recordMiss();
  }
  times.cacheMs = clock.lap();

  if (!target->isGpu()) {
    if (!parsed.runPipeline(mlir::flash::buildFlashToLLVMPipeline,
                            *pipelineOptions,
                            options.timePasses ? &times.passes : nullptr)) {
      error = parsed.diagnostics;
      return nullptr;
    }
  } else {
    // Stage by stage, to read the launches off the "gpu" stage.
    for (const auto &stage : mlir::flash::getLoweringStages(target->kind)) {
      if (!parsed.runPipeline(stage.build, *pipelineOptions)) {
        error = parsed.diagnostics;
        return nullptr;
      }
      if (llvm::StringRef(stage.name) == "gpu")
        impl->launches = collectLaunches(*parsed.module);
    }
    impl->deviceBinaries = collectBinaries(*parsed.module);
  }
  times.pipelineMs = clock.lap();
  if (target->isGpu()) {
    std::string why;
    if (!target->runnable())
      why = std::string("compiled for ") + target->name + " (" +
            target->description +
            "): there is no such device in this process; its kernels, "
            "device code and launches can be inspected and exported";
    else if (!::flash::runtime::vulkan::available(why))
      why = "compiled for vulkan, but it cannot run here: " + why;
    if (!why.empty()) {
      impl->runnable = false;
      impl->notRunnable = why;
      impl->times = times;
      return std::unique_ptr<Executable>(new Executable(std::move(impl)));
    }
  }

  auto optTM = makeHostTargetMachine(error);
  auto jitTM = makeHostTargetMachine(error);
  if (!optTM || !jitTM)
    return nullptr;
  // The JIT calls the transformer lazily, at lookup: both must outlive it.
  auto remarks = std::make_shared<std::vector<std::string>>();
  auto transformer = [&](llvm::Module *m) {
    Stopwatch llvmClock;
    auto result = optimizeModule(m, optTM.get(), *pipelineOptions, remarks);
    times.llvmMs += llvmClock.lap();
    return result;
  };
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // Parallel loops (OpenMP) call into libomp; memrefCopy comes from
  // registerRuntimeSymbols, not a library loaded globally (see there).
  llvm::SmallVector<llvm::StringRef, 1> libs;
  if (hasOpenMPRuntime())
    libs.push_back(openMPRuntimePath());
  engineOptions.sharedLibPaths = libs;
  // Kept for the compile cache and for ahead-of-time export (objectCode).
  engineOptions.enableObjectDump = true;
  // MLIR turns on LLVM's perf listener by default, which writes a jit-<pid>.dump
  // of every compiled kernel under /tmp/.debug for every process (2,460 of
  // them, 390 MB, after a few days of test runs here) and makes a write error
  // there a fatal error. Opt in with FLASH_PERF_JITDUMP=1 for `perf inject -j`.
  engineOptions.enablePerfNotificationListener =
      std::getenv("FLASH_PERF_JITDUMP") != nullptr;
  auto engine =
      ExecutionEngine::create(*parsed.module, engineOptions, std::move(jitTM));
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return nullptr;
  }
  registerRuntimeSymbols(**engine);
  // Global constructors: a GPU program loads its kernel modules there.
  (*engine)->initialize();
  auto fn = (*engine)->lookupPacked(impl->entry);
  if (!fn) {
    error = "JIT lookup of '" + impl->entry +
            "' failed: " + llvm::toString(fn.takeError());
    return nullptr;
  }
  impl->packedFn = *fn;
  impl->remarks = *remarks; // codegen (regalloc) ran during the lookup
  // The engine translates to LLVM IR, runs the transformer (llvmMs) and
  // generates code: what is left of the lap after the transformer.
  times.codegenMs = std::max(0.0, clock.lap() - times.llvmMs);
  impl->engine = std::move(*engine);
  if (cache.enabled())
    if (std::string object = detail::objectCode(*impl->engine); !object.empty())
      cache.store(cacheKey, object);
  times.cacheMs += clock.lap();
  impl->times = std::move(times);
  return std::unique_ptr<Executable>(new Executable(std::move(impl)));
}

std::string Executable::objectCode() const {
  if (impl->cachedObject)
    return impl->cachedObject->getBuffer().str();
  return impl->engine ? detail::objectCode(*impl->engine) : std::string();
}

bool Executable::hasIndexInputs() const {
  return llvm::any_of(impl->inputs,
                      [](const TensorSpec &s) { return s.indexLimit > 0; });
}

bool Executable::checkIndices(void *const *inputs, std::string &error) const {
  for (auto [i, spec] : llvm::enumerate(impl->inputs)) {
    if (spec.indexLimit <= 0)
      continue;
    int64_t n = spec.numElements(), limit = spec.indexLimit;
    for (int64_t k = 0; k < n; ++k) {
      int64_t v = spec.dtype == "i64"
                      ? static_cast<const int64_t *>(inputs[i])[k]
                      : static_cast<const int32_t *>(inputs[i])[k];
      if (v < -limit || v >= limit) {
        error = "'" + impl->entry + "': input " + std::to_string(i) + " (" +
                spec.str() + ") holds the index " + std::to_string(v) +
                " at flat position " + std::to_string(k) +
                ", outside [" + std::to_string(-limit) + ", " +
                std::to_string(limit) + ") of the flash.gather it feeds";
        return false;
      }
    }
  }
  return true;
}

bool Executable::run(void *const *inputs, void *const *outputs,
                     std::string *error) const {
  if (!impl->runnable) {
    if (error)
      *error = impl->notRunnable;
    return false;
  }
  // The packed wrapper takes a pointer to every scalar of every memref
  // descriptor: allocated ptr, aligned ptr, offset, sizes..., strides...
  size_t numArgs = impl->sizes.size();
  size_t numInputs = impl->inputs.size();
  llvm::SmallVector<void *, 8> data(numArgs);
  llvm::SmallVector<void *, 64> packed;
  static int64_t zeroOffset = 0;
  for (size_t i = 0; i < numArgs; ++i) {
    data[i] = i < numInputs ? inputs[i] : outputs[i - numInputs];
    packed.push_back(&data[i]);
    packed.push_back(&data[i]);
    packed.push_back(&zeroOffset);
    for (int64_t &size : impl->sizes[i])
      packed.push_back(&size);
    for (int64_t &stride : impl->strides[i])
      packed.push_back(&stride);
  }
  std::string failure;
  if (!::flash::runtime::runCatchingOutOfMemory(impl->packedFn, packed.data(),
                                                failure)) {
    if (error)
      *error = "'" + impl->entry + "': " + failure;
    return false;
  }
  if (impl->target == "vulkan") {
    std::string failure = ::flash::runtime::vulkan::takeError();
    if (!failure.empty()) {
      if (error)
        *error = "'" + impl->entry + "' on vulkan: " + failure;
      return false;
    }
  }
  return true;
}
