//===- Executable.cpp - JIT-compiled Flash functions ----------------------===//
#include "flash/Runtime/Executable.h"
#include "flash/InitAll.h"
#include "flash/Pipelines/Pipelines.h"
#include "flash/Runtime/CompileCache.h"
#include "flash/Runtime/Ukernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/AbsoluteSymbols.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/DiagnosticHandler.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <dlfcn.h>
#include <mutex>

using namespace mlir;
using ::flash::runtime::CompileOptions;
using ::flash::runtime::Executable;
using ::flash::runtime::TensorSpec;

#ifndef FLASH_C_RUNNER_UTILS
#define FLASH_C_RUNNER_UTILS ""
#endif
#ifndef FLASH_OPENMP_RUNTIME
#define FLASH_OPENMP_RUNTIME ""
#endif

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string TensorSpec::str() const {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + dtype + ">";
}

namespace {
void initializeLLVMOnce() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    // LLVM's OpenMP runtime runs the parallel loops; it reads these when it
    // loads. Idle OpenMP workers spin 1 ms (not the default 200 ms), so they
    // do not compete with the ukernels' thread pool for the cores.
    setenv("KMP_BLOCKTIME", "1", /*overwrite=*/0);
    setenv("OMP_NUM_THREADS",
           std::to_string(::flash::runtime::getNumThreads()).c_str(), 0);
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

/// A context with every dialect the pipelines need. Threading is off: the
/// modules are small, and a thread pool per compiled op would be wasteful.
std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  mlir::flash::registerAllDialects(registry);
  auto ctx =
      std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  ctx->loadAllAvailableDialects();
  return ctx;
}

std::unique_ptr<llvm::TargetMachine> makeHostTargetMachine(std::string &error) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = llvm::toString(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = builder->createTargetMachine();
  if (!tm) {
    error = llvm::toString(tm.takeError());
    return nullptr;
  }
  return std::move(*tm);
}

/// Parses `source` with diagnostics (and pass failures later on) printed to
/// `diagnostics` as `bufferName:line:col: error: ...`.
struct ParsedModule {
  std::unique_ptr<MLIRContext> ctx;
  llvm::SourceMgr sourceMgr;
  std::string diagnostics;
  llvm::raw_string_ostream os{diagnostics};
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  OwningOpRef<ModuleOp> module;

  bool parse(const std::string &source, const std::string &bufferName) {
    ctx = makeContext();
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(source, bufferName),
        llvm::SMLoc());
    handler =
        std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, ctx.get(), os);
    module = parseSourceFile<ModuleOp>(sourceMgr, ctx.get());
    return static_cast<bool>(module);
  }

  bool runPipeline(void (*build)(OpPassManager &,
                                 const mlir::flash::PipelineOptions &),
                   const mlir::flash::PipelineOptions &options) {
    PassManager pm(ctx.get(), ModuleOp::getOperationName());
    build(pm, options);
    return succeeded(pm.run(*module));
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

bool toSpec(Type type, TensorSpec &spec) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || !tensor.getElementType().isF32())
    return false;
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  spec.dtype = "f32";
  return true;
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

/// Collects LLVM's remarks that fc.analyze reports: the vectorizers'
/// decisions with their reasons, and the register allocator's spills and
/// reloads per loop. Shared ownership: the handler stays on the module's
/// context, which the JIT keeps.
class RemarkCollector : public llvm::DiagnosticHandler {
public:
  explicit RemarkCollector(std::shared_ptr<std::vector<std::string>> out)
      : out(std::move(out)) {}
  // Passes ask this before building a remark at all.
  bool isAnyRemarkEnabled() const override { return true; }
  bool isAnalysisRemarkEnabled(llvm::StringRef pass) const override {
    return pass == "loop-vectorize";
  }
  bool isMissedOptRemarkEnabled(llvm::StringRef pass) const override {
    return pass == "loop-vectorize" || pass == "slp-vectorizer" ||
           pass == "regalloc";
  }
  bool isPassedOptRemarkEnabled(llvm::StringRef pass) const override {
    return pass == "loop-vectorize" || pass == "slp-vectorizer";
  }
  bool handleDiagnostics(const llvm::DiagnosticInfo &info) override {
    auto *remark = llvm::dyn_cast<llvm::DiagnosticInfoOptimizationBase>(&info);
    if (!remark)
      return false; // errors and warnings: LLVM's default handling
    if (!remark->isEnabled())
      return true; // a remark of a pass not asked for: dropped
    std::string text;
    llvm::raw_string_ostream os(text);
    os << remark->getPassName() << ": " << remark->getFunction().getName()
       << ": " << remark->getMsg();
    out->push_back(std::move(text));
    return true;
  }

private:
  std::shared_ptr<std::vector<std::string>> out;
};

