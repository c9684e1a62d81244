"""fc.tune and its database: the search space and cost model, a real
tuning run (local worker processes and Ray), the database's reuse by later
compiles, its invalidation, corruption handling, concurrent writers,
export and merge, and the CLI."""
import json
import multiprocessing
import subprocess
import sys
import warnings

import numpy as np
import pytest

import flashcompile as fc
from flashcompile.tuning import TuningDatabase, spearman, use_database
from flashcompile.tuning.cost_model import HostModel, kernel_efficiency, predict
from flashcompile.tuning.database import shapes_key
from flashcompile.tuning.space import (candidates, default_config, effective, is_default, problem,
                                       problems_of_text)
from flashcompile.tuning.tuner import MARGIN, measurement_order

f32 = np.float32


@pytest.fixture(autouse=True)
def no_database_left_active():
    yield
    use_database(None)


def test_candidates_are_distinct_programs_default_first():
    p = problem("flash.matmul", [(37, 300), (300, 1000)])
    cands = candidates(p, cores=2)
    assert is_default(cands[0])
    keys = [effective(p, c, 2) for c in cands]
    assert len(keys) == len(set(keys))
    # A tiny matmul has few distinct configurations: blocks larger than it merge.
    assert len(candidates(problem("flash.matmul", [(8, 8), (8, 8)]), 2)) < len(cands)


def test_conv_problem_is_its_im2col_gemm():
    p = problem("flash.conv2d", [(8, 3, 32, 32), (16, 3, 3, 3)],
                {"stride": [1, 1], "padding": [1, 1, 1, 1], "dilation": [1, 1]})
    assert (p.batch, p.m, p.k, p.n) == (8, 16, 27, 32 * 32)


def test_problems_from_printed_ir():
    """The tunable ops of Flash IR text, as the native analysis lists them
    (GEMM sizes from the shared cost analysis; no IR read in Python)."""
    text = """func.func @f(%arg0: tensor<2x1x28x28xf32>, %w: tensor<6x1x5x5xf32>, %a: tensor<5x7xf32>, %b: tensor<7x3xf32>) -> (tensor<2x6x28x28xf32>, tensor<5x3xf32>) {
    %2 = flash.conv2d %arg0, %w {dilation = array<i64: 1, 1>, padding = array<i64: 2, 2, 2, 2>, stride = array<i64: 1, 1>} : (tensor<2x1x28x28xf32>, tensor<6x1x5x5xf32>) -> tensor<2x6x28x28xf32>
    %3 = flash.matmul %a, %b {flash.sgemm = array<i64: 1, 2, 3, 4, 0, 0>} : (tensor<5x7xf32>, tensor<7x3xf32>) -> tensor<5x3xf32>
    %4 = flash.relu %3 : tensor<5x3xf32>
    return %2, %4 : tensor<2x6x28x28xf32>, tensor<5x3xf32>
    }"""
    found = problems_of_text(text)
    assert [p.op for p, _ in found] == ["flash.conv2d", "flash.matmul"]
    assert found[0][0].n == 28 * 28 and found[1][0].attrs == {}
    assert found[1][1]["sgemm"] == [1, 2, 3, 4, 0, 0] and found[0][1]["sgemm"] is None


def test_cost_model_sees_spills_and_size():
    assert kernel_efficiency(12, 32) < 0.7 < kernel_efficiency(6, 16)
    host = HostModel()
    small = problem("flash.matmul", [(64, 64), (64, 64)])
    big = problem("flash.matmul", [(512, 512), (512, 512)])
    assert predict(big, default_config(), host) > 50 * predict(small, default_config(), host)


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman([1, 2], [1, 2]) is None


