"""The on-disk compile cache: a second process gets the compiled code from
disk and computes the same results; a corrupt entry is a miss, never a crash;
the key covers the pipeline options; FLASH_CACHE_DIR=off disables it. It is
guarded like the code it holds: owner-only folder and entries, a checksum
checked before loading, foreign entries and folders others can write never
used; bounded by FLASH_CACHE_MAX_SIZE with least-recently-used eviction;
shared safely by concurrent processes."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = r"""
import sys
import numpy as np
import flashcompile as fc
src = '''func.func @f(%a: tensor<37x29xf32>, %b: tensor<29x13xf32>, %c: tensor<13xf32>) -> tensor<37x13xf32> {
  %0 = flash.matmul %a, %b : (tensor<37x29xf32>, tensor<29x13xf32>) -> tensor<37x13xf32>
  %1 = flash.add %0, %c : (tensor<37x13xf32>, tensor<13xf32>) -> tensor<37x13xf32>
  %2 = flash.relu %1 : tensor<37x13xf32>
  return %2 : tensor<37x13xf32>
}'''
c = fc.compile_mlir(src, options=sys.argv[1])
rng = np.random.default_rng(0)
a, b, bias = (rng.standard_normal(s).astype(np.float32) for s in c.input_shapes)
out = c(a, b, bias)
assert np.allclose(out, np.maximum(a.astype(np.float64) @ b + bias, 0), rtol=1e-4, atol=1e-5)
info = fc.compile_cache_info()
print(info["hits"], info["misses"], float(out.sum()))
"""


def run(cache_dir, options="", **env_vars):
    env = dict(os.environ, FLASH_CACHE_DIR=str(cache_dir), **env_vars)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, options], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    hits, misses, total = proc.stdout.split()
    return int(hits), int(misses), float(total)


def test_second_process_hits_the_cache(tmp_path):
    first = run(tmp_path)
    assert first[:2] == (0, 1)
    assert len(list(tmp_path.glob("*.o"))) == 1
    second = run(tmp_path)
    assert second[:2] == (1, 0)
    assert second[2] == first[2]  # same code, same bits


def test_a_full_disk_skips_the_cache(tmp_path):
    # A full disk (a 4 KiB tmpfs, filled) for the cache and for temporary
    # files: the program is compiled and runs, the cache entry is not kept.
    # (A write error on the cache file, or on the object's temporary file,
    # was a fatal LLVM error that ended the process: "IO failure on output
    # stream: No space left on device" -- CI died so on a full /tmp.)
    if not shutil.which("unshare") or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs a mount namespace (unshare -m) for a small tmpfs")
    full = tmp_path / "full"
    full.mkdir()
    shell = (f'mount -t tmpfs -o size=4k tmpfs "{full}" && '
             f'(head -c 8192 /dev/zero > "{full}/filler" 2>/dev/null; true) && '
             f'exec "{sys.executable}" -c "$SCRIPT" ""')
    env = dict(os.environ, FLASH_CACHE_DIR=str(full / "cache"), TMPDIR=str(full),
               SCRIPT=SCRIPT)
    proc = subprocess.run(["unshare", "-m", "sh", "-c", shell], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    hits, misses, _ = proc.stdout.split()
    assert (int(hits), int(misses)) == (0, 1)


def test_a_compile_leaves_no_perf_dump(tmp_path):
    # LLVM's perf listener (on by default in MLIR's ExecutionEngine) wrote a
    # jit-<pid>.dump of every kernel for every process; it is opt-in now.
    dumps = tmp_path / "dumps"
    run(tmp_path / "cache", JITDUMPDIR=str(dumps))
    assert not dumps.exists() or not any(dumps.rglob("*.dump"))
    run(tmp_path / "cache2", JITDUMPDIR=str(dumps), FLASH_PERF_JITDUMP="1")
    assert any(dumps.rglob("*.dump"))  # the opt-in still works


def test_options_are_part_of_the_key(tmp_path):
    run(tmp_path)
    hits, misses, _ = run(tmp_path, "fuse-elementwise=false")
    assert (hits, misses) == (0, 1)
    assert len(list(tmp_path.glob("*.o"))) == 2


@pytest.mark.parametrize("garbage", [b"", b"not an object file", b"\x7fELF" + b"\0" * 60])
def test_corrupt_entry_is_a_miss_and_is_rebuilt(tmp_path, garbage):
    first = run(tmp_path)
    (entry,) = tmp_path.glob("*.o")
    entry.write_bytes(garbage)
    hits, misses, total = run(tmp_path)
    assert (hits, misses) == (0, 1) and total == first[2]
    assert entry.stat().st_size > 100  # rewritten with real code
    assert run(tmp_path)[:2] == (1, 0)


def test_cache_can_be_disabled(tmp_path):
    hits, misses, _ = run("off")
    assert (hits, misses) == (0, 0)


LOCATIONS = r"""
import numpy as np
import flashcompile as fc
w = np.arange(12, dtype=np.float32).reshape(4, 3)
x = np.ones((2, 4), np.float32)
a = fc.compile(lambda v: fc.relu(v @ w), x)   # the trace's ops carry this line...
fc.clear_cache()
b = fc.compile(lambda v: fc.relu(v @ w), x)   # ...and this one: the same program
assert a.source != b.source
np.testing.assert_array_equal(a(x), b(x))
info = fc.compile_cache_info()
print(info["hits"], info["misses"])
"""


def test_the_key_ignores_locations(tmp_path):
    """A program traced from another line (its ops' locations name the
    caller) is the same code: a hit, not a second compile."""
    env = dict(os.environ, FLASH_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", LOCATIONS], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "1"]
    assert len(list(tmp_path.glob("*.o"))) == 1


TRACED = r"""
import json, sys
import numpy as np
import flashcompile as fc
w = np.random.default_rng(int(sys.argv[1])).standard_normal((70, 33)).astype(np.float32)
x = np.linspace(-1, 1, 5 * 70, dtype=np.float32).reshape(5, 70)
f = fc.compile(lambda v: fc.relu(v @ w) + 1.0, x)
np.testing.assert_allclose(f(x), np.maximum(x.astype(np.float64) @ w, 0) + 1, rtol=1e-5, atol=1e-5)
times = f.compile_times()
again = fc.compile_mlir(f.source)          # the same program as text: the same key
print(json.dumps({"info": fc.compile_cache_info(), "cached": times["cached"],
                  "parse_ms": times["parse"], "source": f.source,
                  "text_cached": again.compile_times()["cached"],
                  "flash_ir": "flash.matmul" in f.ir("flash"),
                  "out": float(f(x).sum())}))
