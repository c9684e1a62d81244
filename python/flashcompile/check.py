"""fc.check_devices: the same model on every target that runs here, each
output compared with the host's, as the "every device gives the same
answer" check; the targets that only build here are compiled (so their
pipelines are exercised) and listed as not run. The "stablehlo" row is the
model exported with fc.export_stablehlo and run by IREE (the path to XLA's
devices, TPUs included), when IREE is installed."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compiled import targets as _targets
from .importers.stablehlo_export import export_stablehlo
from .jit import compile as _compile
from .multidevice import stablehlo_run


@dataclass
class DeviceCheck:
    target: str
    ran: bool
    max_abs: list = field(default_factory=list)   # per output, vs the host
    max_rel: list = field(default_factory=list)   # max |d| / max |host|
    note: str = ""


@dataclass
class DeviceReport:
    rows: list

    @property
    def worst(self) -> float:
        """The largest relative difference of any output on any target."""
        return max((r for row in self.rows for r in row.max_rel), default=0.0)

    def table(self) -> str:
        lines = [f"{'target':<12} {'ran':<4} {'max abs diff':>13} {'max rel diff':>13}  note"]
        for r in self.rows:
            a = f"{max(r.max_abs):.3g}" if r.max_abs else "-"
            m = f"{max(r.max_rel):.3g}" if r.max_rel else "-"
            lines.append(f"{r.target:<12} {'yes' if r.ran else 'no':<4} {a:>13} {m:>13}  {r.note}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _outputs(value) -> list:
    return [np.asarray(v) for v in (value if isinstance(value, (tuple, list)) else [value])]


def check_devices(fn_or_model, example_inputs, targets=None) -> DeviceReport:
    """Compiles `fn_or_model` for every target (or the named ones), runs it
    on `example_inputs` where the target runs here, and reports the largest
    difference of each output from the host's."""
    args = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) \
        else (example_inputs,)
    reference = _outputs(_compile(fn_or_model, args)(*args))
    rows = [DeviceCheck("host", True, [0.0] * len(reference), [0.0] * len(reference),
                        "the reference")]
    for info in _targets():
        name = info["name"]
        if name == "host" or (targets is not None and name not in targets):
            continue
        compiled = _compile(fn_or_model, args, target=name)
        if not compiled.runnable:
            rows.append(DeviceCheck(name, False, note=f"built: {len(compiled.gpu.launches)} "
                                                      f"kernel launches; no such device here"))
            continue
        rows.append(_compare(name, _outputs(compiled(*args)), reference))
    if targets is None or "stablehlo" in targets:
        rows.append(_stablehlo_row(fn_or_model, args, reference))
    return DeviceReport(rows)


def _compare(name, got, reference, note="") -> DeviceCheck:
    row = DeviceCheck(name, True, note=note)
    for g, want in zip(got, reference):
        diff = float(np.max(np.abs(g - want))) if want.size else 0.0
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        row.max_abs.append(diff)
        row.max_rel.append(diff / scale if scale else diff)
    return row


def _stablehlo_row(fn_or_model, args, reference) -> DeviceCheck:
    if not stablehlo_run.available():
        return DeviceCheck("stablehlo", False, note="IREE is not installed (pip install "
                                                    "iree-base-compiler iree-base-runtime)")
    program = fn_or_model if hasattr(fn_or_model, "trace") or \
        hasattr(getattr(fn_or_model, "compiled", None), "trace") else _compile(fn_or_model, args)
    text = export_stablehlo(program)
    got = stablehlo_run.run_stablehlo(text, *args)
    return _compare("stablehlo", _outputs(got), reference, "fc.export_stablehlo, run by IREE")