def test_a_winner_must_beat_the_default_beyond_the_noise():
    """The head-to-head's control (a second copy of the default) sets how
    much of a gain is noise: a 5% gain counts when the copies agree, not
    when they differ by 5%; and a real two-program duel returns the noise."""
    from flashcompile.tuning.tuner import _head_to_head, _wins
    assert _wins(1.0, 0.95, 0.0) and not _wins(1.0, 0.95, 0.05) and not _wins(1.0, 0.98, 0.0)
    slow = lambda: sum(range(3000))   # noqa: E731
    fast = lambda: sum(range(1000))   # noqa: E731
    t_default, t_best, noise = _head_to_head(slow, fast, slow, [], rounds=3)
    assert t_best < t_default and 0 <= noise < 1


def test_ops_go_back_to_defaults_when_the_program_is_not_faster(tmp_path):
    """Op parameters that won alone but did not make the whole program
    faster are replaced by the defaults, in the report and the database."""
    from flashcompile.tuning.space import default_config, is_default
    from flashcompile.tuning.tuner import OpResult, _back_to_defaults
    db = TuningDatabase(str(tmp_path / "t.db"))
    tuned = default_config() | {"threads": 2, "mc": 48}
    db.store("flash.matmul", "16x400|400x120", {"sgemm": [48, 0, 0, 2, 0, 0, 0]}, 2e-5, 1e-5, 5)
    results = [OpResult("flash.matmul", "16x400|400x120", "", 10, 5, 2e-5, 1e-5, tuned, None),
               OpResult("flash.matmul", "16x120|120x84", "", 10, 5, 1e-5, 1e-5,
                        default_config(), None)]
    _back_to_defaults(results, db)
    assert all(is_default(o.config) and o.best_s == o.default_s for o in results)
    assert db.lookup("flash.matmul", "16x400|400x120") == {"sgemm": [0] * 7}
    assert db.lookup("flash.matmul", "16x120|120x84") is None  # untouched: never tuned here


def test_measurement_order_mixes_the_best_and_a_spread():
    predicted = [5.0] + list(np.linspace(1, 100, 99))
    order = measurement_order(predicted, 20)
    assert order[0] == 0 and len(order) == 20 == len(set(order))
    assert order[1:4] == [1, 2, 3]  # the model's best first
    assert max(order) > 50          # and some from the far end of its ranking


def _mlp():
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((96, 160), dtype=f32)
    w2 = rng.standard_normal((160, 40), dtype=f32)
    x = rng.standard_normal((24, 96), dtype=f32)
    return (lambda x: fc.matmul(fc.relu(fc.matmul(x, w1)), w2)), x


def test_tune_measures_stores_and_never_slows(tmp_path):
    fn, x = _mlp()
    db = TuningDatabase(str(tmp_path / "t.db"))
    report = fc.tune(fn, (x,), budget=30, db=db, top_k=6, workers=2, progress=False)
    assert len(report.ops) == 2 and report.executor == "2 local processes"
    for op in report.ops:
        assert 2 <= op.measured <= 6 < op.candidates
        # The default is kept unless a candidate beat it by the margin in the
        # duel: either the default config with its own time, or another
        # config at least MARGIN faster (a kept config that lost fails).
        if is_default(op.config):
            assert op.best_s == op.default_s
        else:
            assert op.best_s < op.default_s * (1 - MARGIN)
        assert op.points and all(m > 0 for _, m in op.points)
    assert 0 < report.pruned_share < 1
    assert report.model_default_s > 0 and report.model_tuned_s > 0
    assert "Spearman" in report.table()
    json.dumps(report.to_json())
    # Every measured candidate was written by the worker processes.
    assert len(db.measurements()) == sum(op.measured for op in report.ops)
    assert len([e for e in db.entries() if e["op"] != "program"]) == 2
    # The program-wide knobs were measured too; chosen ones are stored by
    # program and used by the next compile of the same program.
    if report.program_options:
        assert fc.compile(fn, (x,)).options == report.program_options


