"""Ahead-of-time libraries run from C without FlashCompile, MLIR or LLVM."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import flashcompile as fc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CC = shutil.which("cc") or shutil.which("gcc")


def clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    return env


def test_c_program_runs_exported_mlp(tmp_path):
    env = dict(os.environ)
    subprocess.run([sys.executable, f"{ROOT}/examples/aot/export_mlp.py", str(tmp_path)],
                   check=True, env=env, capture_output=True)
    exe = tmp_path / "mlp"
    subprocess.run([CC, f"{ROOT}/examples/aot/main.c", f"-I{tmp_path}", f"-L{tmp_path}", "-lmlp",
                    f"-Wl,-rpath,{tmp_path}", "-lm", "-o", str(exe)], check=True)
    run = subprocess.run([str(exe), str(tmp_path)], capture_output=True, text=True,
                         env=clean_env())
    assert run.returncode == 0, run.stdout + run.stderr
    assert "worst relative error" in run.stdout
    # Nothing of the compiler is linked in.
    deps = subprocess.run(["ldd", str(tmp_path / "libmlp.so")], capture_output=True,
                          text=True).stdout
    assert "libMLIR" not in deps and "libLLVM" not in deps


def test_header_describes_the_entry(tmp_path):
    x = np.ones((2, 3), np.float32)
    c = fc.compile(lambda x: fc.softmax(x, -1), x)
    paths = c.export_library(str(tmp_path), name="probs")
    text = open(paths["header"]).read()
    assert "static inline void probs(const float *in0, float *out0)" in text
    assert "in0: float32[2][3]" in text and "out0: float32[2][3]" in text
    with pytest.raises(ValueError, match="not a C identifier"):
        c.export_library(str(tmp_path), name="not-an-identifier")


CONV = """
func.func @conv(%x: tensor<1x3x9x9xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %0 = flash.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>,
                            dilation = array<i64: 1, 1>}
       : (tensor<1x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x5x5xf32>
  %1 = flash.max_pool2d %0 {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>,
                            padding = array<i64: 0, 0, 0, 0>}
       : (tensor<1x4x5x5xf32>) -> tensor<1x4x4x4xf32>
  return %1 : tensor<1x4x4x4xf32>
}
"""


def test_cli_stages_dump_and_aot(tmp_path):
    src = tmp_path / "conv.mlir"
    src.write_text(CONV)
    cli = [sys.executable, "-m", "flashcompile"]
    out = subprocess.run(cli + ["stages", str(src)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == fc.stage_names()
    out = subprocess.run(cli + ["ir", str(src), "graph"], capture_output=True, text=True,
                         check=True)
    assert "flash.max_pool2d" in out.stdout
    out = subprocess.run(cli + ["dump", str(src), str(tmp_path / "stages")], capture_output=True,
                         text=True, check=True)
    assert len(out.stdout.split()) == len(fc.stage_names())
    assert "arith.maximumf" in (tmp_path / "stages" / "02-linalg.mlir").read_text()  # the pooling
    out = subprocess.run(cli + ["aot", str(src), str(tmp_path / "lib")], capture_output=True,
                         text=True, check=True)
    assert (tmp_path / "lib" / "libconv.so").exists() and (tmp_path / "lib" / "conv.h").exists()
    bad = subprocess.run(cli + ["ir", str(src), "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 1 and "nonsense" in bad.stderr


OOM_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "huge.h"
int main(void) {
  float *a = calloc(1 << 20, sizeof(float)), *b = calloc(1 << 18, sizeof(float));
  float *w = calloc(1 << 18, sizeof(float)), *out = calloc(1 << 20, sizeof(float));
  char error[256];
  int status = huge_checked(a, b, w, out, error, sizeof error);
  printf("status %d: %s\n", status, status ? error : "ran");
  return 0;
}
"""


def test_checked_entry_reports_out_of_memory(tmp_path):
    # A terabyte intermediate: the _checked form returns -1 with the message
    # (the plain form aborts with it; docs/reliability.md).
    huge = """func.func @huge(%a: tensor<1048576x1xf32>, %b: tensor<1x262144xf32>,
                       %w: tensor<262144x1xf32>) -> tensor<1048576x1xf32> {
  %0 = flash.add %a, %b : (tensor<1048576x1xf32>, tensor<1x262144xf32>) -> tensor<1048576x262144xf32>
  %1 = flash.exp %0 : tensor<1048576x262144xf32>
  %2 = flash.matmul %1, %w : (tensor<1048576x262144xf32>, tensor<262144x1xf32>) -> tensor<1048576x1xf32>
  return %2 : tensor<1048576x1xf32>
}"""
    c = fc.compile_mlir(huge, tuned=False)
    c.export_library(str(tmp_path), name="huge")
    (tmp_path / "main.c").write_text(OOM_C)
    exe = tmp_path / "main"
    subprocess.run([CC, str(tmp_path / "main.c"), f"-I{tmp_path}", f"-L{tmp_path}", "-lhuge",
                    f"-Wl,-rpath,{tmp_path}", "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=clean_env(),
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "status -1: out of memory: the compiled code could not allocate" in run.stdout
