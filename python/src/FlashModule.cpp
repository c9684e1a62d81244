//===- FlashModule.cpp - The _flashcompile native module ------------------===//
//
// A thin nanobind layer over the runtime (Executable) and the graph builder:
// errors become ValueError, buffers are passed without copies, and the GIL
// is released while compiled code runs.
//
//===----------------------------------------------------------------------===//
#include "flash/Builder/GraphBuilder.h"
#include "flash/Runtime/Executable.h"
#include "flash/Runtime/Ukernels.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace nb::literals;
using flash::builder::AttrValue;
using flash::builder::GraphBuilder;
using flash::builder::SourceLocation;
using flash::runtime::Executable;
using flash::runtime::TensorSpec;

using F32Array = nb::ndarray<float, nb::c_contig, nb::device::cpu>;

namespace {
nb::list specsToList(const std::vector<TensorSpec> &specs) {
  nb::list out;
  for (const TensorSpec &s : specs) {
    nb::list shape;
    for (int64_t d : s.shape)
      shape.append(d);
    out.append(nb::make_tuple(nb::tuple(shape), s.dtype));
  }
  return out;
}

std::unique_ptr<Executable> compile(const std::string &source,
                                    const std::string &entry,
                                    const std::string &name,
                                    const std::string &pipelineOptions) {
  std::string error;
  flash::runtime::CompileOptions options;
  options.entry = entry;
  options.pipelineOptions = pipelineOptions;
  std::unique_ptr<Executable> exe;
  {
    nb::gil_scoped_release release;
    exe = Executable::compile(source, name, options, error);
  }
  if (!exe)
    throw nb::value_error(error.c_str());
  return exe;
}

void checkBuffers(const Executable &exe, const std::vector<F32Array> &arrays,
                  const std::vector<TensorSpec> &specs, const char *what) {
  if (arrays.size() != specs.size())
    throw nb::value_error(("'" + exe.entry() + "' takes " +
                           std::to_string(specs.size()) + " " + what +
                           ", got " + std::to_string(arrays.size()))
                              .c_str());
  for (size_t i = 0; i < arrays.size(); ++i) {
    std::vector<int64_t> shape(arrays[i].shape_ptr(),
                               arrays[i].shape_ptr() + arrays[i].ndim());
    if (shape != specs[i].shape)
      throw nb::value_error(("'" + exe.entry() + "': " + what + " " +
                             std::to_string(i) + " has shape " +
                             TensorSpec{shape, "f32"}.str() + ", expected " +
                             specs[i].str())
                                .c_str());
  }
}

void run(const Executable &exe, const std::vector<F32Array> &inputs,
         const std::vector<F32Array> &outputs) {
  checkBuffers(exe, inputs, exe.inputs(), "inputs");
  checkBuffers(exe, outputs, exe.outputs(), "outputs");
  std::vector<void *> in, out;
  for (const auto &a : inputs)
    in.push_back(a.data());
  for (const auto &a : outputs)
    out.push_back(a.data());
  nb::gil_scoped_release release;
  exe.run(in.data(), out.data());
}

AttrValue toAttrValue(nb::handle value) {
  AttrValue attr;
  if (nb::isinstance<nb::bool_>(value))
    throw nb::type_error("boolean attributes are not supported");
  if (nb::isinstance<nb::int_>(value)) {
    attr.kind = AttrValue::Kind::Int;
    attr.i = nb::cast<int64_t>(value);
  } else if (nb::isinstance<nb::float_>(value)) {
    attr.kind = AttrValue::Kind::Float;
    attr.f = nb::cast<double>(value);
  } else {
    attr.kind = AttrValue::Kind::IntArray;
    attr.ints = nb::cast<std::vector<int64_t>>(value);
  }
  return attr;
}
} // namespace

NB_MODULE(_flashcompile, m) {
  m.doc() = "FlashCompile native module: compile and run Flash IR.";

  nb::class_<Executable>(m, "Executable")
      .def_prop_ro("entry", &Executable::entry)
      .def_prop_ro("inputs",
                   [](const Executable &e) { return specsToList(e.inputs()); })
      .def_prop_ro("outputs",
                   [](const Executable &e) { return specsToList(e.outputs()); })
      .def_static("stage_names", &Executable::stageNames)
      .def(
          "ir",
          [](const Executable &e, const std::string &stage) {
            std::string text, error;
            bool ok;
            {
              nb::gil_scoped_release release;
              ok = e.stageIR(stage, text, error);
            }
            if (!ok)
              throw nb::value_error(error.c_str());
            return text;
          },
          "stage"_a, "The IR after `stage` (see stage_names()).")
      .def("run", &run, "inputs"_a, "outputs"_a,
           "Run on C-contiguous float32 arrays of the declared shapes.");

  m.def("compile", &compile, "source"_a, "entry"_a = "",
        "name"_a = "<flash-source>", "options"_a = "",
        "Parse, verify and JIT-compile Flash IR text.");

  m.def("set_num_threads", &flash::runtime::setNumThreads, "threads"_a,
        "Threads used by compiled code (default: all hardware threads).");
  m.def("get_num_threads", &flash::runtime::getNumThreads);

  nb::class_<GraphBuilder>(m, "GraphBuilder")
      .def(nb::init<>())
      .def("add_input", &GraphBuilder::addInput, "shape"_a)
      .def(
          "add_constant",
          [](GraphBuilder &b, F32Array array, const std::string &file,
             unsigned line) {
            std::vector<int64_t> shape(array.shape_ptr(),
                                       array.shape_ptr() + array.ndim());
            return b.addConstant(array.data(), shape, {file, line});
          },
          "array"_a, "file"_a = "", "line"_a = 0)
      .def(
          "add_op",
          [](GraphBuilder &b, const std::string &name,
             const std::vector<int> &operands, nb::dict attrs,
             const std::string &file, unsigned line) {
            std::vector<std::pair<std::string, AttrValue>> converted;
            for (auto [key, value] : attrs)
              converted.emplace_back(nb::cast<std::string>(key),
                                     toAttrValue(value));
            std::string error;
            int handle =
                b.addOp(name, operands, converted, {file, line}, error);
            if (handle < 0)
              throw nb::value_error(error.c_str());
            return handle;
          },
          "name"_a, "operands"_a, "attrs"_a, "file"_a = "", "line"_a = 0)
      .def("shape", &GraphBuilder::shape, "value"_a)
      .def(
          "finish",
          [](GraphBuilder &b, const std::string &name,
             const std::vector<int> &results) {
            std::string text, error;
            if (!b.finish(name, results, text, error))
              throw nb::value_error(error.c_str());
            return text;
          },
          "name"_a, "results"_a);
}