def test_later_compiles_use_the_database(tmp_path, rng):
    a = rng.standard_normal((50, 70), dtype=f32)
    b = rng.standard_normal((70, 30), dtype=f32)
    db = TuningDatabase(str(tmp_path / "t.db"))
    db.store("flash.matmul", shapes_key([(50, 70), (70, 30)]),
             {"sgemm": [48, 128, 512, 1, 3, 1]}, 1e-3, 5e-4, 4)
    use_database(db)
    compiled = fc.compile(lambda a, b: fc.matmul(a, b) * 2.0, (a, b))
    assert "flash.sgemm = array<i64: 48, 128, 512, 1, 3, 1>" in compiled.source
    np.testing.assert_allclose(compiled(a, b), 2 * (a @ b), rtol=1e-4, atol=1e-4)
    # Eager calls too (a fresh compile of the one-op program).
    assert "flash.sgemm" in fc.lower(fc.matmul, a, b).source
    np.testing.assert_allclose(fc.matmul(a, b), a @ b, rtol=1e-4, atol=1e-4)
    # Another shape has no entry: compiled as before.
    assert "flash.sgemm" not in fc.compile(lambda a: fc.matmul(a, a.T), (a,)).source
    use_database(None)
    assert "flash.sgemm" not in fc.compile(lambda a, b: fc.matmul(a, b), (a, b)).source


def test_entries_from_another_compiler_or_cpu_are_ignored(tmp_path):
    path = str(tmp_path / "t.db")
    db = TuningDatabase(path)
    key = shapes_key([(8, 8), (8, 8)])
    db.store("flash.matmul", key, {"sgemm": [1, 2, 3, 4, 0, 0]}, 1.0, 0.5, 3)
    assert db.lookup("flash.matmul", key) == {"sgemm": [1, 2, 3, 4, 0, 0]}
    other = TuningDatabase(path)
    other.compiler = "another-build"
    assert other.lookup("flash.matmul", key) is None
    other = TuningDatabase(path)
    other.cpu = "another CPU [avx2] x64"
    assert other.lookup("flash.matmul", key) is None
    assert len(db.entries(current_only=False)) == 1


def test_corrupt_database_is_reported_and_rebuilt(tmp_path):
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.warns(RuntimeWarning, match="is corrupt"):
        db = TuningDatabase(str(path))
        assert db.lookup("flash.matmul", "1x1|1x1") is None
    db.store("flash.matmul", "1x1|1x1", {"sgemm": [0] * 6}, 1.0, 1.0, 1)
    assert db.lookup("flash.matmul", "1x1|1x1") == {"sgemm": [0] * 6}
    assert any(p.name.startswith("t.db.corrupt-") for p in tmp_path.iterdir())
    # A truncated file, as a crash mid-write leaves, is handled the same way.
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        db2 = TuningDatabase(str(path))
        db2.lookup("flash.matmul", "1x1|1x1")  # never raises


def _write_many(path, worker):
    db = TuningDatabase(path)
    for i in range(40):
        db.record("flash.matmul", f"{worker}x{i}", {"i": i}, 1.0, 1.0, True)


