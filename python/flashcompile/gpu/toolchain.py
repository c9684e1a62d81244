"""The tools GPU code is built and inspected with, found where the project's
set-up installs them: NVIDIA's ptxas, cuobjdump and nvdisasm from PyPI's
`nvidia-cuda-nvcc` / `-cuobjdump` / `-nvdisasm` wheels (or a CUDA install on
PATH), SPIRV-Tools and LLVM 22's ELF readers from Debian, and a ROCm-like
folder over Debian's `rocm-device-libs` and `lld-22` for AMD's linker."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess

from ..host import LLVM_BIN, cache_folder

_INSTALL = {
    "ptxas": "pip install nvidia-cuda-nvcc",
    "cuobjdump": "pip install nvidia-cuda-cuobjdump",
    "nvdisasm": "pip install nvidia-cuda-nvdisasm",
    "spirv-val": "apt-get install spirv-tools",
    "spirv-dis": "apt-get install spirv-tools",
    "llvm-readelf": "apt-get install llvm-22",
    "llvm-objdump": "apt-get install llvm-22",
    "ld.lld": "apt-get install lld-22",
}


class ToolMissing(RuntimeError):
    """A tool a GPU target needs is not installed; the message says how to
    get it."""


def _nvidia_bins() -> list[str]:
    try:
        import nvidia  # the namespace package of NVIDIA's PyPI wheels
    except ImportError:
        return []
    found = []
    for root in nvidia.__path__:
        found += glob.glob(os.path.join(root, "cu*", "bin"))
        found += glob.glob(os.path.join(root, "cuda_*", "bin"))
    return sorted(found)


def find(tool: str) -> str:
    """The path of `tool`; ToolMissing saying how to install it if absent."""
    if tool in ("ptxas", "cuobjdump", "nvdisasm", "fatbinary"):
        for folder in _nvidia_bins():
            path = os.path.join(folder, tool)
            if os.access(path, os.X_OK):
                return path
    if tool in ("llvm-readelf", "llvm-objdump", "ld.lld"):
        path = os.path.join(LLVM_BIN, tool)
        if os.access(path, os.X_OK):
            return path
    path = shutil.which(tool)
    if path:
        return path
    raise ToolMissing(f"{tool} is not installed (it comes with "
                      f"`{_INSTALL.get(tool, tool)}`; scripts/setup.sh installs it)")


def run(tool: str, *args: str, input: bytes | None = None) -> str:
    """Runs `tool` and returns its standard output (and error) as text;
    RuntimeError with the tool's message if it fails."""
    result = subprocess.run([find(tool), *args], input=input, capture_output=True)
    text = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args)} failed (exit {result.returncode}):\n{text}")
    return text


def rocm_toolkit() -> str | None:
    """A folder shaped as MLIR's AMD serializer expects a ROCm install
    (`amdgcn/bitcode` with ocml/ockl, `llvm/bin/ld.lld`), made of links to
    Debian's rocm-device-libs and lld-22; None if either is missing."""
    bitcode = next(iter(glob.glob("/usr/lib/*/amdgcn/bitcode")), None)
    lld = os.path.join(LLVM_BIN, "ld.lld")
    if not bitcode or not os.access(lld, os.X_OK):
        return None
    folder = os.path.join(cache_folder(), "rocm-toolkit")
    links = {os.path.join(folder, "amdgcn", "bitcode"): bitcode,
             os.path.join(folder, "llvm", "bin", "ld.lld"): lld}
    for link, target in links.items():
        if os.path.realpath(link) != os.path.realpath(target):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(target, link)
    return folder
