"""FlashCompile's logging: the `flashcompile` logger of Python's logging,
with topics a user turns on, in the spirit of TORCH_LOGS and -mlir-timing.

    FLASH_LOGS=timing,passes,cache python3 model.py
    fc.set_log_level("info", topics=["timing"])      # the same from Python

Topics:
  timing   one line per compile: parse, cache, MLIR pipeline, LLVM -O3,
           codegen (ms), and whether it came from the compile cache
  passes   MLIR's per-pass timing of each compile (as -mlir-timing)
  cache    compile-cache hits and misses, with the cache folder
A level name (debug, info, warning) in FLASH_LOGS sets the logger's level;
topics alone log at INFO. Nothing is printed unless asked: the logger has
no handler of its own until FLASH_LOGS or set_log_level gives it one, so an
application's own logging configuration decides otherwise.
"""
from __future__ import annotations

import logging
import os

logger = logging.getLogger("flashcompile")

TOPICS = ("timing", "passes", "cache")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_enabled: set = set()
_handler: logging.Handler | None = None


def set_log_level(level="info", topics=None) -> None:
    """Log FlashCompile's messages at `level` (a logging level or its name)
    to stderr, with the listed topics (TOPICS) turned on; topics=None keeps
    the topics already on. set_log_level("warning", topics=[]) turns it off."""
    global _handler
    if isinstance(level, str):
        if level.lower() not in _LEVELS:
            raise ValueError(f"unknown log level '{level}' (one of {', '.join(_LEVELS)})")
        level = _LEVELS[level.lower()]
    if topics is not None:
        unknown = [t for t in topics if t not in TOPICS]
        if unknown:
            raise ValueError(f"unknown log topic(s) {', '.join(unknown)} "
                             f"(one of {', '.join(TOPICS)})")
        _enabled.clear()
        _enabled.update(topics)
    logger.setLevel(level)
    if _handler is None:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("[flashcompile] %(message)s"))
        logger.addHandler(_handler)


def enabled(topic: str) -> bool:
    """Whether `topic` is on (and the logger would print at INFO)."""
    return topic in _enabled and logger.isEnabledFor(logging.INFO)


def configure_from_environment() -> None:
    """Apply $FLASH_LOGS ("timing,passes,cache", optionally with a level)."""
    spec = os.environ.get("FLASH_LOGS", "").strip()
    if not spec:
        return
    words = [w.strip().lower() for w in spec.replace(" ", ",").split(",") if w.strip()]
    level = next((w for w in words if w in _LEVELS), "info")
    topics = [w for w in words if w not in _LEVELS]
    if "all" in topics:
        topics = list(TOPICS)
    set_log_level(level, topics)


def log_compile(name: str, executable, options: str) -> None:
    """The timing / passes / cache lines of one compile."""
    if not _enabled or not logger.isEnabledFor(logging.INFO):
        return
    t = executable.compile_times()
    if enabled("cache"):
        from .host import cache_folder
        logger.info("cache %s: %s (%s)", "hit" if t["cached"] else "miss", name, cache_folder())
    if enabled("timing"):
        total = sum(t[k] for k in ("parse", "cache", "pipeline", "llvm", "codegen"))
        phases = ", ".join(f"{k} {t[k]:.1f}" for k in ("parse", "cache", "pipeline", "llvm",
                                                        "codegen"))
        logger.info("compile %s%s: %.1f ms (%s)%s", name, f" [{options}]" if options else "",
                    total, phases, " from the cache" if t["cached"] else "")
    if enabled("passes") and t["passes"]:
        logger.info("passes of %s:\n%s", name, t["passes"].rstrip())
