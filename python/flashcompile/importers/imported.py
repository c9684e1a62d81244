"""What every importer returns: a model compiled from a finished trace,
callable on arrays by position or by input name."""
from __future__ import annotations

import numpy as np

from ..tracing import CompiledGraph



class ImportedModel:
    """An imported model: call it with arrays by position or by input name;
    `.compiled` is the CompiledGraph (stages, ir, asm, dump)."""

    source = "imported"

    def __init__(self, compiled: CompiledGraph, input_names, output_names):
        self.compiled = compiled
        self.input_names = list(input_names)
        self.output_names = list(output_names)

    def __call__(self, *args, **kwargs):
        if kwargs:
            unknown = set(kwargs) - set(self.input_names)
            if unknown:
                raise TypeError(f"unknown {self.source} input(s) {sorted(unknown)}; inputs are "
                                f"{self.input_names}")
            args = list(args) + [kwargs[n] for n in self.input_names[len(args):]]
        if len(args) != len(self.input_names):
            raise TypeError(f"the model takes {len(self.input_names)} input(s) "
                            f"{self.input_names}, got {len(args)}")
        # np.asarray also takes CPU torch tensors (no copy for float32).
        out = self.compiled(*[np.asarray(a) for a in args])
        out = list(out) if isinstance(out, (tuple, list)) else [out]
        return out[0] if len(out) == 1 else out

    def __repr__(self):
        return f"<{type(self).__name__} inputs={self.input_names} outputs={self.output_names}>"
