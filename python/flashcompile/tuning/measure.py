"""Measuring candidates: each one compiled as a one-op program with its
flash.sgemm parameters, run on fixed random inputs, checked against the
default configuration's output, and timed.

Where the measurements run: `measure_task` is a plain function of a dict,
so the same code runs in this process, in a pool of local processes (the
default: candidates compile in parallel), or as Ray tasks on a cluster
(`cluster=` a Ray address or "local"). Timing on one machine is serialized
by a file lock, so two candidates never share the cores while timed; the
processes write each result into the tuning database themselves (SQLite,
safe under concurrent writers).
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np

from ..tracing import Trace, compile_trace
from .database import TuningDatabase, default_path, shapes_key
from .space import Problem, as_sgemm, default_config

_default_outputs: dict = {}  # per process: problem key -> the default's output


def _lock_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(default_path())), "tuning.lock")


@contextmanager
def machine_lock():
    """One timed measurement at a time on this machine."""
    path = _lock_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def program(p: Problem, config: dict):
    """The compiled one-op program of `p` with `config`'s parameters."""
    trace = Trace("tune_" + p.op.split(".")[1])
    inputs = [trace.input(s) for s in p.shapes]
    attrs = dict(p.attrs) | {"flash.sgemm": as_sgemm(config)}
    out = trace.op(p.op, inputs, attrs)
    return compile_trace(trace, [out], trace.name, "")


def inputs_for(p: Problem, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s, dtype=np.float32) for s in p.shapes]


def time_call(fn, min_time: float = 0.1, rounds: int = 5) -> float:
    """Seconds per call: the best of `rounds` batch averages, after a
    warm-up (the minimum, as noise on a shared VM only ever adds time)."""
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, int(min_time / rounds / once))
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def measure_task(task: dict) -> dict:
    """Compiles, checks and times one candidate; records it in the
    database at task["db"] (if given). Never raises: failures come back
    as results with ok=False and the reason."""
    spec = dict(task["problem"])  # from JSON: lists where there were tuples
    spec["shapes"] = [tuple(s) for s in spec["shapes"]]
    p = Problem(**spec)
    config = task["config"]
    result = {"config": config, "predicted_s": task.get("predicted_s"), "seconds": None,
              "ok": False, "note": "", "pid": os.getpid()}
    try:
        xs = inputs_for(p, task.get("seed", 0))
        key = p.key()
        if key not in _default_outputs:
            _default_outputs[key] = program(p, default_config())(*xs)
        t0 = time.perf_counter()
        compiled = program(p, config)
        result["compile_s"] = time.perf_counter() - t0
        out = compiled(*xs)
        expected = _default_outputs[key]
        atol = 1e-5 * max(1.0, float(np.sqrt(p.k))) * max(1.0, float(np.abs(expected).max()))
        if not np.allclose(out, expected, rtol=1e-4, atol=atol):
            result["note"] = f"output differs from the default by {np.abs(out - expected).max():.3g}"
        else:
            with machine_lock():
                result["seconds"] = time_call(lambda: compiled(*xs), task.get("min_time", 0.1))
            result["ok"] = True
    except Exception as e:  # noqa: BLE001 - a failing candidate is a result
        result["note"] = f"{type(e).__name__}: {str(e)[:300]}"
    if task.get("db"):
        try:
            TuningDatabase(task["db"]).record(p.op, shapes_key(p.shapes, p.attrs), config,
                                              result["predicted_s"], result["seconds"],
                                              result["ok"], result["note"])
        except Exception as e:  # noqa: BLE001
            result["note"] += f" (not recorded: {e})"
    return result


class InProcess:
    """Runs tasks one by one here (workers=0): for debugging and tiny runs."""
    name = "in-process"

    def map(self, tasks):
        for t in tasks:
            yield measure_task(t)

    def close(self):
        pass


class LocalPool:
    """Local worker processes, each `python -m flashcompile.tuning.worker`
    taking one JSON task per line and answering one JSON result per line.
    Fresh interpreters, not multiprocessing: a spawned child would re-run
    the user's script, and a forked one would inherit a JIT and thread
    pools that do not survive fork."""

    def __init__(self, workers: int):
        self.name = f"{workers} local processes"
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.workers = [self._spawn() for _ in range(workers)]

    def _spawn(self):
        return subprocess.Popen([sys.executable, "-m", "flashcompile.tuning.worker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=self.env, bufsize=1)

    def map(self, tasks):
        pending = list(tasks)
        busy = {}  # stdout fd -> (worker, task)
        idle = list(self.workers)
        while pending or busy:
            while pending and idle:
                worker, task = idle.pop(), pending.pop(0)
                worker.stdin.write(json.dumps(task) + "\n")
                worker.stdin.flush()
                busy[worker.stdout.fileno()] = (worker, task)
            ready, _, _ = select.select(list(busy), [], [])
            for fd in ready:
                worker, task = busy.pop(fd)
                line = worker.stdout.readline()
                if line:
                    idle.append(worker)
                    yield json.loads(line)
                    continue
                # The worker died (a crash in compiled code, or killed): the
                # candidate fails with the reason, a fresh worker takes over.
                code = worker.wait()
                self.workers[self.workers.index(worker)] = fresh = self._spawn()
                idle.append(fresh)
                yield {"config": task["config"], "predicted_s": task.get("predicted_s"),
                       "seconds": None, "ok": False,
                       "note": f"the measuring process died (exit code {code})"}

    def close(self):
        for worker in self.workers:
            try:
                worker.stdin.close()
                worker.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                worker.kill()


class RayPool:
    """Ray tasks, on whatever cluster `address` names ("local" starts one
    here); the measurement code is the same function."""

    def __init__(self, address):
        import ray
        self.ray = ray
        if not ray.is_initialized():
            if address in (None, "local"):
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False,
                         log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
            else:
                ray.init(address=address, log_to_driver=False)
        self.remote = ray.remote(num_cpus=1)(measure_task)
        self.name = f"Ray ({ray.cluster_resources().get('CPU', 0):.0f} CPUs)"

    def map(self, tasks):
        pending = [self.remote.remote(t) for t in tasks]
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            yield self.ray.get(done[0])

    def close(self):
        pass


def executor(workers: int | None, cluster):
    if cluster is not None:
        return RayPool(cluster)
    workers = os.cpu_count() if workers is None else workers
    return InProcess() if workers == 0 else LocalPool(workers)

