//===- FlashModule.cpp - The _flashcompile native module ------------------===//
//
// A thin nanobind layer over the runtime (Executable) and the graph builder:
// errors become ValueError, buffers are passed without copies, and the GIL
// is released while compiled code runs.
//
//===----------------------------------------------------------------------===//
#include "flash/Builder/BuiltModule.h"
#include "flash/Builder/GraphBuilder.h"
#include "flash/Analysis/GraphCostText.h"
#include "flash/Pipelines/Defaults.h"
#include "flash/Runtime/CompileCache.h"
#include "flash/Runtime/Executable.h"
#include "flash/Runtime/Ukernels.h"
#include "flash/Runtime/Vulkan.h"
#include "flash/Pipelines/Targets.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <map>
#include <unordered_map>

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
using I64Array = nb::ndarray<int64_t, nb::c_contig, nb::device::cpu>;
// Read only (a constant is copied into the module): accepts read-only
// arrays, such as onnx.numpy_helper's, without a copy of their own.
using ConstF32Array = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using ConstI64Array = nb::ndarray<const int64_t, nb::c_contig, nb::device::cpu>;
using AnyArray = nb::ndarray<nb::c_contig, nb::device::cpu>;

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

std::unique_ptr<Executable> compile(std::string source,
                                    const std::string &entry,
                                    const std::string &name,
                                    const std::string &pipelineOptions,
                                    bool timePasses) {
  std::string error;
  flash::runtime::CompileOptions options;
  options.entry = entry;
  options.pipelineOptions = pipelineOptions;
  options.timePasses = timePasses;
  std::unique_ptr<Executable> exe;
  {
    nb::gil_scoped_release release;
    exe = Executable::compile(std::move(source), name, options, error);
  }
  if (!exe)
    throw nb::value_error(error.c_str());
  return exe;
}

/// The NumPy type number of a TensorSpec's dtype.
int numpyType(const TensorSpec &spec) {
  if (spec.dtype == "i64")
    return NPY_INT64;
  if (spec.dtype == "i32")
    return NPY_INT32;
  return NPY_FLOAT32;
}

nb::dlpack::dtype dlpackType(const TensorSpec &spec) {
  if (spec.dtype == "i64")
    return nb::dtype<int64_t>();
  if (spec.dtype == "i32")
    return nb::dtype<int32_t>();
  return nb::dtype<float>();
}

void checkBuffers(const Executable &exe, const std::vector<AnyArray> &arrays,
                  const std::vector<TensorSpec> &specs, const char *what) {
  if (arrays.size() != specs.size())
    throw nb::value_error(("'" + exe.entry() + "' takes " +
                           std::to_string(specs.size()) + " " + what +
                           ", got " + std::to_string(arrays.size()))
                              .c_str());
  for (size_t i = 0; i < arrays.size(); ++i) {
    std::vector<int64_t> shape(arrays[i].shape_ptr(),
                               arrays[i].shape_ptr() + arrays[i].ndim());
    if (arrays[i].dtype() != dlpackType(specs[i]))
      throw nb::type_error(("'" + exe.entry() + "': " + what + " " +
                            std::to_string(i) + " has the wrong dtype, expected " +
                            specs[i].str())
                               .c_str());
    if (shape != specs[i].shape)
      throw nb::value_error(("'" + exe.entry() + "': " + what + " " +
                             std::to_string(i) + " has shape " +
                             TensorSpec{shape, specs[i].dtype}.str() +
                             ", expected " + specs[i].str())
                                .c_str());
  }
}

/// Rejects out-of-range indices in integer inputs (ValueError) before a
/// call.
void checkIndices(const Executable &exe, void *const *inputs) {
  if (!exe.hasIndexInputs())
    return;
  std::string error;
  if (!exe.checkIndices(inputs, error))
    throw nb::value_error(error.c_str());
}

/// A run that did not happen: ValueError when the target does not run
/// here, MemoryError when the code ran out of memory, RuntimeError when the
/// device failed.
[[noreturn]] void throwRunError(const Executable &exe,
                                const std::string &error) {
  if (!exe.runnable())
    throw nb::value_error(error.c_str());
  if (error.find("out of memory") != std::string::npos) { // Executable::run
    PyErr_SetString(PyExc_MemoryError, error.c_str());
    throw nb::python_error();
  }
  throw std::runtime_error(error);
}

