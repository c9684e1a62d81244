"""The on-disk compile cache: a second process gets the compiled code from
disk and computes the same results; a corrupt entry is a miss, never a crash;
the key covers the pipeline options; FLASH_CACHE_DIR=off disables it."""
import os
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


def run(cache_dir, options=""):
    env = dict(os.environ, FLASH_CACHE_DIR=str(cache_dir))
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
