"""Running exported StableHLO through a real consumer: IREE's compiler and
runtime from PyPI (iree-base-compiler, iree-base-runtime), on this CPU.

This is how the export is checked (and how fc.check_devices gets its
"stablehlo" row): the same text XLA would compile for a TPU is compiled by
an independent StableHLO compiler and its outputs compared to ours.
"""
from __future__ import annotations

import numpy as np


def available() -> bool:
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError:
        return False
    return True


class StableHloProgram:
    """A StableHLO module compiled by IREE for this CPU, callable on NumPy
    arrays (inputs in the exported function's order)."""

    def __init__(self, text: str, entry: str = "main"):
        try:
            import iree.compiler as compiler
            import iree.runtime as runtime
        except ImportError as e:
            raise ImportError("running StableHLO needs IREE: pip install iree-base-compiler "
                              "iree-base-runtime (the `multidevice` extra)") from e
        try:
            binary = compiler.compile_str(text, target_backends=["llvm-cpu"],
                                          input_type="stablehlo",
                                          extra_args=["--iree-llvmcpu-target-cpu=host"])
        except compiler.CompilerToolError as e:
            raise ValueError(f"IREE cannot compile the StableHLO: {_first_error(str(e))}") from None
        config = runtime.Config("local-task")
        self._context = runtime.SystemContext(config=config)
        self._context.add_vm_module(runtime.VmModule.copy_buffer(self._context.instance, binary))
        self._fn = self._context.modules.module[entry]
        self.text = text

    def __call__(self, *args):
        out = self._fn(*[np.ascontiguousarray(a) for a in args])
        if isinstance(out, (tuple, list)):
            return tuple(np.asarray(o) for o in out)
        return np.asarray(out)


def _first_error(message: str) -> str:
    """The first `error:` line of IREE's output, with the op it names."""
    for line in message.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def run_stablehlo(text: str, *args, entry: str = "main"):
    """Compiles `text` with IREE and runs it once on `args`."""
    return StableHloProgram(text, entry)(*args)