/// LLVM -O3 for the host, shared by the JIT and the "llvm-ir" stage so that
/// what is printed is what runs. As MLIR's makeOptimizingTransformer, plus
/// the pipeline's tuning knobs: the vectorizers and unrolling (LLVM's
/// PipelineTuningOptions) and the preferred vector width (the
/// "prefer-vector-width" function attribute X86's cost model reads).
llvm::Error optimizeModule(
    llvm::Module *module, llvm::TargetMachine *tm,
    const mlir::flash::PipelineOptions &options,
    std::shared_ptr<std::vector<std::string>> remarks = nullptr) {
  if (remarks)
    module->getContext().setDiagnosticHandler(
        std::make_unique<RemarkCollector>(remarks));
  if (options.vectorWidth > 0)
    for (llvm::Function &f : *module)
      if (!f.isDeclaration())
        f.addFnAttr("prefer-vector-width",
                    std::to_string(options.vectorWidth));
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = options.vectorize;
  tuning.SLPVectorization = options.vectorize;
  tuning.LoopUnrolling = options.unroll;
  tuning.LoopInterleaving = options.interleave;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(*module, mam);
  return llvm::Error::success();
}

bool hasOpenMPRuntime() {
  static const bool exists =
      llvm::sys::fs::exists(llvm::StringRef(FLASH_OPENMP_RUNTIME));
  return exists;
}

/// Parses "key=value ..." pipeline options; null with `error` if invalid.
std::unique_ptr<mlir::flash::PipelineOptions>
parsePipelineOptions(const std::string &text, std::string &error) {
  auto options = mlir::flash::PipelineOptions::createFromString(text);
  if (!options) {
    error = "invalid pipeline options '" + text + "'";
    return nullptr;
  }
  // Without LLVM's OpenMP runtime on this machine, generated loops stay
  // sequential rather than failing to link.
  if (!hasOpenMPRuntime())
    options->parallelMinIterations = 0;
  return options;
}

/// memrefCopy (a strided memref.copy) from MLIR's C runner utils, opened
/// privately: loaded globally, as ExecutionEngine's sharedLibPaths and
/// DynamicLibrarySearchGenerator::Load would, it brings libLLVM into the
/// process's global scope, where the LLVM linked into other modules
/// (Triton's, which torch.export imports) binds to it and crashes.
void *runnerUtilsSymbol(const char *name) {
  static void *handle = dlopen(FLASH_C_RUNNER_UTILS, RTLD_NOW | RTLD_LOCAL);
  return handle ? dlsym(handle, name) : nullptr;
}

/// What the JIT's code may call besides the process and libomp: the
/// ukernels (linked into this library, which Python loads privately,
/// invisible to a process-wide symbol search) and memrefCopy.
llvm::orc::SymbolMap runtimeSymbols(
    llvm::function_ref<llvm::orc::SymbolStringPtr(llvm::StringRef)> mangle) {
  llvm::orc::SymbolMap symbols;
  for (auto &[name, address] : ::flash::runtime::ukernelSymbols())
    symbols[mangle(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                             llvm::JITSymbolFlags::Exported};
  if (void *copy = runnerUtilsSymbol("memrefCopy"))
    symbols[mangle("memrefCopy")] = {llvm::orc::ExecutorAddr::fromPtr(copy),
                                     llvm::JITSymbolFlags::Exported};
  return symbols;
}

void registerRuntimeSymbols(ExecutionEngine &engine) {
  engine.registerSymbols([](llvm::orc::MangleAndInterner interner) {
    return runtimeSymbols([&](llvm::StringRef name) { return interner(name); });
  });
}

/// Everything the compiled code may call: the process, libomp, the
/// ukernels and memrefCopy.
llvm::Error addRuntimeSymbols(llvm::orc::LLJIT &jit) {
  llvm::orc::JITDylib &dylib = jit.getMainJITDylib();
  char prefix = jit.getDataLayout().getGlobalPrefix();
  auto process =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
  if (!process)
    return process.takeError();
  dylib.addGenerator(std::move(*process));
  if (hasOpenMPRuntime()) { // no LLVM inside: safe to load globally
    auto generator = llvm::orc::DynamicLibrarySearchGenerator::Load(
        FLASH_OPENMP_RUNTIME, prefix);
    if (!generator)
      return generator.takeError();
    dylib.addGenerator(std::move(*generator));
  }
  llvm::orc::MangleAndInterner mangle(jit.getExecutionSession(),
                                      jit.getDataLayout());
  return dylib.define(llvm::orc::absoluteSymbols(
      runtimeSymbols([&](llvm::StringRef name) { return mangle(name); })));
}

/// A JIT over a cached object file: links it against the runtime and finds
/// the packed entry point that MLIR's ExecutionEngine put in it.
llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>>
loadObject(std::unique_ptr<llvm::MemoryBuffer> object, const std::string &entry,
           void (**packedFn)(void **)) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*builder))
                 .create();
  if (!jit)
    return jit.takeError();
  if (auto err = addRuntimeSymbols(**jit))
    return std::move(err);
  if (auto err = (*jit)->addObjectFile(std::move(object)))
    return std::move(err);
  auto symbol = (*jit)->lookup("_mlir_" + entry);
  if (!symbol)
    return symbol.takeError();
  if (auto err = (*jit)->initialize((*jit)->getMainJITDylib()))
    return std::move(err);
  *packedFn = symbol->toPtr<void (*)(void **)>();
  return std::move(*jit);
}