"""


def test_a_traced_program_is_served_from_memory(tmp_path):
    """A traced program (weights and all) is looked up in the cache as the
    tracer built it, without writing and parsing its bytecode: a second
    process hits with no parse time, under the same key as the program's
    text, and its source and stages are still there when asked. Other
    weights are another program."""
    import json

    def traced(seed):
        env = dict(os.environ, FLASH_CACHE_DIR=str(tmp_path))
        proc = subprocess.run([sys.executable, "-c", TRACED, str(seed)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    first = traced(0)
    assert (first["info"]["misses"], first["cached"]) == (1, False)
    assert first["text_cached"]  # the text of what was compiled from bytecode: a hit
    second = traced(0)
    assert second["cached"] and second["parse_ms"] == 0
    assert (second["info"]["hits"], second["info"]["misses"]) == (2, 0)
    assert second["source"] == first["source"] and second["flash_ir"]
    assert second["out"] == first["out"]
    other = traced(1)  # other weights: the key covers the constants' bytes
    assert not other["cached"] and other["info"]["misses"] == 1
    assert other["out"] != first["out"]


# --- A cache that is safe to load from and bounded ---------------------------

INFO = "import flashcompile as fc, json; print(json.dumps(fc.compile_cache_info()))"


def info(cache_dir, **env_vars):
    import json
    env = dict(os.environ, FLASH_CACHE_DIR=str(cache_dir), **env_vars)
    proc = subprocess.run([sys.executable, "-c", INFO], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_folder_and_entries_are_owner_only(tmp_path):
    folder = tmp_path / "new" / "cache"
    run(folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    (entry,) = folder.glob("*.o")
    assert entry.stat().st_mode & 0o777 == 0o600


def test_a_tampered_entry_is_refused_and_replaced(tmp_path):
    """Same size, one byte of the code changed: the checksum sees it, the
    entry is not loaded, the program is compiled again (same result)."""
    first = run(tmp_path)
    (entry,) = tmp_path.glob("*.o")
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))
    hits, misses, total = run(tmp_path)
    assert (hits, misses) == (0, 1) and total == first[2]
    assert run(tmp_path)[:2] == (1, 0)  # replaced by a good entry


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root "
                                              "(CI runs as root)")
def test_an_entry_of_another_user_is_never_loaded(tmp_path):
    run(tmp_path)
    (entry,) = tmp_path.glob("*.o")
    os.chown(entry, 65534, 65534)  # nobody
    hits, misses, _ = run(tmp_path)
    assert (hits, misses) == (0, 1)


def test_an_entry_others_can_write_is_never_loaded(tmp_path):
    run(tmp_path)
    (entry,) = tmp_path.glob("*.o")
    entry.chmod(0o666)
    assert run(tmp_path)[:2] == (0, 1)


def test_a_folder_others_can_write_is_not_used(tmp_path):
    tmp_path.chmod(0o777)
    state = info(tmp_path)
    assert not state["enabled"] and "writable by other users" in state["why_disabled"]
    assert run(tmp_path)[:2] == (0, 0)  # compiled, correct, nothing cached
    assert not list(tmp_path.glob("*.o"))


SIZES = r"""
import os, sys
import numpy as np
import flashcompile as fc
folder, limit = os.environ["FLASH_CACHE_DIR"], int(sys.argv[1])
largest = 0
for n in range(1, 25):   # 24 programs of different shapes: 24 entries
    x = np.ones((n, 3), np.float32)
    c = fc.compile(lambda v: fc.tanh(v * 2.0 + 1.0), x)
    assert np.allclose(c(x), np.tanh(3.0))
    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                if f.endswith(".o"))
    largest = max(largest, total)
    assert total <= limit, (n, total, limit)
