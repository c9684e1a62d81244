"""Programs across devices: placements that run (stages on host, Vulkan;
built for NVIDIA/AMD; StableHLO for XLA's devices), pipeline parallelism,
and StableHLO run through a real consumer (IREE). docs/multi-device.md."""
from .pipeline import Pipeline, pipeline, schedule
from .placement import ExecutablePlacement, PlacedProgram, place
from .stablehlo_run import StableHloProgram, run_stablehlo

__all__ = ["place", "ExecutablePlacement", "PlacedProgram", "pipeline", "Pipeline", "schedule",
           "StableHloProgram", "run_stablehlo"]