/// The object code of a compiled engine, as bytes.
std::string objectCode(ExecutionEngine &engine) {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("flash", "o", path))
    return "";
  engine.dumpToObjectFile(path);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  return buffer ? (*buffer)->getBuffer().str() : "";
}
} // namespace

struct Executable::Impl {
  std::vector<std::string> remarks;
  std::string source;
  std::unique_ptr<llvm::orc::LLJIT> cachedJit; ///< set when loaded from cache
  std::string cachedObject;                    ///< its object code
  std::string pipelineOptions;
  std::string bufferName;
  std::string entry;
  std::vector<TensorSpec> inputs, outputs;
  // Sizes and strides of every argument (inputs, then outputs), kept here so
  // the packed call can point into them.
  std::vector<std::vector<int64_t>> sizes, strides;
  std::unique_ptr<ExecutionEngine> engine;
  void (*packedFn)(void **) = nullptr;
};

Executable::Executable(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Executable::~Executable() = default;
const std::string &Executable::entry() const { return impl->entry; }
const std::vector<std::string> &Executable::remarks() const {
  return impl->remarks;
}
const std::vector<TensorSpec> &Executable::inputs() const {
  return impl->inputs;
}
const std::vector<TensorSpec> &Executable::outputs() const {
  return impl->outputs;
}

std::vector<std::string> Executable::stageNames() {
  std::vector<std::string> names = {"flash"};
  for (const auto &stage : mlir::flash::getLoweringStages())
    names.push_back(stage.name);
  names.push_back("llvm-ir");
  names.push_back("asm");
  return names;
}

std::unique_ptr<Executable> Executable::compile(const std::string &source,
                                                const std::string &bufferName,
                                                const CompileOptions &options,
                                                std::string &error) {
  initializeLLVMOnce();
  ParsedModule parsed;
  if (!parsed.parse(source, bufferName)) {
    error = parsed.diagnostics;
    return nullptr;
  }
  auto pipelineOptions = parsePipelineOptions(options.pipelineOptions, error);
  if (!pipelineOptions)
    return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->source = source;
  impl->pipelineOptions = options.pipelineOptions;
  impl->bufferName = bufferName;

  func::FuncOp func = findEntry(*parsed.module, options.entry, error);
  if (!func)
    return nullptr;
  impl->entry = func.getName().str();
  FunctionType type = func.getFunctionType();
  for (auto [types, specs] :
       {std::make_pair(type.getInputs(), &impl->inputs),
        std::make_pair(type.getResults(), &impl->outputs)})
    for (Type t : types) {
      TensorSpec spec;
      if (!toSpec(t, spec)) {
        error = "function '" + impl->entry + "': argument or result type " +
                typeString(t) + " is not a statically shaped f32 tensor";
        return nullptr;
      }
      specs->push_back(spec);
    }
  for (const auto *specs : {&impl->inputs, &impl->outputs})
    for (const TensorSpec &spec : *specs) {
      std::vector<int64_t> strides(spec.shape.size(), 1);
      for (int i = static_cast<int>(spec.shape.size()) - 2; i >= 0; --i)
        strides[i] = strides[i + 1] * spec.shape[i + 1];
      impl->sizes.push_back(spec.shape);
      impl->strides.push_back(std::move(strides));
    }

  ::flash::runtime::CompileCache cache =
      ::flash::runtime::CompileCache::fromEnvironment();
  std::string cacheKey;
  if (cache.enabled()) {
    cacheKey = ::flash::runtime::CompileCache::key(source, impl->entry,
                                                   options.pipelineOptions);
    if (auto object = cache.load(cacheKey)) {
      impl->cachedObject = object->getBuffer().str();
      initializeLLVMOnce();
      auto jit = loadObject(std::move(object), impl->entry, &impl->packedFn);
      if (jit) {
        ::flash::runtime::CompileCache::recordHit();
        impl->cachedJit = std::move(*jit);
        return std::unique_ptr<Executable>(new Executable(std::move(impl)));
      }
      // An unreadable entry is a miss: compile again and overwrite it.
      llvm::consumeError(jit.takeError());
    }
    ::flash::runtime::CompileCache::recordMiss();
  }

  if (!parsed.runPipeline(mlir::flash::buildFlashToLLVMPipeline,
                          *pipelineOptions)) {
    error = parsed.diagnostics;
    return nullptr;
  }

  auto optTM = makeHostTargetMachine(error);
  auto jitTM = makeHostTargetMachine(error);
  if (!optTM || !jitTM)
    return nullptr;
  // The JIT calls the transformer lazily, at lookup: both must outlive it.
  auto remarks = std::make_shared<std::vector<std::string>>();
  auto transformer = [&](llvm::Module *m) {
    return optimizeModule(m, optTM.get(), *pipelineOptions, remarks);
  };
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // Parallel loops (OpenMP) call into libomp; memrefCopy comes from
  // registerRuntimeSymbols, not a library loaded globally (see there).
  llvm::SmallVector<llvm::StringRef, 1> libs;
  if (hasOpenMPRuntime())
    libs.push_back(FLASH_OPENMP_RUNTIME);
  engineOptions.sharedLibPaths = libs;
  // Kept for the compile cache and for ahead-of-time export (objectCode).
  engineOptions.enableObjectDump = true;
  auto engine =
      ExecutionEngine::create(*parsed.module, engineOptions, std::move(jitTM));
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return nullptr;
  }
  registerRuntimeSymbols(**engine);
  auto fn = (*engine)->lookupPacked(impl->entry);
  if (!fn) {
    error = "JIT lookup of '" + impl->entry +
            "' failed: " + llvm::toString(fn.takeError());
    return nullptr;
  }
  impl->packedFn = *fn;
  impl->remarks = *remarks; // codegen (regalloc) ran during the lookup
  impl->engine = std::move(*engine);
  if (cache.enabled())
    if (std::string object = ::objectCode(*impl->engine); !object.empty())
      cache.store(cacheKey, object);
  return std::unique_ptr<Executable>(new Executable(std::move(impl)));
}

