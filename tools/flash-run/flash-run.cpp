//===- flash-run.cpp - JIT-run a function of a Flash .mlir file -----------===//
//
//   flash-run model.mlir --input a.npy --input b.npy --output-dir out/
//   flash-run model.mlir                       (random inputs)
//   flash-run model.mlir --emit=asm            (print a stage's IR and exit)
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Executable.h"
#include "flash/Runtime/Npy.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <random>

using namespace llvm;
using namespace flash::runtime;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required);
static cl::opt<std::string> entry("entry",
                                  cl::desc("Function to run (default: the "
                                           "module's only public function)"));
static cl::list<std::string>
    inputs("input", cl::desc("An input .npy file, once per argument in order "
                             "(none: random inputs of the declared shapes)"));
static cl::opt<std::string> outputDir("output-dir",
                                      cl::desc("Where to write out<i>.npy"),
                                      cl::init("."));
static cl::opt<unsigned>
    repeat("repeat", cl::desc("Timed calls after one warm-up"), cl::init(10));
static cl::opt<unsigned> seed("seed", cl::desc("Seed for random inputs"),
                              cl::init(0));
static cl::opt<std::string>
    pipelineOptions("options", cl::desc("Pipeline options, as for "
                                        "flash-opt --flash-to-llvm=\"...\" "
                                        "(e.g. ukernels=false)"));
static cl::opt<std::string>
    emit("emit", cl::desc("Print the IR after this stage and exit (flash, "
                          "linalg, bufferized, loops, llvm, llvm-ir, asm)"));

static int fail(const std::string &message) {
  errs() << "flash-run: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::AddExtraVersionPrinter(
      [](raw_ostream &os) { os << "FlashCompile " FLASH_VERSION "\n"; });
  cl::ParseCommandLineOptions(argc, argv, "FlashCompile JIT runner\n");

  auto buffer = MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buffer)
    return fail("cannot read '" + inputFile +
                "': " + buffer.getError().message());
  std::string error;
  CompileOptions options;
  options.entry = entry;
  options.pipelineOptions = pipelineOptions;
  auto exe = Executable::compile((*buffer)->getBuffer().str(), inputFile,
                                 options, error);
  if (!exe)
    return fail("compilation failed:\n" + error);

  if (!emit.empty()) {
    std::string text;
    if (!exe->stageIR(emit, text, error))
      return fail(error);
    outs() << text;
    return 0;
  }

  const auto &specs = exe->inputs();
  std::vector<NpyArray> args(specs.size());
  if (!inputs.empty() && inputs.size() != specs.size())
    return fail("'" + exe->entry() + "' takes " + std::to_string(specs.size()) +
                " inputs but " + std::to_string(inputs.size()) +
                " --input files were given");
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (inputs.empty()) {
      // Random floats in [-1, 1); random indices in range (0 if unused).
      args[i].shape = specs[i].shape;
      args[i].dtype = specs[i].dtype;
      std::uniform_int_distribution<int64_t> index(
          0, std::max<int64_t>(specs[i].indexLimit, 1) - 1);
      if (specs[i].dtype == "f32") {
        args[i].data.resize(specs[i].numElements());
        for (float &x : args[i].data)
          x = uniform(rng);
      } else if (specs[i].dtype == "i64") {
        args[i].i64.resize(specs[i].numElements());
        for (int64_t &x : args[i].i64)
          x = index(rng);
      } else {
        args[i].i32.resize(specs[i].numElements());
        for (int32_t &x : args[i].i32)
          x = static_cast<int32_t>(index(rng));
      }
      continue;
    }
    if (!readNpy(inputs[i], args[i], error))
      return fail(error);
    if (args[i].shape != specs[i].shape ||
        args[i].dtype != specs[i].dtype) {
      TensorSpec got{args[i].shape, args[i].dtype};
      return fail(inputs[i] + ": " + got.str() +
                  " does not match input " + std::to_string(i) + " of '" +
                  exe->entry() + "', " + specs[i].str());
    }
  }
  std::vector<NpyArray> results(exe->outputs().size());
  std::vector<void *> inPtrs, outPtrs;
  for (auto &a : args)
    inPtrs.push_back(a.buffer());
  if (!exe->checkIndices(inPtrs.data(), error))
    return fail(error);
  for (size_t i = 0; i < results.size(); ++i) {
    results[i].shape = exe->outputs()[i].shape;
    results[i].data.resize(exe->outputs()[i].numElements());
    outPtrs.push_back(results[i].data.data());
  }

  if (!exe->run(inPtrs.data(), outPtrs.data(), &error)) // warm-up
    return fail(error);
  std::vector<double> times;
  for (unsigned r = 0; r < repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    if (!exe->run(inPtrs.data(), outPtrs.data(), &error))
      return fail(error);
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    outs() << "time per call: " << format("%.4f", times[times.size() / 2])
           << " ms (median of " << times.size() << ")\n";
  }

  if (auto ec = sys::fs::create_directories(outputDir))
    return fail("cannot create '" + outputDir + "': " + ec.message());
  for (size_t i = 0; i < results.size(); ++i) {
    SmallString<128> path(outputDir);
    sys::path::append(path, "out" + std::to_string(i) + ".npy");
    if (!writeNpy(path.str().str(), results[i], error))
      return fail(error);
    outs() << "wrote " << path << " " << exe->outputs()[i].str() << "\n";
  }
  return 0;
}
