"""GPU code generation's Python side: the targets, the vendor tools, the
kernel table (registers, spills, shared memory, occupancy) and export for
machines with the hardware. The compiler itself (pipelines, kernels, the
Vulkan runtime) is native; see docs/gpu.md."""
from .kernels import Kernel, format_table
from .program import TARGETS, GpuProgram, target_info, target_options
from .toolchain import ToolMissing

__all__ = ["Kernel", "format_table", "GpuProgram", "TARGETS", "target_info",
           "target_options", "ToolMissing"]