std::string Executable::objectCode() const {
  if (!impl->cachedObject.empty())
    return impl->cachedObject;
  return impl->engine ? ::objectCode(*impl->engine) : std::string();
}

void Executable::run(void *const *inputs, void *const *outputs) const {
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
  impl->packedFn(packed.data());
}

bool Executable::stageIR(const std::string &stage, std::string &text,
                         std::string &error) const {
  std::vector<std::string> names = stageNames();
  auto it = std::find(names.begin(), names.end(), stage);
  if (it == names.end()) {
    error = "unknown stage '" + stage + "'; stages are:";
    for (const auto &name : names)
      error += " " + name;
    return false;
  }
  initializeLLVMOnce();
  auto pipelineOptions = parsePipelineOptions(impl->pipelineOptions, error);
  if (!pipelineOptions)
    return false;
  ParsedModule parsed;
  if (!parsed.parse(impl->source, impl->bufferName)) {
    error = parsed.diagnostics;
    return false;
  }
  auto stages = mlir::flash::getLoweringStages();
  size_t mlirStages = std::min<size_t>(it - names.begin(), stages.size());
  for (size_t i = 0; i < mlirStages; ++i)
    if (!parsed.runPipeline(stages[i].build, *pipelineOptions)) {
      error = parsed.diagnostics;
      return false;
    }
  llvm::raw_string_ostream os(text);
  if (static_cast<size_t>(it - names.begin()) <= stages.size()) {
    parsed.module->print(os);
    return true;
  }

  // LLVM IR (optimized as the JIT does) or host assembly.
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateModuleToLLVMIR(*parsed.module, llvmContext);
  if (!llvmModule) {
    error = "translation to LLVM IR failed\n" + parsed.diagnostics;
    return false;
  }
  auto tm = makeHostTargetMachine(error);
  if (!tm)
    return false;
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple());
  if (auto err = optimizeModule(llvmModule.get(), tm.get(), *pipelineOptions)) {
    error = llvm::toString(std::move(err));
    return false;
  }
  if (stage == "llvm-ir") {
    llvmModule->print(os, nullptr);
    return true;
  }
  llvm::SmallString<0> assembly;
  llvm::raw_svector_ostream asmStream(assembly);
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, asmStream, nullptr,
                              llvm::CodeGenFileType::AssemblyFile)) {
    error = "the host target cannot emit assembly";
    return false;
  }
  codegen.run(*llvmModule);
  os << assembly;
  return true;
}