void run(const Executable &exe, const std::vector<AnyArray> &inputs,
         const std::vector<AnyArray> &outputs) {
  checkBuffers(exe, inputs, exe.inputs(), "inputs");
  checkBuffers(exe, outputs, exe.outputs(), "outputs");
  std::vector<void *> in, out;
  for (const auto &a : inputs)
    in.push_back(a.data());
  for (const auto &a : outputs)
    out.push_back(a.data());
  checkIndices(exe, in.data());
  std::string error;
  bool ok;
  {
    nb::gil_scoped_release release;
    ok = exe.run(in.data(), out.data(), &error);
  }
  if (!ok)
    throwRunError(exe, error);
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
    if (PyArray_TYPE(array) != numpyType(ins[i]) ||
        !PyArray_IS_C_CONTIGUOUS(array) || !PyArray_ISALIGNED(array) ||
        !PyArray_ISNOTSWAPPED(array))
      throw nb::type_error("not an aligned C-contiguous array of the input's dtype");
    const std::vector<int64_t> &shape = ins[i].shape;
    bool same = PyArray_NDIM(array) == static_cast<int>(shape.size());
    for (size_t d = 0; same && d < shape.size(); ++d)
      same = PyArray_DIM(array, d) == shape[d];
    if (!same) {
      std::vector<int64_t> got(PyArray_DIMS(array),
                               PyArray_DIMS(array) + PyArray_NDIM(array));
      throw nb::value_error(
          ("'" + exe.entry() + "': input " + std::to_string(i) + " has shape " +
           TensorSpec{got, ins[i].dtype}.str() + ", expected " + ins[i].str())
              .c_str());
    }
    inPtrs[i] = PyArray_DATA(array);
    work += ins[i].numElements();
  }
  checkIndices(exe, inPtrs);
  const auto &outs = exe.outputs();
  // No heap allocation on this path for the common case of up to 16
  // arguments and results of rank up to 16.
  void *out[16];
  nb::object results[16];
  std::vector<void *> outVector;
  std::vector<nb::object> resultVector;
  void **outPtrs = out;
  nb::object *resultObjects = results;
  if (outs.size() > 16) {
    outVector.resize(outs.size());
    resultVector.resize(outs.size());
    outPtrs = outVector.data();
    resultObjects = resultVector.data();
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    const TensorSpec &spec = outs[i];
    npy_intp dims[16];
    std::vector<npy_intp> dimVector;
    npy_intp *dimPtr = dims;
    if (spec.shape.size() > 16) {
      dimVector.assign(spec.shape.begin(), spec.shape.end());
      dimPtr = dimVector.data();
    } else {
      std::copy(spec.shape.begin(), spec.shape.end(), dims);
    }
    PyObject *array = PyArray_SimpleNew(static_cast<int>(spec.shape.size()),
                                        dimPtr, NPY_FLOAT32);
    if (!array)
      throw nb::python_error();
    resultObjects[i] = nb::steal(array);
    outPtrs[i] = PyArray_DATA(reinterpret_cast<PyArrayObject *>(array));
    work += spec.numElements();
  }
  // Releasing the GIL costs about 0.1 us: worth it unless the call is tiny.
  std::string error;
  bool ok;
  if (work >= (1 << 14)) {
    nb::gil_scoped_release release;
    ok = exe.run(inPtrs, outPtrs, &error);
  } else {
    ok = exe.run(inPtrs, outPtrs, &error);
  }
  if (!ok)
    throwRunError(exe, error);
  if (outs.size() == 1)
    return std::move(resultObjects[0]);
  nb::list list;
  for (size_t i = 0; i < outs.size(); ++i)
    list.append(resultObjects[i]);
  return nb::tuple(list);
}

/// An eager op (fc.add, fc.matmul, ...) as a native callable: a cached call
/// is a shape lookup in C++ and the fast call above, with no Python frame.
/// Anything it cannot serve (first call with these shapes, scalars, other
/// dtypes, non-contiguous arrays) goes to the Python `fallback`, which
/// compiles, converts or reports, and registers new executables here; it is
/// called as fallback(dispatcher, *args, **kwargs).
class Dispatcher {
public:
  Dispatcher(std::string op, std::string name, std::string doc,
             nb::object fallback)
      : op(std::move(op)), name(std::move(name)), doc(std::move(doc)),
        fallback(std::move(fallback)) {}

