"""The package as users get it: a wheel built with pip (scikit-build-core)
installed into a fresh virtual environment and used from outside the source
tree; the console commands; the CI workflow and the container recipe
checked by their linters; logging and progress bars."""
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml

import flashcompile as fc
from flashcompile import logs
from flashcompile.progress import progress

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)   # where pip put this Python's console scripts


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "FLASH_LOGS", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def run(cmd, **kw):
    kw.setdefault("env", clean_env())
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# A program for the installed package: a traced function checked against
# NumPy, an ONNX-free conv + matmul model, the device database (data files)
# and an AOT export (the ukernel archive the wheel ships).
WHEEL_PROGRAM = r"""
import os, sys
import numpy as np
import flashcompile as fc
print("FILE", fc.__file__)
rng = np.random.default_rng(0)
x = rng.standard_normal((3, 8, 13, 11)).astype(np.float32)
w = rng.standard_normal((5, 8, 3, 3)).astype(np.float32)
m = rng.standard_normal((5 * 11 * 9, 7)).astype(np.float32)
f = fc.jit(lambda x, w, m: fc.relu(fc.reshape(fc.conv2d(x, w), (3, -1)) @ m))
got = f(x, w, m)
conv = np.zeros((3, 5, 11, 9), np.float32)
for i in range(3):
    for j in range(3):
        conv += np.einsum("nchw,oc->nohw", x[:, :, i:i + 11, j:j + 9], w[:, :, i, j])
want = np.maximum(conv.reshape(3, -1) @ m, 0)
err = float(np.abs(got - want).max() / np.abs(want).max())
print("ERR", err)
print("DEVICES", len(list(fc.devices)))
c = fc.compile(lambda a: fc.softmax(a, -1), np.ones((2, 5), np.float32))
print("AOT", sorted(c.export_library(sys.argv[1], "softmax")))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built by pip from the repository (in the developers' build
    folder, so nothing is compiled twice; FLASH_WHEEL_BUILD_DIR=... for a
    build from nothing)."""
    out = tmp_path_factory.mktemp("wheel")
    build_dir = os.environ.get("FLASH_WHEEL_BUILD_DIR", os.path.join(ROOT, "build"))
    r = run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
             "-q", "-w", str(out), "-C", f"build-dir={build_dir}", ROOT], timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels = [p for p in os.listdir(out) if p.endswith(".whl")]
    assert len(wheels) == 1, wheels
    return out / wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh virtual environment (no system packages) with the wheel and
    its one dependency, NumPy."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    r = run([sys.executable, "-m", "venv", str(env_dir)])
    assert r.returncode == 0, r.stderr
    py = env_dir / "bin" / "python"
    r = run([str(py), "-m", "pip", "install", "-q", str(wheel)], timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return env_dir


def test_wheel_holds_the_native_module_runtime_tools_and_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("flashcompile/_flashcompile") and n.endswith(".so") for n in names)
    assert "flashcompile/runtime/libflash_ukernels.a" in names
    assert "flashcompile/bin/flash-peak" in names
    for tool in ("flash-opt", "flash-run"):
        assert any(n.endswith(f".data/scripts/{tool}") for n in names), tool
    assert any(n.startswith("flashcompile/sim/devices/") and n.endswith(".toml") for n in names)
    # Every file of the source package is in the wheel (data files too).
    source = os.path.join(ROOT, "python", "flashcompile")
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            rel = os.path.relpath(os.path.join(folder, f), os.path.dirname(source))
            assert rel in names, rel
    assert not [n for n in names if "__pycache__" in n]
    entry_points = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points[0]).decode()
    assert "flashcompile = flashcompile.__main__:main" in text
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("METADATA"))).decode()
    assert f"Version: {fc.__version__}" in metadata
    # The core needs NumPy only; the heavy parts are extras.
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [line for line in requires if "extra ==" not in line]
    assert [line.split()[1].split(">")[0] for line in core] == ["numpy"], core
    for extra in ("onnx", "torch", "plot", "tune", "test", "gpu"):
        assert f"Provides-Extra: {extra}" in metadata


