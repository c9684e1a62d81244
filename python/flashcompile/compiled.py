"""A compiled Flash function: call it on NumPy arrays, or look at its IR."""
from __future__ import annotations

import os

import numpy as np

from . import _flashcompile as _native
from . import aot as _aot
from . import gpu as _gpu
from . import logs
from . import tuned as _tuned


def stage_names(target: str = "host") -> list[str]:
    """Every stage whose IR can be printed, in pipeline order, for `target`."""
    return list(_native.Executable.stage_names(target))


def targets() -> list[dict]:
    """The targets FlashCompile compiles for: name, kind, chip, the
    simulator device it stands for, and whether it runs here."""
    return [dict(t) for t in _native.targets()]


def with_target(options: str, target: str, allow_tf32: bool = False) -> str:
    """Pipeline options that compile for `target` (unchanged for the host);
    `allow_tf32`: NVIDIA matrix products on TF32 tensor cores."""
    if target == "host":
        if allow_tf32:
            raise ValueError("allow_tf32 is for NVIDIA targets (target='nvidia-sm80', ...)")
        return options
    info = _gpu.target_info(target)  # ValueError naming the targets if unknown
    if allow_tf32 and info["kind"] != "nvidia":
        raise ValueError(f"allow_tf32 is for NVIDIA targets, not {target}")
    return " ".join(o for o in (f"target={target}", _gpu.target_options(target),
                                "allow-tf32=true" if allow_tf32 else "", options) if o)


class Compiled:
    """A JIT-compiled function of statically shaped float32 tensors (and
    int64/int32 index inputs, such as token ids).

    `source` is the Flash IR that was compiled (with the tuned parameters
    its ops got), `original_source` the text as given; a program given as
    MLIR bytecode (the tracer's) is printed as text when first asked, and
    one the compile cache served as built (source None) is first written
    by the executable."""

    def __init__(self, executable, source, original_source=None):
        self._exe = executable
        self._source = source
        self._original = source if original_source is None else original_source
        self.options = ""  # the pipeline options it was compiled with
        self.entry = executable.entry
        self.input_shapes = [tuple(s) for s, _ in executable.inputs]
        self.input_dtypes = [NUMPY_DTYPES[d] for _, d in executable.inputs]
        self.output_shapes = [tuple(s) for s, _ in executable.outputs]
        self.target = executable.target
        self.runnable = executable.runnable

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = self._original = self._exe.source_bytes()
        if isinstance(self._source, bytes):
            self._source = source_text(self._source, self.entry)
            if isinstance(self._original, bytes):
                self._original = self._source
        return self._source

    @property
    def original_source(self) -> str:
        if self._original is None:
            return self.source
        if isinstance(self._original, bytes):
            self._original = source_text(self._original, self.entry)
        return self._original

    @property
    def stages(self) -> list[str]:
        return stage_names(self.target)

    # --- GPU targets (docs/gpu.md) -----------------------------------------
    @property
    def gpu(self) -> "_gpu.GpuProgram":
        """The kernels of a GPU-compiled function (ValueError on the host)."""
        if self.target == "host":
            raise ValueError(f"{self.entry} was compiled for the host; compile with "
                             f"target='vulkan', 'nvidia-sm90', ... for GPU kernels")
        if "_gpu_program" not in self.__dict__:
            self._gpu_program = _gpu.GpuProgram(self._exe)
        return self._gpu_program

    @property
    def kernels(self) -> list:
        """Every kernel launch: grid, block, registers, spills, shared
        memory, theoretical occupancy (print with fc.gpu.format_table)."""
        return self.gpu.kernels

    def ptx(self) -> str:
        return self.gpu.ptx()

    def sass(self) -> str:
        return self.gpu.sass()

    def isa(self) -> str:
        return self.gpu.isa()

    def binary(self) -> dict:
        return self.gpu.binary()

    def compile_times(self) -> dict:
        """Where compiling it spent its time: milliseconds of parse, cache,
        pipeline (MLIR), llvm (-O3) and codegen; `cached` if it came from
        the on-disk cache (FLASH_LOGS=timing prints it for every compile)."""
        return self._exe.compile_times()

    def __call__(self, *arrays):
        try:  # fast path: float32 C-contiguous arrays of the right shapes
            return self._exe(*arrays)
        except TypeError:
            pass
        if len(arrays) != len(self.input_shapes):
            raise ValueError(
                f"{self.entry}: expected {len(self.input_shapes)} inputs, "
                f"got {len(arrays)}")
        return self._exe(*[as_f32(a, self.entry, i) if d == np.float32 else
                           as_index(a, d, self.entry, i)
                           for i, (a, d) in enumerate(zip(arrays, self.input_dtypes))])

    def ir(self, stage: str = "flash") -> str:
        """The IR after `stage` (one of `self.stages`)."""
        return self._exe.ir(stage)

    def llvm_ir(self) -> str:
        return self.ir("llvm-ir")

    def asm(self) -> str:
        return self.ir("asm")

    def tunable_ops(self) -> list:
        """The ops fc.tune can tune, as the native analysis lists them: op,
        operand shapes, attributes, the GEMMs they run as, and the
        flash.sgemm parameters they were compiled with (or None)."""
        return list(_native.tunable_ops(self.source, self.entry))

    def dump(self, folder: str) -> list[str]:
        """Writes every stage to `folder/NN-<stage>.<ext>`; returns the paths."""
        os.makedirs(folder, exist_ok=True)
        paths = []
        for i, stage in enumerate(self.stages):
            ext = {"llvm-ir": "ll", "asm": "s"}.get(stage, "mlir")
            path = os.path.join(folder, f"{i:02d}-{stage}.{ext}")
            with open(path, "w") as f:
                f.write(self.ir(stage))
            paths.append(path)
        return paths

    def export_library(self, folder: str, name: str | None = None) -> dict:
        """Ahead-of-time: lib<name>.so and <name>.h in `folder`, callable
        from C without FlashCompile (see flashcompile.aot). For a GPU target:
        the kernels (PTX, cubin, SASS / HSACO / SPIR-V), the kernel table,
        the host code and a launcher source (flashcompile.gpu.export)."""
        if self.target != "host":
            from .gpu.export import export
            return export(self, folder, name)
        return _aot.export_library(self, folder, name)

    def __repr__(self):
        ins = ", ".join(str(s) for s in self.input_shapes)
        outs = ", ".join(str(s) for s in self.output_shapes)
        return f"<flashcompile.Compiled {self.entry}({ins}) -> ({outs})>"


