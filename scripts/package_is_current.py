"""Whether the flashcompile installed in this Python is what `pip install .`
from this tree and build folder installed last: every file of
python/flashcompile byte for byte, and the native module, the runtime
archive and the tools as recorded at that install (the installed binaries
are not byte-equal to the build's: CMake's install rewrites their run path).
scripts/setup.sh reinstalls otherwise (another checkout may have installed
its own copy since, or the build changed).

    python3 scripts/package_is_current.py ROOT BUILD            # exit 0: current
    python3 scripts/package_is_current.py ROOT BUILD --record   # after an install
"""
import filecmp
import hashlib
import importlib.util
import json
import os
import sys
import sysconfig


def _installed_folder():
    spec = importlib.util.find_spec("flashcompile")   # found, not imported
    return os.path.dirname(os.path.abspath(spec.origin)) if spec and spec.origin else None


def _binaries(build: str, installed: str) -> list:
    """(built, installed) pairs of the compiled files."""
    built = os.path.join(build, "python_packages", "flashcompile")
    native = [f for f in os.listdir(built) if f.startswith("_flashcompile") and f.endswith(".so")]
    scripts = sysconfig.get_paths()["scripts"]
    return ([(os.path.join(built, f), os.path.join(installed, f)) for f in native]
            + [(os.path.join(built, "runtime", "libflash_ukernels.a"),
                os.path.join(installed, "runtime", "libflash_ukernels.a")),
               (os.path.join(build, "bin", "flash-peak"), os.path.join(installed, "bin", "flash-peak"))]
            + [(os.path.join(build, "bin", t), os.path.join(scripts, t))
               for t in ("flash-opt", "flash-run")])


def _digest(path: str) -> str:
    if not os.path.exists(path):
        return "missing"
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(root: str, build: str, record: bool) -> int:
    installed = _installed_folder()
    if installed is None or installed.startswith(os.path.join(build, "")):
        return 1
    state = {b: [_digest(b), _digest(i)] for b, i in _binaries(build, installed)}
    stamp = os.path.join(build, ".pip-install-stamp.json")
    if record:
        with open(stamp, "w") as f:
            json.dump({"python": sys.executable, "binaries": state}, f, indent=1)
        return 0
    try:
        with open(stamp) as f:
            recorded = json.load(f)
    except (OSError, ValueError):
        return 1
    if recorded.get("python") != sys.executable or recorded.get("binaries") != state:
        return 1
    source = os.path.join(root, "python", "flashcompile")
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = os.path.join(folder, name)
            copy = os.path.join(installed, os.path.relpath(path, source))
            if not os.path.exists(copy) or not filecmp.cmp(path, copy, shallow=False):
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
                  "--record" in sys.argv[3:]))