print(largest, len([f for f in os.listdir(folder) if f.endswith(".o")]))
"""


def test_the_cache_never_grows_past_its_limit(tmp_path):
    one = run(tmp_path)  # the size of one entry of this kind of program
    entry_bytes = next(tmp_path.glob("*.o")).stat().st_size
    for f in tmp_path.glob("*.o"):
        f.unlink()
    limit = 6 * entry_bytes
    env = dict(os.environ, FLASH_CACHE_DIR=str(tmp_path), FLASH_CACHE_MAX_SIZE=str(limit))
    proc = subprocess.run([sys.executable, "-c", SIZES, str(limit)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    largest, entries = map(int, proc.stdout.split())
    assert largest <= limit and 2 <= entries < 24
    assert one[:2] == (0, 1)
    assert info(tmp_path, FLASH_CACHE_MAX_SIZE="3K")["max_bytes"] == 3 << 10
    assert info(tmp_path, FLASH_CACHE_MAX_SIZE="2G")["max_bytes"] == 2 << 30


def test_the_least_recently_used_entry_goes_first(tmp_path):
    run(tmp_path)                                   # entry A
    run(tmp_path, "fuse-elementwise=false")         # entry B
    a, b = sorted(tmp_path.glob("*.o"), key=lambda p: p.stat().st_mtime)
    os.utime(a, (1, 1))
    os.utime(b, (2, 2))
    assert run(tmp_path)[:2] == (1, 0)              # A used again: now the newest
    limit = a.stat().st_size + b.stat().st_size + 10
    run(tmp_path, "ukernels=false", FLASH_CACHE_MAX_SIZE=str(limit))  # C: one must go
    assert a.exists() and not b.exists()


CONCURRENT = r"""
import sys
import numpy as np
import flashcompile as fc
k = int(sys.argv[1])
for n in (5, 6, 7, 5 + k):   # three programs every process compiles, one of its own
    x = np.full((n, 4), 0.5, np.float32)
    c = fc.compile(lambda v: fc.sigmoid(v @ np.ones((4, 3), np.float32)), x)
    assert np.allclose(c(x), 1 / (1 + np.exp(-2.0)))
"""


def test_concurrent_processes_share_the_cache(tmp_path):
    env = dict(os.environ, FLASH_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(k)], env=env,
                              stderr=subprocess.PIPE, text=True) for k in range(3, 7)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    assert len(list(tmp_path.glob("*.o"))) == 7 and not list(tmp_path.glob("*.tmp-*"))
    state = info(tmp_path)
    assert state["entries"] == 7 and state["refused"] == 0
    # Every entry is whole: a new process loads each of them.
    proc = subprocess.run([sys.executable, "-c", CONCURRENT + "\nprint(fc.compile_cache_info())",
                           "6"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "'misses': 0" in proc.stdout and "'refused': 0" in proc.stdout


def test_cli_shows_and_clears_the_cache(tmp_path):
    run(tmp_path)
    env = dict(os.environ, FLASH_CACHE_DIR=str(tmp_path))
    cli = [sys.executable, "-m", "flashcompile", "cache"]
    out = subprocess.run(cli + ["--stats"], env=env, capture_output=True, text=True).stdout
    assert "entries: 1" in out and "enabled" in out and str(tmp_path) in out
    out = subprocess.run(cli + ["--clear"], env=env, capture_output=True, text=True).stdout
    assert "removed 1 entries" in out and "entries: 0" in out
    assert not list(tmp_path.glob("*.o"))
