//===- FuzzGraphBuilder.cpp - libFuzzer: the graph builder's API ----------===//
//
// An input is a program for the builder (the API Python's tracing calls):
// up to four inputs of small random shapes, then up to sixteen ops, each a
// name from the op list, operands picked among the values so far and up to
// three attributes from the names the ops use, with random values. Every
// call must return a handle or an error; a finished function's text runs
// through the --flash-to-llvm pipeline. Bounded: dims 1..8, rank <= 4.
//
//===----------------------------------------------------------------------===//
#include "flash/Builder/GraphBuilder.h"
#include "flash/InitAll.h"
#include "flash/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <string>
#include <vector>

using flash::builder::AttrValue;
using flash::builder::GraphBuilder;

namespace {
const char *const kOps[] = {
    "flash.matmul", "flash.add", "flash.relu", "flash.conv2d", "flash.sub",
    "flash.mul", "flash.div", "flash.pow", "flash.max", "flash.equal",
    "flash.not_equal", "flash.less", "flash.less_equal", "flash.select",
    "flash.exp", "flash.tanh", "flash.sigmoid", "flash.gelu", "flash.erf",
    "flash.sqrt", "flash.neg", "flash.bias_add", "flash.batch_matmul",
    "flash.transpose", "flash.reshape", "flash.flatten", "flash.concat",
    "flash.slice", "flash.gather", "flash.cast", "flash.reduce_sum",
    "flash.reduce_mean", "flash.reduce_max", "flash.softmax",
    "flash.layer_norm", "flash.batch_norm", "flash.attention",
    "flash.max_pool2d", "flash.avg_pool2d", "flash.bogus"};
struct AttrSpec {
  const char *name;
  AttrValue::Kind kind;
};
const AttrSpec kAttrs[] = {
    {"axis", AttrValue::Kind::Int},           {"axes", AttrValue::Kind::IntArray},
    {"keepdims", AttrValue::Kind::Bool},      {"permutation", AttrValue::Kind::IntArray},
    {"shape", AttrValue::Kind::IntArray},     {"stride", AttrValue::Kind::IntArray},
    {"padding", AttrValue::Kind::IntArray},   {"dilation", AttrValue::Kind::IntArray},
    {"groups", AttrValue::Kind::Int},         {"kernel", AttrValue::Kind::IntArray},
    {"starts", AttrValue::Kind::IntArray},    {"sizes", AttrValue::Kind::IntArray},
    {"steps", AttrValue::Kind::IntArray},     {"epsilon", AttrValue::Kind::Float},
    {"causal", AttrValue::Kind::Bool},        {"scale", AttrValue::Kind::Float},
    {"count_include_pad", AttrValue::Kind::Bool}};

void runPipeline(const std::string &text) {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry;
    mlir::flash::registerAllDialects(*r);
    return r;
  }();
  mlir::MLIRContext context(*registry, mlir::MLIRContext::Threading::DISABLED);
  std::string diagnostics;
  context.getDiagEngine().registerHandler([&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module) { // the builder printed a module that does not parse
    std::fprintf(stderr, "%s\n%s", text.c_str(), diagnostics.c_str());
    __builtin_trap();
  }
  mlir::PassManager pm(&context);
  mlir::flash::buildFlashToLLVMPipeline(pm, mlir::flash::PipelineOptions());
  (void)pm.run(*module);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  GraphBuilder builder;
  std::vector<int> values;
  int inputs = in.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < inputs; ++i) {
    std::vector<int64_t> shape(in.ConsumeIntegralInRange(0, 4));
    for (int64_t &d : shape)
      d = in.ConsumeIntegralInRange(1, 8);
    const char *dtype = in.ConsumeIntegralInRange(0, 7) == 0 ? "i64" : "f32";
    values.push_back(builder.addInput(shape, dtype));
  }
  int ops = in.ConsumeIntegralInRange(1, 16);
  for (int k = 0; k < ops && in.remaining_bytes(); ++k) {
    std::string name = in.PickValueInArray(kOps);
    std::vector<int> operands(in.ConsumeIntegralInRange(0, 5));
    for (int &o : operands)
      o = values[in.ConsumeIntegralInRange<size_t>(0, values.size() - 1)];
    std::vector<std::pair<std::string, AttrValue>> attrs;
    int count = in.ConsumeIntegralInRange(0, 3);
    for (int a = 0; a < count; ++a) {
      const AttrSpec &spec = in.PickValueInArray(kAttrs);
      AttrValue value;
      value.kind = spec.kind;
      value.i = in.ConsumeIntegralInRange<int64_t>(-2, 9);
      value.f = in.ConsumeFloatingPointInRange(-2.0, 2.0);
      value.ints.resize(in.ConsumeIntegralInRange(0, 4));
      for (int64_t &v : value.ints)
        v = in.ConsumeIntegralInRange<int64_t>(-2, 9);
      attrs.emplace_back(spec.name, value);
    }
    std::string error;
    int handle = builder.addOp(name, operands, attrs, {"fuzz", 1}, error);
    if (handle >= 0)
      values.push_back(handle);
    else if (error.empty())
      __builtin_trap(); // a refusal must say why
  }
  std::string text, error;
  if (builder.finish("f", {values.back()}, text, error))
    runPipeline(text);
  return 0;
}