def test_installed_wheel_runs_a_model_outside_the_source_tree(venv, tmp_path):
    out = tmp_path / "aot"
    out.mkdir()
    script = tmp_path / "program.py"
    script.write_text(WHEEL_PROGRAM)
    # From another folder, with no source folder on sys.path.
    r = run([str(venv / "bin" / "python"), str(script), str(out)], cwd=tmp_path,
            env=clean_env(FLASH_CACHE_DIR=str(tmp_path / "cache")), timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert lines["FILE"].startswith(str(venv)), lines["FILE"]
    assert not lines["FILE"].startswith(ROOT)
    assert float(lines["ERR"]) < 1e-5
    assert int(lines["DEVICES"]) > 10
    assert (out / "libsoftmax.so").exists() and (out / "softmax.h").exists()


def test_installed_console_commands(venv, tmp_path):
    bin_dir = venv / "bin"
    r = run([str(bin_dir / "flashcompile"), "--version"], cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"flashcompile {fc.__version__}", r
    for tool in ("flash-opt", "flash-run"):
        r = run([str(bin_dir / tool), "--version"], cwd=tmp_path)
        assert r.returncode == 0 and f"FlashCompile {fc.__version__}" in r.stdout, r
        r = run([str(bin_dir / tool), "--help"], cwd=tmp_path)
        assert r.returncode == 0 and "USAGE" in r.stdout, r
    src = tmp_path / "relu.mlir"
    src.write_text("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
                   "  %y = flash.relu %x : tensor<4xf32>\n"
                   "  return %y : tensor<4xf32>\n}\n")
    r = run([str(bin_dir / "flashcompile"), "stages", str(src)], cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.split()[0] == "flash", r
    r = run([str(bin_dir / "flash-opt"), str(src), "--flash-to-linalg"], cwd=tmp_path)
    assert r.returncode == 0 and "linalg." in r.stdout, r


@pytest.mark.parametrize("command", ["stages", "ir", "dump", "aot", "devices", "calibrate",
                                     "simulate", "compare", "place", "analyze", "tune"])
def test_every_subcommand_has_help(command):
    r = run([os.path.join(BIN, "flashcompile"), command, "--help"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: flashcompile {command}")


def test_command_line_exit_codes(tmp_path):
    cli = os.path.join(BIN, "flashcompile")
    r = run([cli, "--version"])
    assert r.returncode == 0 and fc.__version__ in r.stdout
    r = run([cli])                                   # no command: usage error
    assert r.returncode == 2 and "usage: flashcompile" in r.stderr
    r = run([cli, "frobnicate"])
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = run([cli, "ir", str(tmp_path / "missing.mlir"), "flash"])
    assert r.returncode == 1 and "missing.mlir" in r.stderr
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f(%x: tensor<4xf32>) -> tensor<5xf32> {\n"
                   "  return %x : tensor<4xf32>\n}\n")
    r = run([cli, "stages", str(bad)])
    assert r.returncode == 1 and "bad.mlir:2" in r.stderr, r.stderr


def test_the_suite_runs_this_trees_installed_package():
    """scripts/setup.sh installed this tree's package: the tests import it
    from site-packages, byte for byte what this tree and build hold."""
    assert not fc.__file__.startswith(os.path.join(ROOT, "python")), fc.__file__
    r = run([sys.executable, os.path.join(ROOT, "scripts", "package_is_current.py"), ROOT,
             os.path.join(ROOT, "build")], cwd="/")
    assert r.returncode == 0, "the installed flashcompile is not this tree's: bash scripts/setup.sh"


def test_pythonpath_still_selects_another_tree():
    """The seeded-bug and mutation campaigns run other builds through
    PYTHONPATH: the installed package must not take precedence (an editable
    install's import hook would)."""
    tree = os.path.join(ROOT, "build", "python_packages")
    r = run([sys.executable, "-c", "import flashcompile; print(flashcompile.__file__)"],
            env=clean_env(PYTHONPATH=tree), cwd="/")
    assert r.returncode == 0 and r.stdout.strip().startswith(tree), r.stdout + r.stderr


def test_python_dash_m_is_the_same_command():
    a = run([sys.executable, "-m", "flashcompile", "--help"])
    b = run([os.path.join(BIN, "flashcompile"), "--help"])
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout


# --- CI workflow and container --------------------------------------------

def _readme_commands():
    text = open(os.path.join(ROOT, "README.md")).read()
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_readme_starts_with_the_demo_and_test_commands():
    commands = _readme_commands()
    assert commands[:2] == ["bash scripts/demo.sh", "bash scripts/test.sh"], commands
    assert "bash scripts/test.sh" in open(os.path.join(ROOT, ".ci", "run")).read()


def test_ci_workflow_is_valid_and_runs_the_readme_test_command():
    path = os.path.join(ROOT, ".github", "workflows", "ci.yml")
    # actionlint is not installable here (its PyPI package downloads the
    # binary from GitHub when built): the workflow is checked against
    # GitHub's workflow schema (check-jsonschema's vendored copy) and its
    # shell steps with shellcheck, the two checks actionlint runs.
    r = run([os.path.join(BIN, "check-jsonschema"), "--builtin-schema",
             "vendor.github-workflows", path])
    assert r.returncode == 0, r.stdout + r.stderr
    workflow = yaml.safe_load(open(path))
    (job,) = workflow["jobs"].values()
    assert job["container"] == "debian:12"
    steps = [s.get("run", "") for s in job["steps"]]
    assert steps[-1] == _readme_commands()[1]
    for index, script in enumerate(s for s in steps if s):
        r = run([os.path.join(BIN, "shellcheck"), "--shell=bash", "-"], input=script)
        assert r.returncode == 0, f"step {index}: {r.stdout}"


def test_scripts_pass_shellcheck():
    scripts = [os.path.join(ROOT, "scripts", s) for s in
               ("setup.sh", "test.sh", "demo.sh", "python.sh")] + [os.path.join(ROOT, ".ci", "run")]
    r = run([os.path.join(BIN, "shellcheck"), "-x", *scripts], cwd=ROOT)
    assert r.returncode == 0, r.stdout


def test_dockerfile_lints_and_is_the_readme_setup():
    path = os.path.join(ROOT, "Dockerfile")
    r = run([os.path.join(BIN, "hadolint"), path])
    assert r.returncode == 0, r.stdout + r.stderr
    lines = open(path).read().splitlines()
    assert lines[[i for i, l in enumerate(lines) if l.startswith("FROM")][0]] == "FROM debian:12"
    text = open(path).read()
    assert f"RUN {_readme_commands()[0]}" in text
    assert 'CMD ["bash", "scripts/demo.sh"]' in text


# --- logging and progress ---------------------------------------------------

def test_flash_logs_prints_the_compile_breakdown(tmp_path):
    program = ("import numpy as np, flashcompile as fc\n"
               "fc.jit(lambda x: fc.relu(x) * 2)(np.ones((3, 5), np.float32))\n")
    env = clean_env(FLASH_LOGS="timing,passes,cache", FLASH_CACHE_DIR=str(tmp_path))
    first = run([sys.executable, "-c", program], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "[flashcompile] cache miss:" in first.stderr
    timing = [l for l in first.stderr.splitlines() if "] compile " in l]
    assert timing and all(k in timing[0] for k in ("parse", "pipeline", "llvm", "codegen"))
    assert "OneShotBufferize" in first.stderr       # MLIR's per-pass report
    second = run([sys.executable, "-c", program], env=env, cwd=tmp_path)
    assert "[flashcompile] cache hit:" in second.stderr and "from the cache" in second.stderr
    quiet = run([sys.executable, "-c", program], env=clean_env(FLASH_CACHE_DIR=str(tmp_path)),
                cwd=tmp_path)
    assert quiet.returncode == 0 and "[flashcompile]" not in quiet.stderr


def test_set_log_level_from_python(caplog):
    try:
        fc.set_log_level("info", topics=["timing"])
        with caplog.at_level(logging.INFO, logger="flashcompile"):
            fc.compile_mlir("func.func @g(%x: tensor<6xf32>) -> tensor<6xf32> {\n"
                            "  %y = flash.exp %x : tensor<6xf32>\n"
                            "  return %y : tensor<6xf32>\n}\n", name="<logged>")
        assert any("compile <logged>" in r.getMessage() for r in caplog.records)
        with pytest.raises(ValueError, match="unknown log topic"):
            fc.set_log_level("info", topics=["everything"])
        with pytest.raises(ValueError, match="unknown log level"):
            fc.set_log_level("loud")
    finally:
        fc.set_log_level("warning", topics=[])
    assert not logs.enabled("timing")


def test_compile_times_add_up():
    c = fc.compile_mlir("func.func @h(%x: tensor<9xf32>) -> tensor<9xf32> {\n"
                        "  %y = flash.tanh %x : tensor<9xf32>\n"
                        "  return %y : tensor<9xf32>\n}\n", name="<times>")
    t = c.compile_times()
    assert all(t[k] >= 0 for k in ("parse", "cache", "pipeline", "llvm", "codegen"))
    assert t["passes"] == ""            # not asked for
    if not t["cached"]:
        assert t["pipeline"] > 0 and t["codegen"] > 0


class _Terminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with progress(3, "work") as bar:
        for _ in range(3):
            bar.update()
    assert "work" in sys.stderr.text                  # tqdm drew on the terminal
    monkeypatch.setattr(sys, "stderr", open(os.devnull, "w"))
    bar = progress(3, "work")
    assert type(bar).__name__ == "_Silent"            # not a terminal: nothing drawn
    assert type(progress(3, "work", enabled=False)).__name__ == "_Silent"