  nb::object operator()(nb::args args, nb::kwargs kwargs) {
    if (kwargs.size() == 0) {
      std::vector<int64_t> key;
      if (shapeKey(args, key)) {
        auto it = cache.find(key);
        if (it != cache.end()) {
          ++hits;
          return call(*it->second.first, args);
        }
      }
    }
    // The dispatcher is passed, not captured by the fallback: a closure
    // over it would be a reference cycle through C++ that Python's
    // collector cannot see.
    if (!fallback.is_valid())
      throw nb::type_error("this op has been cleared");
    return fallback(nb::find(this), *args, **kwargs);
  }

  /// Serve calls on arrays of `shapes` with `executable` (a Python-owned
  /// Executable, kept alive here).
  void add(const std::vector<std::vector<int64_t>> &shapes,
           nb::object executable) {
    std::vector<int64_t> key;
    for (const auto &shape : shapes) {
      key.push_back(static_cast<int64_t>(shape.size()));
      key.insert(key.end(), shape.begin(), shape.end());
    }
    Executable *exe = nb::cast<Executable *>(executable);
    cache[key] = {exe, std::move(executable)};
  }

  void clear() {
    cache.clear();
    hits = 0;
  }

  /// Python's cycle collector sees the references held here through these.
  static int traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    if (!nb::inst_ready(self))
      return 0;
    Dispatcher *d = nb::inst_ptr<Dispatcher>(self);
    Py_VISIT(d->fallback.ptr());
    for (auto &entry : d->cache)
      Py_VISIT(entry.second.second.ptr());
    return 0;
  }
  static int clearReferences(PyObject *self) {
    Dispatcher *d = nb::inst_ptr<Dispatcher>(self);
    d->cache.clear();
    d->fallback = nb::object();
    return 0;
  }

  std::string op, name, doc;
  int64_t hits = 0;

private:
  /// (rank, dims...) of every argument, if all are aligned C-contiguous
  /// float32 NumPy arrays.
  static bool shapeKey(nb::args args, std::vector<int64_t> &key) {
    for (nb::handle h : args) {
      PyObject *object = h.ptr();
      if (!PyArray_Check(object))
        return false;
      auto *array = reinterpret_cast<PyArrayObject *>(object);
      // Exactly what `call` takes, so a hit never raises TypeError.
      if (PyArray_TYPE(array) != NPY_FLOAT32 ||
          !PyArray_IS_C_CONTIGUOUS(array) || !PyArray_ISALIGNED(array) ||
          !PyArray_ISNOTSWAPPED(array))
        return false;
      key.push_back(PyArray_NDIM(array));
      key.insert(key.end(), PyArray_DIMS(array),
                 PyArray_DIMS(array) + PyArray_NDIM(array));
    }
    return true;
  }

  struct KeyHash {
    size_t operator()(const std::vector<int64_t> &key) const {
      size_t h = 1469598103934665603ull;
      for (int64_t v : key)
        h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
      return h;
    }
  };
  nb::object fallback;
  std::unordered_map<std::vector<int64_t>, std::pair<Executable *, nb::object>,
                     KeyHash>
      cache;
};

