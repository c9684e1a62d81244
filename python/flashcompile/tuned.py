"""Tuned parameters, as the compiler reads them: the one narrow, read-only
way what fc.tune found reaches a compile.

compile_mlir asks `apply` once per compile. The native module lists the
program's tunable ops as data (op, operand shapes, cost-relevant
attributes: the shared cost analysis, no IR text read in Python); each op
the source has parameters for gets them as its flash.sgemm attribute
(set by MLIR on the parsed module), and the program its tuned pipeline
options when the caller gave none.

The source is any object with `lookup(op, key) -> dict | None` (a
TuningDatabase). The package sets the default (flashcompile/__init__.py:
the database in the cache folder, if there is one) and
fc.tuning.use_database another; caches of compiled code register a
callback with `on_change` and are cleared when it changes. This module
imports neither the tuner nor the caches.
"""
from __future__ import annotations

import hashlib

from . import _flashcompile as _native

# Ops whose ukernel parameters are tuned (each runs as sgemm calls).
TUNABLE_OPS = ("flash.matmul", "flash.batch_matmul", "flash.conv2d")

_state: dict = {"source": None, "default": None, "resolved": False}
_callbacks: list = []


def set_default(factory) -> None:
    """`factory()` gives the source used until `use` names another (it is
    called on the first compile that needs it)."""
    _state.update(default=factory, resolved=False, source=None)


def use(source) -> None:
    """Makes later compiles read `source` (None: none) and clears every
    registered cache of code compiled with the old one."""
    _state.update(source=source, resolved=True)
    for callback in list(_callbacks):
        callback()


def on_change(callback):
    """Registers a cache-clearing callback (usable as a decorator)."""
    _callbacks.append(callback)
    return callback


def active():
    """The source compiles read now, or None."""
    if not _state["resolved"]:
        _state["resolved"] = True
        factory = _state["default"]
        _state["source"] = factory() if factory else None
    return _state["source"]


def shapes_key(shapes, attrs=None) -> str:
    """An op's key: operand shapes and the attributes that change its cost."""
    key = "|".join("x".join(str(d) for d in s) for s in shapes)
    if attrs:
        key += "|" + ",".join(f"{k}={list(v) if isinstance(v, (list, tuple)) else v}"
                              for k, v in sorted(attrs.items()))
    return key


def program_key(source: str) -> str:
    """A whole program's key: a hash of its Flash IR text as given to the
    compiler (before its ops get their tuned parameters)."""
    return hashlib.sha256(source.encode()).hexdigest()[:24]


def _lookup(source, op: str, key: str):
    try:
        return source.lookup(op, key)
    except Exception:  # noqa: BLE001 - a locked or unreadable database never breaks a compile
        return None


def op_parameters(text: str, entry: str = "", source=None) -> dict:
    """{tunable op index: flash.sgemm parameters} the source has for the
    program's ops (ops that carry parameters keep theirs)."""
    source = source if source is not None else active()
    if source is None or not any(op in text for op in TUNABLE_OPS):
        return {}
    params = {}
    for op in _native.tunable_ops(text, entry):
        if op["sgemm"] is not None:
            continue
        config = _lookup(source, op["op"], shapes_key(op["shapes"], op["attrs"]))
        sgemm = config.get("sgemm") if isinstance(config, dict) else None
        if sgemm and any(sgemm):
            params[op["index"]] = [int(v) for v in sgemm]
    return params


def consulted(source=None) -> bool:
    """Whether `apply` reads the program (a database is in use)."""
    return (source if source is not None else active()) is not None


def apply(text: str, entry: str = "", options: str = "", source=None) -> tuple[str, str]:
    """(text, options) to compile: the program with its ops' tuned
    parameters, and its tuned options when `options` is empty."""
    source = source if source is not None else active()
    if source is None:
        return text, options
    if not options:
        config = _lookup(source, "program", program_key(text))
        options = (config or {}).get("options", "") or options
    params = op_parameters(text, entry, source)
    if params:
        text = _native.with_sgemm(text, entry, params)
    return text, options
