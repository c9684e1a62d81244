"""What a GPU compile gives beyond the host's: the device code of every
kernel module, assembled and inspected with the vendor's tools on demand
(ptxas for cubins and resources, cuobjdump for SASS, llvm-readelf and
llvm-objdump for HSACO, spirv-dis and spirv-val for SPIR-V)."""
from __future__ import annotations

import functools
import tempfile

from .. import _flashcompile as _native
from . import toolchain
from .kernels import Kernel, hsaco_resources, kernel_table, ptxas

TARGETS = {t["name"]: t for t in _native.targets()}


def target_info(name: str) -> dict:
    """The target table's row for `name`; ValueError listing them if unknown."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; the targets are: {', '.join(TARGETS)}")
    return TARGETS[name]


def target_options(target: str) -> str:
    """Pipeline options a target needs besides `target=` (AMD: the folder
    with the device libraries and linker, when installed)."""
    if target_info(target)["kind"] == "amd":
        toolkit = toolchain.rocm_toolkit()
        if toolkit:
            return f"rocm-toolkit={toolkit}"
    return ""


class GpuProgram:
    """The kernels of one executable compiled for a GPU target."""

    def __init__(self, executable):
        self._exe = executable
        self.target = executable.target
        self.info = target_info(self.target)
        self.kind = self.info["kind"]
        self.launches = list(executable.launches)
        # module -> (format, bytes)
        self.modules = {m: (fmt, data) for m, fmt, data in executable.device_binaries}

    # --- device code -----------------------------------------------------
    def ptx(self) -> str:
        """NVIDIA: the PTX of every kernel module."""
        self._expect("nvidia", "ptx()")
        return "\n".join(f"// ---- module {m}\n{data.decode()}"
                         for m, (_, data) in self.modules.items())

    @functools.cached_property
    def _cubins(self) -> tuple[dict, dict, str]:
        cubins, resources, reports = {}, {}, []
        with tempfile.TemporaryDirectory() as folder:
            for module, (_, data) in self.modules.items():
                cubin, res, report = ptxas(data.decode(), self.info["chip"], folder)
                cubins[module] = cubin
                for kernel, counts in res.items():
                    resources[(module, kernel)] = counts
                reports.append(report)
        return cubins, resources, "".join(reports)

    def binary(self) -> dict[str, bytes]:
        """Each kernel module's binary: NVIDIA cubin (ptxas), AMD HSACO,
        Vulkan SPIR-V."""
        if self.kind == "nvidia":
            return dict(self._cubins[0])
        if self.kind == "amd" and any(fmt != "bin" for fmt, _ in self.modules.values()):
            raise toolchain.ToolMissing(
                "AMD kernels were left as assembly: HSACO needs Debian's "
                "rocm-device-libs and lld-22 (scripts/setup.sh installs them)")
        return {m: data for m, (_, data) in self.modules.items()}

    def sass(self) -> str:
        """NVIDIA: the machine code (SASS) of every kernel, by cuobjdump."""
        self._expect("nvidia", "sass()")
        out = []
        with tempfile.TemporaryDirectory() as folder:
            for module, cubin in self._cubins[0].items():
                path = f"{folder}/{module}.cubin"
                with open(path, "wb") as f:
                    f.write(cubin)
                out.append(f"// ---- module {module}\n" + toolchain.run("cuobjdump", "-sass", path))
        return "\n".join(out)

    def isa(self) -> str:
        """The kernels' assembly: PTX (NVIDIA), GCN/CDNA disassembly (AMD),
        SPIR-V disassembly (Vulkan)."""
        if self.kind == "nvidia":
            return self.ptx()
        out = []
        for module, (fmt, data) in self.modules.items():
            if self.kind == "amd" and fmt == "isa":
                text = data.decode()
            else:
                suffix = ".hsaco" if self.kind == "amd" else ".spv"
                with tempfile.NamedTemporaryFile(suffix=suffix) as f:
                    f.write(data)
                    f.flush()
                    text = (toolchain.run("llvm-objdump", "-d", f.name) if self.kind == "amd"
                            else toolchain.run("spirv-dis", f.name))
            out.append(f"// ---- module {module}\n{text}")
        return "\n".join(out)

    def validate_spirv(self) -> None:
        """Vulkan: runs spirv-val (Vulkan 1.1 rules) on every module;
        RuntimeError with its report if one is invalid."""
        self._expect("vulkan", "validate_spirv()")
        for module, (_, data) in self.modules.items():
            with tempfile.NamedTemporaryFile(suffix=".spv") as f:
                f.write(data)
                f.flush()
                try:
                    toolchain.run("spirv-val", "--target-env", "vulkan1.1", f.name)
                except RuntimeError as e:
                    raise RuntimeError(f"module {module}: {e}") from None

    # --- resources -------------------------------------------------------
    @functools.cached_property
    def kernels(self) -> list[Kernel]:
        """One row per launch: grid, block, and (NVIDIA, AMD) registers,
        spills, shared memory and theoretical occupancy."""
        resources = {}
        if self.kind == "nvidia":
            resources = self._cubins[1]
        elif self.kind == "amd":
            for module, (fmt, data) in self.modules.items():
                if fmt == "bin":
                    for kernel, counts in hsaco_resources(data).items():
                        resources[(module, kernel)] = counts
        device = self.info["device"] or None
        return kernel_table(self.launches, resources, device)

    def ptxas_report(self) -> str:
        self._expect("nvidia", "ptxas_report()")
        return self._cubins[2]

    def _expect(self, kind: str, what: str) -> None:
        if self.kind != kind:
            raise ValueError(f"{what} is for {kind} targets; this was compiled for {self.target}")