def source_text(source, name: str = "<flash-source>") -> str:
    """Flash IR text of `source` (text as it is; MLIR bytecode printed)."""
    return _native.source_text(source, name) if isinstance(source, bytes) else source


def compile_mlir(source, entry: str | None = None,
                 name: str = "<flash-source>", options: str = "",
                 tuned=True, target: str = "host", allow_tf32: bool = False) -> Compiled:
    """Compile Flash IR (text, or MLIR bytecode as bytes); raises
    ValueError with MLIR's diagnostics.

    `options` are pipeline options in flash-opt syntax, e.g.
    "ukernels=false" (see `flash-opt --help`, --flash-to-llvm). With
    `tuned=True` the program's ops get what the tuning database holds for
    them (and the program its tuned options when `options` is empty);
    `tuned=False` compiles the text as it is; `tuned=<database>` reads
    that database instead of the active one. `target` is one of
    fc.targets(): "host" (default), "vulkan" (runs here through the Vulkan
    loader), "nvidia-sm80"/"nvidia-sm90"/"amd-gfx90a"/"amd-gfx942" (built and
    inspected, not callable here; see docs/gpu.md). `allow_tf32=True` lets
    NVIDIA matrix products whose sizes are multiples of 16x8x4 use TF32
    tensor cores (mma.sync), as PyTorch's allow_tf32."""
    if not isinstance(source, (str, bytes)):
        raise TypeError(f"compile_mlir expects IR text (str) or MLIR bytecode (bytes), "
                        f"got {type(source).__name__}")
    original = source
    if tuned is not False:
        database = None if tuned is True else tuned
        if isinstance(source, bytes) and _tuned.consulted(database):
            source = original = source_text(source, name)  # the database reads text
        source, options = _tuned.apply(source, entry or "", options, database)
    options = with_target(options, target, allow_tf32)
    executable = _native.compile(source, entry or "", name, options,
                                 time_passes=logs.enabled("passes"))
    logs.log_compile(name, executable, options)
    compiled = Compiled(executable, source, original)
    compiled.options = options
    return compiled


def compile_built(builder, name: str = "<flash-source>", options: str = "",
                  target: str = "host", allow_tf32: bool = False) -> Compiled:
    """compile_mlir for a closed GraphBuilder (the tracer's): when the
    on-disk cache holds its code and no tuning database is in use, served
    from the module in memory (for a model, writing and parsing its
    bytecode took most of a cache hit); otherwise compile_mlir of its
    bytecode (weights as raw bytes, not hex text to print and parse)."""
    if not _tuned.consulted():
        full_options = with_target(options, target, allow_tf32)
        executable = _native.compile_cached(builder, "", name, full_options)
        if executable is not None:
            logs.log_compile(name, executable, full_options)
            compiled = Compiled(executable, None)
            compiled.options = full_options
            return compiled
    return compile_mlir(builder.write(bytecode=True), name=name, options=options,
                        target=target, allow_tf32=allow_tf32)


# The runtime's dtype names (TensorSpec, GraphBuilder) and NumPy's: the one
# table the tracer, the eager ops and the call path read.
NUMPY_DTYPES = {"f32": np.dtype(np.float32), "i64": np.dtype(np.int64),
                "i32": np.dtype(np.int32)}
NATIVE_DTYPES = {dtype: name for name, dtype in NUMPY_DTYPES.items()}


def as_index(value, dtype, op: str, index: int) -> np.ndarray:
    """A C-contiguous array of the integer `dtype` an index input declares:
    any integer array converts (when its values fit); floats do not."""
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(f"{op}: argument {index} has dtype {array.dtype} and shape "
                        f"{array.shape}; it holds indices, so an integer dtype is "
                        f"required ({np.dtype(dtype).name})")
    if array.dtype != dtype:
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(f"{op}: argument {index} holds values outside "
                             f"{np.dtype(dtype).name}")
        array = array.astype(dtype)
    return np.ascontiguousarray(array) if array.ndim else array


def as_f32(value, op: str, index: int) -> np.ndarray:
    """A C-contiguous float32 view of `value` (copied only if not contiguous)."""
    if not isinstance(value, np.ndarray):
        if isinstance(value, np.generic):
            value = np.asarray(value)
        elif isinstance(value, (list, tuple, int, float)) and not isinstance(value, bool):
            value = np.asarray(value, dtype=np.float32)
        else:
            raise TypeError(f"{op}: argument {index} must be a NumPy array, "
                            f"got {type(value).__name__}")
    if value.dtype != np.float32:
        raise TypeError(f"{op}: argument {index} has dtype {value.dtype} and "
                        f"shape {value.shape}; float32 is required "
                        f"(use .astype(np.float32))")
    # Not np.ascontiguousarray: it turns 0-d arrays into 1-d ones.
    return value if value.flags.c_contiguous else value.copy(order="C")
