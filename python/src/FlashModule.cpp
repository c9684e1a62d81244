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

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

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

/// The fast call path: aligned, native-endian, C-contiguous float32 NumPy
/// arrays in, fresh NumPy arrays out, in one native call through NumPy's C
/// API (a nanobind ndarray round trip costs about a microsecond more). Raises
/// TypeError for anything else (the Python layer then converts or reports),
/// ValueError for wrong shapes.
nb::object call(const Executable &exe, nb::args args) {
  const auto &ins = exe.inputs();
  if (args.size() != ins.size())
    throw nb::type_error("wrong number of arguments");
  void *in[16];
  std::vector<void *> inVector;
  void **inPtrs = in;
  if (ins.size() > 16) {
    inVector.resize(ins.size());
    inPtrs = inVector.data();
  }
  int64_t work = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    PyObject *object = args[i].ptr();
    if (!PyArray_Check(object))
      throw nb::type_error("not a NumPy array");
    auto *array = reinterpret_cast<PyArrayObject *>(object);
    if (PyArray_TYPE(array) != NPY_FLOAT32 || !PyArray_IS_C_CONTIGUOUS(array) ||
        !PyArray_ISALIGNED(array) || !PyArray_ISNOTSWAPPED(array))
      throw nb::type_error("not an aligned C-contiguous float32 array");
    const std::vector<int64_t> &shape = ins[i].shape;
    bool same = PyArray_NDIM(array) == static_cast<int>(shape.size());
    for (size_t d = 0; same && d < shape.size(); ++d)
      same = PyArray_DIM(array, d) == shape[d];
    if (!same) {
      std::vector<int64_t> got(PyArray_DIMS(array),
                               PyArray_DIMS(array) + PyArray_NDIM(array));
      throw nb::value_error(
          ("'" + exe.entry() + "': input " + std::to_string(i) + " has shape " +
           TensorSpec{got, "f32"}.str() + ", expected " + ins[i].str())
              .c_str());
    }
    inPtrs[i] = PyArray_DATA(array);
    work += ins[i].numElements();
  }
  const auto &outs = exe.outputs();
  std::vector<nb::object> results;
  std::vector<void *> out;
  for (const TensorSpec &spec : outs) {
    std::vector<npy_intp> dims(spec.shape.begin(), spec.shape.end());
    PyObject *array = PyArray_SimpleNew(static_cast<int>(dims.size()),
                                        dims.data(), NPY_FLOAT32);
    if (!array)
      throw nb::python_error();
    results.push_back(nb::steal(array));
    out.push_back(PyArray_DATA(reinterpret_cast<PyArrayObject *>(array)));
    work += spec.numElements();
  }
  // Releasing the GIL costs about 0.1 us: worth it unless the call is tiny.
  if (work >= (1 << 14)) {
    nb::gil_scoped_release release;
    exe.run(inPtrs, out.data());
  } else {
    exe.run(inPtrs, out.data());
  }
  if (results.size() == 1)
    return results[0];
  nb::list list;
  for (auto &r : results)
    list.append(r);
  return nb::tuple(list);
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
  if (_import_array() < 0)
    throw nb::python_error();

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
      .def("__call__", &call,
           "Run on C-contiguous float32 arrays; returns new arrays.")
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
