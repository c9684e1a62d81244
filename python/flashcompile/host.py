"""Facts about this machine and this build, each found in one place: the
folder FlashCompile keeps its files in, the CPU, the compiler's identity,
the tools it runs and the runtime's own defaults.

Everything here comes from the native module (the runtime's rules, so the
C++ and Python sides cannot disagree) or from the OS, and imports nothing
else of the package: every other module may read it.
"""
from __future__ import annotations

import functools
import os
import platform
import shutil

from . import _flashcompile as _native

LLVM_ROOT = "/usr/lib/llvm-22"       # Debian's llvm-22 packages
LLVM_BIN = os.path.join(LLVM_ROOT, "bin")
LLVM_LIB = os.path.join(LLVM_ROOT, "lib")
# The folder of the native module and the files built beside it. In an
# editable install the Python files are the sources', so the built files are
# found from the native module, not from this file.
PACKAGE = os.path.dirname(os.path.abspath(_native.__file__))
RUNTIME = os.path.join(PACKAGE, "runtime")  # libflash_ukernels.a, for AOT and fc.analyze

# The vector ISA flags that change generated code (the CPU signature).
_ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
              "amx_tile", "sse4_2")


def cache_folder() -> str:
    """Where compiled objects, the tuning database and the host's
    calibration live: $FLASH_CACHE_DIR, else $XDG_CACHE_HOME/flashcompile,
    else ~/.cache/flashcompile (the runtime's CompileCache::folder); created
    owner-only (0700) when it does not exist, as the runtime creates it."""
    folder = _native.cache_folder() or os.path.join(os.getcwd(), ".flashcompile-cache")
    if not os.path.isdir(folder):
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            pass  # read-only: callers that write there report it
    return folder


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset]:
    """(model name, flags) of the first CPU in /proc/cpuinfo."""
    model, flags = "", frozenset()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = frozenset(line.split(":", 1)[1].split())
                if model and flags:
                    break
    except OSError:
        pass
    return model, flags


def cpu_model() -> str:
    """The CPU's model name ("AMD EPYC 9B14"), or the platform's guess."""
    return _cpuinfo()[0] or platform.processor() or "unknown cpu"


def cpu_flags() -> frozenset:
    return _cpuinfo()[1]


def cpu_signature() -> str:
    """Model name, the vector ISA flags that change generated code, and
    the core count: what tuned parameters are valid for."""
    isa = sorted(f for f in cpu_flags() if f in _ISA_FLAGS)
    return f"{_cpuinfo()[0] or 'unknown'} [{' '.join(isa)}] x{os.cpu_count()}"


def vector_bits() -> int:
    """The widest vector registers generated code uses here (AVX2: 256)."""
    return 256 if "avx2" in cpu_flags() else 128


def compiler_id() -> str:
    """The compiler's build id (a hash of its sources, made at build
    time): every change to the compiler is another compiler."""
    return _native.build_id()[:16]


def llvm_tool(name: str, needed_by: str = "FlashCompile") -> str:
    """The path of one of LLVM's tools (llc, llvm-mca, llvm-objdump, ...)."""
    path = os.path.join(LLVM_BIN, name)
    if os.path.exists(path):
        return path
    found = shutil.which(name) or shutil.which(f"{name}-22")
    if not found:
        raise RuntimeError(f"{needed_by} needs LLVM's {name} (package llvm-22-tools)")
    return found


def flash_peak() -> str:
    """flash-peak, the host's peak measurer: $FLASH_PEAK, else the installed
    package's (flashcompile/bin), else the build tree's (build/bin)."""
    if os.environ.get("FLASH_PEAK"):
        return os.environ["FLASH_PEAK"]
    installed = os.path.join(PACKAGE, "bin", "flash-peak")
    if os.path.exists(installed):
        return installed
    # build/python_packages/flashcompile -> build/bin/flash-peak
    return os.path.normpath(os.path.join(PACKAGE, "..", "..", "bin", "flash-peak"))


# Defaults of compiled code that the models restate (read from the runtime).
_FACTS = _native.runtime_facts()
PARALLEL_MIN_ITERATIONS = int(_FACTS["parallel_min_iterations"])