def test_concurrent_writers(tmp_path):
    path = str(tmp_path / "t.db")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(path, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(TuningDatabase(path).measurements()) == 160


def test_a_locked_database_is_not_taken_for_corrupt(tmp_path, monkeypatch):
    """Another process holding the file's lock is waited for and, past the
    wait, reported as the error it is; the file is never moved aside as
    corrupt (which lost the other writers' rows: seen once in CI, four
    processes recording at once)."""
    import sqlite3
    from flashcompile.tuning import database
    path = tmp_path / "t.db"
    db = TuningDatabase(str(path))
    db.record("flash.matmul", "1x1", {"i": 0}, 1.0, 1.0, True)
    db.close()
    monkeypatch.setattr(database, "_BUSY_SECONDS", 0.3)
    holder = sqlite3.connect(str(path))
    holder.execute("PRAGMA journal_mode = DELETE")  # readers wait too
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            TuningDatabase(str(path)).record("flash.matmul", "1x2", {"i": 1}, 1.0, 1.0, True)
    finally:
        holder.rollback()
        holder.close()
    assert not any(".corrupt-" in p.name for p in tmp_path.iterdir())
    assert len(TuningDatabase(str(path)).measurements()) == 1


def test_export_and_merge(tmp_path):
    a = TuningDatabase(str(tmp_path / "a.db"))
    a.store("flash.matmul", "k1", {"sgemm": [1] * 6}, 2.0, 1.0, 5)
    a.store("flash.matmul", "k2", {"sgemm": [2] * 6}, 2.0, 1.5, 5)
    assert a.export(str(tmp_path / "a.jsonl")) == 2
    b = TuningDatabase(str(tmp_path / "b.db"))
    b.store("flash.matmul", "k2", {"sgemm": [3] * 6}, 2.0, 1.2, 5)  # better than a's k2
    assert b.merge(str(tmp_path / "a.jsonl")) == 1                 # only k1 is taken
    assert b.lookup("flash.matmul", "k1") == {"sgemm": [1] * 6}
    assert b.lookup("flash.matmul", "k2") == {"sgemm": [3] * 6}
    c = TuningDatabase(str(tmp_path / "c.db"))
    assert c.merge(str(tmp_path / "b.db")) == 2


def test_tune_on_ray(tmp_path):
    """The same measurements as Ray tasks on a local Ray instance."""
    import ray  # installed by requirements-test.txt: never skipped
    a = np.random.default_rng(0).standard_normal((40, 64), dtype=f32)
    b = np.random.default_rng(1).standard_normal((64, 48), dtype=f32)
    try:
        report = fc.tune(lambda a, b: fc.matmul(a, b), (a, b), budget=60, top_k=4,
                         db=str(tmp_path / "t.db"), cluster="local", progress=False)
    finally:
        ray.shutdown()
    assert report.executor.startswith("Ray")
    assert report.ops[0].measured == 4
    assert len(TuningDatabase(str(tmp_path / "t.db")).measurements()) == 4


def test_cli_tune_export_merge(tmp_path):
    src = tmp_path / "mm.mlir"
    src.write_text("""func.func @mm(%a: tensor<33x65xf32>, %b: tensor<65x17xf32>) -> tensor<33x17xf32> {
  %0 = flash.matmul %a, %b : (tensor<33x65xf32>, tensor<65x17xf32>) -> tensor<33x17xf32>
  return %0 : tensor<33x17xf32>
}""")
    db = str(tmp_path / "t.db")
    run = lambda *args: subprocess.run([sys.executable, "-m", "flashcompile", *args],  # noqa: E731
                                       capture_output=True, text=True, check=True).stdout
    data = json.loads(run("tune", str(src), "--budget", "20", "--top-k", "3", "--workers", "1",
                          "--db", db, "--json"))
    assert data["ops"][0]["op"] == "flash.matmul" and data["ops"][0]["measured"] == 3
    # One entry for the op, plus one for the program when a program-wide
    # option beat the default (that depends on the timing).
    entries = TuningDatabase(db).entries()
    assert [e["op"] for e in entries if e["op"] != "program"] == ["flash.matmul"]
    n = len(entries)
    assert f"exported {n} entries" in run("tune", "--export", str(tmp_path / "x.jsonl"), "--db", db)
    assert f"merged {n} entries" in run("tune", "--merge", str(tmp_path / "x.jsonl"), "--db",
                                        str(tmp_path / "other.db"))
    assert len(TuningDatabase(str(tmp_path / "other.db")).entries()) == n


def test_text_programs_get_their_tuned_ops(tmp_path, rng):
    """A program compiled from Flash IR text (a .mlir file) picks up the
    database's parameters for its ops, as a traced one does."""
    text = """func.func @mm(%a: tensor<50x70xf32>, %b: tensor<70x30xf32>, %c: tensor<30x30xf32>) -> tensor<50x30xf32> {
  %0 = flash.matmul %a, %b : (tensor<50x70xf32>, tensor<70x30xf32>) -> tensor<50x30xf32>
  %1 = flash.matmul %0, %c {flash.sgemm = array<i64: 0, 0, 0, 1, 0, 0, 0>} : (tensor<50x30xf32>, tensor<30x30xf32>) -> tensor<50x30xf32>
  return %1 : tensor<50x30xf32>
}"""
    db = TuningDatabase(str(tmp_path / "t.db"))
    db.store("flash.matmul", shapes_key([(50, 70), (70, 30)]), {"sgemm": [48, 128, 512, 1, 3, 1, 0]},
             1e-3, 5e-4, 4)
    use_database(db)
    from flashcompile.tuning.tuner import with_tuned_ops
    tuned = problems_of_text(with_tuned_ops(text, db))
    assert tuned[0][1]["sgemm"] == [48, 128, 512, 1, 3, 1, 0]
    assert tuned[1][1]["sgemm"] == [0, 0, 0, 1, 0, 0, 0]  # the op that had parameters keeps its own
    a = rng.standard_normal((50, 70), dtype=f32)
    b = rng.standard_normal((70, 30), dtype=f32)
    c = rng.standard_normal((30, 30), dtype=f32)
    compiled = fc.compile_mlir(text)
    assert "array<i64: 48, 128, 512" in compiled.source
    # The tuner's baseline: the text as it is (a baseline that read the
    # database would hide the ops' gains).
    assert fc.compile_mlir(text, tuned=False).source.count("flash.sgemm") == 1
    np.testing.assert_allclose(compiled(a, b, c), (a @ b) @ c, rtol=1e-4, atol=1e-3)


def test_a_dying_worker_fails_its_candidate_not_the_run():
    """A measuring process that dies (here: killed mid-run) turns into a
    failed candidate with the reason; a fresh worker measures the rest."""
    import signal
    import threading
    import time as _time
    from flashcompile.tuning.measure import LocalPool
    p = problem("flash.matmul", [(300, 300), (300, 300)])
    spec = {"op": p.op, "shapes": p.shapes, "attrs": {}, "batch": 1, "m": 300, "n": 300, "k": 300}
    tasks = [{"problem": spec, "config": c, "min_time": 1.0} for c in candidates(p, 2)[:3]]
    pool = LocalPool(1)
    victim = pool.workers[0]
    threading.Timer(0.5, lambda: victim.send_signal(signal.SIGKILL)).start()
    try:
        start = _time.time()
        results = list(pool.map(tasks))
    finally:
        pool.close()
    assert len(results) == 3
    dead = [r for r in results if not r["ok"]]
    assert dead and "process died" in dead[0]["note"]
    assert any(r["ok"] for r in results)  # the fresh worker went on
    assert _time.time() - start < 60


def test_program_options_try_the_other_batched_convolution_lowering():
    """fc.tune's program search tries (second, so a small budget still
    reaches it) the lowering the default did not take for a convolution
    over more than one image: one product over all images for large
    images, one per image for small ones (the runtime's rule), both for a
    program with one of each; nothing for a single image."""
    from flashcompile.tuning.tuner import BATCHED_CONV_OPTIONS, PROGRAM_OPTIONS, program_options_for
    w = np.ones((4, 3, 3, 3), np.float32)

    def source(*shapes):
        xs = [np.ones(s, np.float32) for s in shapes]
        return fc.jit(lambda *ts: [fc.conv2d(t, w) for t in ts]).lower(*xs).source

    assert fc._flashcompile.conv_batch_as_columns(16, 36)
    assert not fc._flashcompile.conv_batch_as_columns(2, 36)
    assert not fc._flashcompile.conv_batch_as_columns(8, 256)
    large, small = (2, 3, 18, 18), (16, 3, 8, 8)  # 256 and 36 pixels per image
    assert program_options_for(source(large))[1] == BATCHED_CONV_OPTIONS[True]
    assert program_options_for(source(small))[1] == BATCHED_CONV_OPTIONS[False]
    assert set(program_options_for(source(large, small))[1:3]) == set(BATCHED_CONV_OPTIONS.values())
    assert program_options_for(source((1, 3, 8, 8))) == PROGRAM_OPTIONS