AttrValue toAttrValue(nb::handle value) {
  AttrValue attr;
  if (nb::isinstance<nb::bool_>(value)) {
    attr.kind = AttrValue::Kind::Bool;
    attr.i = nb::cast<bool>(value);
  } else if (nb::isinstance<nb::int_>(value)) {
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
  // The eager ops (fc.add, ...) are module-level Dispatcher objects that live
  // until the interpreter exits, and Python may free this module before the
  // package that holds them: that is by design, not a leak worth a warning.
  // (Compiled code itself is released at exit by an atexit hook.)
  nb::set_leak_warnings(false);

  nb::class_<Executable>(m, "Executable")
      .def_prop_ro("entry", &Executable::entry)
      .def_prop_ro("inputs",
                   [](const Executable &e) { return specsToList(e.inputs()); })
      .def_prop_ro("outputs",
                   [](const Executable &e) { return specsToList(e.outputs()); })
      .def_static(
          "stage_names",
          [](const std::string &target) {
            return Executable::stageNames(target);
          },
          "target"_a = "host")
      .def_prop_ro("target", &Executable::target)
      .def_prop_ro("runnable", &Executable::runnable)
      .def_prop_ro(
          "launches",
          [](const Executable &e) {
            nb::list out;
            for (const auto &l : e.launches()) {
              nb::dict d;
              d["module"] = l.module;
              d["kernel"] = l.kernel;
              d["grid"] = nb::make_tuple(l.grid[0], l.grid[1], l.grid[2]);
              d["block"] = nb::make_tuple(l.block[0], l.block[1], l.block[2]);
              d["buffers"] = l.numBuffers;
              d["flops"] = l.flops;
              d["bytes"] = l.bytes;
              d["issued_flops"] = l.issuedFlops;
              out.append(d);
            }
            return out;
          },
          "GPU targets: every kernel launch in program order.")
      .def_prop_ro(
          "device_binaries",
          [](const Executable &e) {
            nb::list out;
            for (const auto &b : e.deviceBinaries())
              out.append(nb::make_tuple(b.module, b.format,
                                        nb::bytes(b.data.data(), b.data.size())));
            return out;
          },
          "GPU targets: (module, format, bytes) of each kernel module.")
      .def(
          "remarks",
          [](const Executable &e) { return e.remarks(); },
          "LLVM's vectorizer and register-allocator remarks from compiling it.")
      .def(
          "compile_times",
          [](const Executable &e) {
            const flash::runtime::CompileTimes &t = e.compileTimes();
            nb::dict d;
            d["parse"] = t.parseMs;
            d["cache"] = t.cacheMs;
            d["pipeline"] = t.pipelineMs;
            d["llvm"] = t.llvmMs;
            d["codegen"] = t.codegenMs;
            d["cached"] = t.cached;
            d["passes"] = t.passes;
            return d;
          },
          "Where compiling it spent its time (ms per phase; `passes`: MLIR's "
          "per-pass report when compiled with time_passes=True).")
      .def(
          "source_bytes",
          [](const Executable &e) {
            const std::string &source = e.source();
            return nb::bytes(source.data(), source.size());
          },
          "The source as given (text or MLIR bytecode; a module served by "
          "compile_cached is written as bytecode now).")
      .def("object_code",
           [](const Executable &e) {
             std::string object = e.objectCode();
             return nb::bytes(object.data(), object.size());
           })
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
           "Run on C-contiguous arrays of the inputs' dtypes (float32; int64 or "
           "int32 indices); returns new float32 arrays.")
      .def("run", &run, "inputs"_a, "outputs"_a,
           "Run on C-contiguous arrays of the declared shapes and dtypes.");

  m.def("compile", &compile, "source"_a, "entry"_a = "",
        "name"_a = "<flash-source>", "options"_a = "", "time_passes"_a = false,
        "Parse, verify and JIT-compile Flash IR text.");
  m.def(
      "compile",
      [](nb::bytes source, const std::string &entry, const std::string &name,
         const std::string &options, bool timePasses) {
        return compile(std::string(source.c_str(), source.size()), entry,
                       name, options, timePasses);
      },
      "source"_a, "entry"_a = "", "name"_a = "<flash-source>",
      "options"_a = "", "time_passes"_a = false,
      "Parse, verify and JIT-compile Flash IR as MLIR bytecode.");
  m.def(
      "compile_cached",
      [](GraphBuilder &builder, const std::string &entry,
         const std::string &name,
         const std::string &pipelineOptions) -> std::unique_ptr<Executable> {
        std::string error;
        flash::runtime::CompileOptions options;
        options.entry = entry;
        options.pipelineOptions = pipelineOptions;
        std::unique_ptr<Executable> exe;
        {
          nb::gil_scoped_release release;
          exe = Executable::fromCache(builder, name, options, error);
        }
        if (!exe && !error.empty())
          throw nb::value_error(error.c_str());
        return exe;
      },
      "builder"_a, "entry"_a = "", "name"_a = "<flash-source>",
      "options"_a = "",
      "A finished GraphBuilder's function from the on-disk compile cache, "
      "without writing and parsing its module; None on a miss.");
  m.def(
      "source_text",
      [](nb::bytes source, const std::string &name) {
        std::string text, error;
        bool ok;
        {
          nb::gil_scoped_release release;
          ok = Executable::sourceText(std::string(source.c_str(), source.size()),
                                      name, text, error);
        }
        if (!ok)
          throw nb::value_error(error.c_str());
        return text;
      },
      "source"_a, "name"_a = "<flash-source>",
      "Flash IR text (with locations) of a module given as MLIR bytecode.");

  static PyType_Slot dispatcherSlots[] = {
      {Py_tp_traverse, reinterpret_cast<void *>(&Dispatcher::traverse)},
      {Py_tp_clear, reinterpret_cast<void *>(&Dispatcher::clearReferences)},
      {0, nullptr}};
  nb::class_<Dispatcher>(m, "Dispatcher", nb::type_slots(dispatcherSlots))
      .def(nb::init<std::string, std::string, std::string, nb::object>(),
           "op"_a, "name"_a, "doc"_a, "fallback"_a)
      .def_ro("name", &Dispatcher::name)
      .def_ro("__doc__", &Dispatcher::doc)
      .def("__repr__",
           [](const Dispatcher &d) {
             return "<flashcompile op " + d.name + " (" + d.op + ")>";
           })
      .def("__call__", &Dispatcher::operator())
      .def("add", &Dispatcher::add, "shapes"_a, "executable"_a)
      .def("clear", &Dispatcher::clear)
      .def_ro("op", &Dispatcher::op)
      .def_ro("hits", &Dispatcher::hits);

  m.def(
      "targets",
      [] {
        nb::list out;
        for (const mlir::flash::Target &t : mlir::flash::getTargets()) {
          nb::dict d;
          d["name"] = t.name;
          d["kind"] = mlir::flash::kindName(t.kind).str();
          d["chip"] = t.chip;
          d["features"] = t.features;
          d["device"] = t.device;
          d["description"] = t.description;
          d["runs_here"] = t.runnable();
          out.append(d);
        }
        return out;
      },
      "The targets the compiler generates code for.");
  m.def(
      "vulkan_info",
      [] {
        std::string why;
        bool ok = flash::runtime::vulkan::available(why);
        nb::dict d;
        d["available"] = ok;
        d["why"] = why;
        d["device"] = ok ? flash::runtime::vulkan::deviceName() : "";
        return d;
      },
      "Whether target 'vulkan' runs here, on which device, or why not.");
  m.def(
      "vulkan_stats",
      [] {
        auto s = flash::runtime::vulkan::stats();
        nb::dict d;
        d["launches"] = s.launches;
        d["bytes_to_device"] = s.bytesToDevice;
        d["bytes_from_device"] = s.bytesFromDevice;
        d["dispatch_ms"] = s.dispatchMs;
        d["copy_ms"] = s.copyMs;
        d["setup_ms"] = s.setupMs;
        return d;
      },
      "Vulkan launches, bytes copied each way and time since the last reset.");
  m.def("vulkan_reset_stats", [] { flash::runtime::vulkan::resetStats(); });

  m.def(
      "compile_cache_info",
      [] {
        using flash::runtime::CompileCache;
        CompileCache cache = CompileCache::fromEnvironment();
        CompileCache::Usage usage = cache.usage();
        nb::dict info;
        info["hits"] = CompileCache::hits();
        info["misses"] = CompileCache::misses();
        info["refused"] = CompileCache::refused();
        info["enabled"] = cache.enabled();
        info["why_disabled"] = cache.whyDisabled();
        info["folder"] = CompileCache::folder();
        info["entries"] = usage.entries;
        info["bytes"] = usage.bytes;
        info["max_bytes"] = CompileCache::maxBytes();
        return info;
      },
      "The on-disk compile cache: this process's hits, misses and refused "
      "entries; its folder, entries, size and size limit.");
  m.def(
      "clear_compile_cache",
      [] { return flash::runtime::CompileCache::fromEnvironment().clear(); },
      "Removes every entry of the on-disk compile cache; returns how many.");

  m.def(
      "build_id", [] { return std::string(flash::runtime::buildId()); },
      "The compiler's build id (a hash of its sources): what the compile "
      "cache and the tuning database key their entries by.");
  m.def(
      "cache_folder", [] { return flash::runtime::CompileCache::folder(); },
      "Where FlashCompile keeps its files: $FLASH_CACHE_DIR, else "
      "$XDG_CACHE_HOME/flashcompile, else ~/.cache/flashcompile (the "
      "runtime's one rule).");
  m.def(
      "runtime_facts",
      [] {
        nb::dict facts;
        facts["parallel_min_iterations"] = mlir::flash::kParallelMinIterations;
        facts["panel_rows"] = flash::runtime::kSgemmPanelRows;
        facts["panel_columns"] = flash::runtime::kSgemmPanelColumns;
        return facts;
      },
      "Defaults of compiled code that the models restate: the iterations "
      "from which a generated loop runs on all cores, and the default "
      "register tile (the compiled panels' rows and columns).");
  m.def(
      "sgemm_split",
      [](int64_t m, int64_t n, int64_t k, int64_t requested, int threads,
         int64_t mr, int64_t nr) {
        auto split = flash::runtime::sgemmSplit(m, n, k, requested, threads,
                                                mr, nr, m < flash::runtime::kSgemmPanelRows);
        return nb::make_tuple(split.tasks, split.columns, split.stripe);
      },
      "m"_a, "n"_a, "k"_a, "requested"_a, "threads"_a, "mr"_a, "nr"_a,
      "(tasks, column stripes?, stripe) of one sgemm call of m x k by k x n "
      "with `requested` threads (0: by size) of `threads` and an mr x nr "
      "register tile (Ukernels.h's sgemmSplit).");
  m.def(
      "tunable_ops",
      [](const std::string &text, const std::string &entry) {
        std::vector<mlir::flash::TunableOp> ops;
        std::string error;
        bool ok;
        {
          nb::gil_scoped_release release;
          ok = mlir::flash::tunableOpsText(text, entry, ops, error);
        }
        if (!ok)
          throw nb::value_error(error.c_str());
        nb::list out;
        for (const auto &op : ops) {
          nb::dict d, attrs;
          d["index"] = op.index, d["op"] = op.op;
          nb::list shapes;
          for (const auto &shape : op.shapes)
            shapes.append(nb::tuple(nb::cast(shape)));
          d["shapes"] = shapes;
          for (const auto &[name, values] : op.attrs)
            attrs[name.c_str()] = nb::tuple(nb::cast(values));
          d["attrs"] = attrs;
          d["batch"] = op.batch, d["m"] = op.m, d["n"] = op.n, d["k"] = op.k;
          d["sgemm"] = op.sgemm.empty() ? nb::none() : nb::cast(op.sgemm);
          out.append(d);
        }
        return out;
      },
      "text"_a, "entry"_a = "",
      "The ops of a Flash function whose sgemm parameters fc.tune searches, "
      "in order: operand shapes, cost-relevant attributes, the GEMMs they "
      "run as (the shared cost analysis) and their flash.sgemm, if any.");
  m.def(
      "with_sgemm",
      [](const std::string &text, const std::string &entry,
         const std::map<int, std::vector<int64_t>> &params) {
        std::string out, error;
        bool ok;
        {
          nb::gil_scoped_release release;
          ok = mlir::flash::withSgemmText(text, entry, params, out, error);
        }
        if (!ok)
          throw nb::value_error(error.c_str());
        return out;
      },
      "text"_a, "entry"_a, "params"_a,
      "The Flash IR text with tunable op i (tunable_ops' index) given the "
      "flash.sgemm parameters params[i]; ops with parameters keep theirs.");

  m.def(
      "sgemm_facts",
      [] {
        nb::dict facts;
        nb::list tiles;
        for (auto [rows, cols] : flash::runtime::sgemmTiles())
          tiles.append(nb::make_tuple(rows, cols));
        facts["tiles"] = tiles;
        nb::list kernels;
        for (auto &[name, isa] : flash::runtime::sgemmTileKernels())
          kernels.append(nb::make_tuple(name, isa));
        facts["tile_kernels"] = kernels;
        nb::list edges;
        for (int width : flash::runtime::sgemmEdgeColumnBlocks())
          edges.append(width);
        facts["edge_column_blocks"] = edges;
        facts["avx512_edge_column_blocks"] =
            nb::cast(flash::runtime::sgemmAvx512EdgeColumnBlocks());
        facts["edge_riding_columns"] =
            flash::runtime::kSgemmEdgeRidingColumns;
        facts["mc"] = flash::runtime::kSgemmMC;
        facts["kc"] = flash::runtime::kSgemmKC;
        facts["nc"] = flash::runtime::kSgemmNC;
        facts["parallel_flops"] = flash::runtime::kSgemmParallelFlops;
        return facts;
      },
      "The sgemm ukernel's register tiles on this CPU (each with its "
      "microkernel's name and instruction set), default blocking and threading "
      "threshold (what the tuner and the simulator model).");

  m.def(
      "batch_in_parallel",
      [](int64_t batches, double callFlops, int threads) {
        return flash::runtime::batchInParallel(batches, callFlops, threads);
      },
      "batches"_a, "call_flops"_a, "threads"_a,
      "Whether compiled code spreads a batch of sgemm calls over `threads` "
      "threads (each call on one) rather than running them in turn, each "
      "split (the runtime's rule, Ukernels.h).");

  m.def("sgemm_packs_b", &flash::runtime::sgemmPacksB, "rows"_a, "ldb"_a,
        "mc"_a, "choice"_a,
        "Whether the sgemm ukernel packs B's panels for a call with `rows` "
        "rows of A, B's rows `ldb` floats apart, A blocks of `mc` rows and "
        "packB `choice` (Ukernels.h's rule).");
  m.def("conv_uses_winograd", &flash::runtime::convUsesWinograd,
        "channels"_a, "out_channels"_a, "oh"_a, "ow"_a,
        "Whether the default pipeline runs a 3x3 stride-1 convolution with "
        "a constant filter by Winograd F(4x4, 3x3) (Ukernels.h's rule).");
  m.def("conv_runs_direct", &flash::runtime::convRunsDirect, "channels"_a,
        "sw"_a, "dw"_a, "ow"_a, "avx512"_a,
        "Whether a convolution over `channels` input channels with column "
        "stride `sw`, dilation `dw` and `ow` output columns runs by the "
        "direct kernel rather than as an implicit GEMM (Ukernels.h's rule).");
  m.def("im2col_packs_flat", &flash::runtime::im2colPacksFlat, "sh"_a,
        "sw"_a, "row_stride"_a, "ow"_a,
        "Whether the implicit GEMM's AVX-512 packing reads a panel's k row "
        "with one shifted load (unit strides, input rows `row_stride` "
        "apart as long as the output's `ow`), not one per output row the "
        "panel crosses (Ukernels.h's rule).");
  m.def("conv_direct_enabled", &flash::runtime::convDirectEnabled,
        "Whether this process runs convolutions by the direct kernel where "
        "conv_runs_direct allows it (an AVX-512 CPU, FLASH_CONV_DIRECT not "
        "0).");
  m.def("conv_batch_as_columns", &flash::runtime::convBatchAsColumns,
        "images"_a, "pixels"_a,
        "Whether the default pipeline runs a convolution over `images` "
        "images of `pixels` output pixels as one matrix product over all "
        "images rather than one per image (Ukernels.h's rule).");

  m.def("set_num_threads", &flash::runtime::setNumThreads, "threads"_a,
        "Threads used by compiled code (default: all hardware threads).");
  m.def("get_num_threads", &flash::runtime::getNumThreads);

  m.def(
      "graph_cost",
      [](const std::string &text, const std::string &entry,
         bool elementwiseEpilogues, bool fusedAttention) {
        mlir::flash::GraphCost cost;
        mlir::flash::FusionRules rules;
        rules.elementwiseEpilogues = elementwiseEpilogues;
        rules.fusedAttention = fusedAttention;
        std::string error;
        bool ok;
        {
          nb::gil_scoped_release release;
          ok = mlir::flash::analyzeGraphCostText(text, entry, cost, error, rules);
        }
        if (!ok)
          throw nb::value_error(error.c_str());
        nb::list ops, kernels;
        for (const auto &op : cost.ops) {
          nb::dict d;
          d["op"] = op.op, d["location"] = op.location, d["kind"] = op.kind;
          d["shapes"] = op.shapes, d["flops"] = op.flops;
          d["elements"] = op.elements;
          nb::list operandShapes;
          for (const auto &shape : op.operandShapes)
            operandShapes.append(nb::tuple(nb::cast(shape)));
          d["operand_shapes"] = operandShapes;
          d["bytes_in"] = op.bytesIn, d["bytes_out"] = op.bytesOut;
          d["batch"] = op.batch, d["m"] = op.m, d["n"] = op.n, d["k"] = op.k;
          d["kernel"] = op.kernel;
          d["operands"] = nb::cast(op.operands);
          d["returned"] = op.returned;
          d["splat"] = op.splat;
          ops.append(d);
        }
        for (const auto &k : cost.kernels) {
          nb::dict d;
          d["id"] = k.id, d["kind"] = k.kind, d["ops"] = nb::cast(k.ops);
          d["flops"] = k.flops, d["bytes_in"] = k.bytesIn;
          d["bytes_out"] = k.bytesOut, d["batch"] = k.batch, d["m"] = k.m;
          d["n"] = k.n, d["k"] = k.k, d["copy_row"] = k.copyRow;
          d["winograd"] = k.winograd, d["direct"] = k.direct;
          d["flat_packing"] = k.flatPacking;
          kernels.append(d);
        }
        nb::dict result;
        result["ops"] = ops, result["kernels"] = kernels;
        return result;
      },
      "text"_a, "entry"_a = "", "elementwise_epilogues"_a = false,
      "fused_attention"_a = false,
      "FLOPs, bytes and fused kernels of a Flash function (graph stage IR); "
      "kernels grouped as the host compiler does, or with a device stack's "
      "further fusions (FusionRules in OpCost.h).");

  // A finished builder has handed its function over: adding to it again
  // would touch freed IR.
  auto open = [](const GraphBuilder &b) {
    if (b.finished())
      throw nb::value_error("GraphBuilder: the function was already finished");
  };
  nb::class_<GraphBuilder>(m, "GraphBuilder")
      .def(nb::init<>())
      .def(
          "add_input",
          [open](GraphBuilder &b, const std::vector<int64_t> &shape,
                 const std::string &dtype) {
            open(b);
            int handle = b.addInput(shape, dtype);
            if (handle < 0)
              throw nb::type_error(("an input of dtype '" + dtype +
                                    "': f32, i64 or i32 only")
                                       .c_str());
            return handle;
          },
          "shape"_a, "dtype"_a = "f32")
      .def(
          "add_constant",
          [open](GraphBuilder &b, ConstF32Array array, const std::string &file,
                 unsigned line) {
            open(b);
            std::vector<int64_t> shape(array.shape_ptr(),
                                       array.shape_ptr() + array.ndim());
            return b.addConstant(array.data(), shape, {file, line});
          },
          "array"_a, "file"_a = "", "line"_a = 0)
      .def(
          "add_index_constant",
          [open](GraphBuilder &b, ConstI64Array array, const std::string &file,
                 unsigned line) {
            open(b);
            std::vector<int64_t> shape(array.shape_ptr(),
                                       array.shape_ptr() + array.ndim());
            return b.addConstant(array.data(), shape, {file, line});
          },
          "array"_a, "file"_a = "", "line"_a = 0,
          "A flash.constant of int64 indices (for flash.gather).")
      .def(
          "add_op",
          [open](GraphBuilder &b, const std::string &name,
                 const std::vector<int> &operands, nb::dict attrs,
                 const std::string &file, unsigned line) {
            open(b);
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
      .def("dtype", &GraphBuilder::dtype, "value"_a)
      .def(
          "finish",
          [open](GraphBuilder &b, const std::string &name,
                 const std::vector<int> &results, bool bytecode) -> nb::object {
            open(b);
            std::string module, error;
            if (!b.finish(name, results, module, error, bytecode))
              throw nb::value_error(error.c_str());
            if (bytecode)
              return nb::bytes(module.data(), module.size());
            return nb::str(module.data(), module.size());
          },
          "name"_a, "results"_a, "bytecode"_a = false,
          "The module as Flash IR text, or as MLIR bytecode (bytes).")
      .def(
          "close",
          [open](GraphBuilder &b, const std::string &name,
                 const std::vector<int> &results) {
            open(b);
            std::string error;
            if (!b.finish(name, results, error))
              throw nb::value_error(error.c_str());
          },
          "name"_a, "results"_a,
          "Finishes the function and keeps the module (for compile_cached "
          "and write) instead of printing it.")
      .def(
          "write",
          [](const GraphBuilder &b, bool bytecode) -> nb::object {
            const flash::builder::BuiltModule *built = b.built();
            if (!built)
              throw nb::value_error(
                  "GraphBuilder: no closed module to write (close() first; "
                  "a module compile_cached served is the executable's)");
            std::string module;
            if (!built->write(module, bytecode))
              throw nb::value_error("GraphBuilder: writing the module failed");
            if (bytecode)
              return nb::bytes(module.data(), module.size());
            return nb::str(module.data(), module.size());
          },
          "bytecode"_a = true,
          "The closed module as MLIR bytecode (bytes) or Flash IR text.");
}
