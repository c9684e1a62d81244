"""Auto-tuning: fc.tune searches the ukernel parameters of every matmul,
batch_matmul and conv2d (cache blocking per level, tasks, register tile),
ranked by an analytical cost model and measured in worker processes or on
Ray; the best go into a SQLite tuning database that later compiles read."""
from .database import TuningDatabase, compiler_version, cpu_signature, use_database
from .tuner import TuneReport, spearman, tune

__all__ = ["tune", "TuneReport", "TuningDatabase", "use_database", "spearman",
           "compiler_version", "cpu_signature"]
