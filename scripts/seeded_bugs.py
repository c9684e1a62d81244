"""Hand-written seeded bugs: each is applied to a copy of the repository,
the copy is rebuilt when the bug is in C++, and the tests that should see
it are run. A bug the tests do not see is a survivor: it needs a test or a
written reason (docs/testing.md).

    python3 scripts/seeded_bugs.py            # all of them
    python3 scripts/seeded_bugs.py rsub-swap  # by name
    python3 scripts/seeded_bugs.py --list

The first four are the bugs issue 20 found passing the whole suite; the
C++ ones mutate the lowering where plausible bugs live (padding, strides,
reduction init, epsilon, broadcast maps, pooling counts). The copy lives in
build/seeded-bugs (its own build folder, ccache shared), never in the
working tree, so an interrupted run leaves the sources untouched.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COPY = os.path.join(ROOT, "build", "seeded-bugs")


@dataclass
class Bug:
    name: str
    file: str          # relative to the repository
    old: str           # must occur exactly once
    new: str
    tests: list        # pytest arguments: files, node ids, "-k", expression
    why: str

    @property
    def native(self) -> bool:
        return not self.file.endswith(".py")


BUGS = [
    Bug("rsub-swap", "python/flashcompile/tracing.py",
        'return OPERATORS["sub"](other, self)', 'return OPERATORS["sub"](self, other)',
        ["test/python/test_tracing.py"], "1.0 - t traced as t - 1"),
    Bug("rtruediv-swap", "python/flashcompile/tracing.py",
        'return OPERATORS["div"](other, self)', 'return OPERATORS["div"](self, other)',
        ["test/python/test_tracing.py"], "2 / t traced as t / 2"),
    Bug("rpow-swap", "python/flashcompile/tracing.py",
        'return OPERATORS["pow"](other, self)', 'return OPERATORS["pow"](self, other)',
        ["test/python/test_tracing.py"], "2 ** t traced as t ** 2"),
    Bug("same-padding-odd-top-left", "python/flashcompile/importers/pytorch.py",
        "padding = (total[0] // 2, total[1] // 2, total[0] - total[0] // 2,\n"
        "                       total[1] - total[1] // 2)",
        "padding = (total[0] - total[0] // 2, total[1] - total[1] // 2, total[0] // 2,\n"
        "                       total[1] // 2)",
        ["test/python/test_pytorch_import.py"], "padding='same': the odd row/column at the top/left"),
    Bug("count-include-pad-ignored", "python/flashcompile/importers/pytorch.py",
        'count_include_pad=bool(n.get("count_include_pad", True))', "count_include_pad=True",
        ["test/python/test_pytorch_import.py"], "avg_pool2d's count_include_pad=False ignored"),
    Bug("layer-norm-eps-x10", "python/flashcompile/ops.py",
        '"epsilon": float(eps)})\n\n\ndef batch_norm', '"epsilon": float(eps) * 10})\n\n\ndef batch_norm',
        ["test/python/test_op_set.py"], "layer_norm's epsilon multiplied by 10"),
    # C++: the lowering.
    Bug("pad-low-high-swapped", "lib/Conversion/FlashToLinalg/Convolution.cpp",
        "SmallVector<int64_t> low = {0, 0, pad[0], pad[1]};\n  SmallVector<int64_t> high = {0, 0, pad[2], pad[3]};",
        "SmallVector<int64_t> low = {0, 0, pad[2], pad[3]};\n  SmallVector<int64_t> high = {0, 0, pad[0], pad[1]};",
        ["test/python/test_op_set.py"], "asymmetric padding applied the wrong way round"),
    Bug("pool-stride-dims-swapped", "lib/Conversion/FlashToLinalg/Convolution.cpp",
        "{n, c, oh * stride[0] + kh, ow * stride[1] + kw}",
        "{n, c, oh * stride[1] + kh, ow * stride[0] + kw}",
        ["test/python/test_op_set.py"], "pooling with the strides of H and W exchanged"),
    Bug("max-reduction-init-zero", "lib/Conversion/FlashToLinalg/Reduction.cpp",
        "float identity = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;",
        "float identity = 0.0f;",
        ["test/python/test_op_set.py"], "max reduction starting at 0 instead of -inf"),
    Bug("norm-eps-x10", "lib/Dialect/Flash/Transforms/Decompose.cpp",
        "scalar(b, loc, epsilon.convertToFloat())", "scalar(b, loc, 10 * epsilon.convertToFloat())",
        ["test/python/test_op_set.py"], "layer/batch norm epsilon multiplied by 10 in the decomposition"),
    Bug("broadcast-map-size-2", "lib/Conversion/FlashToLinalg/Elementwise.cpp",
        "bool broadcast = size == 1 && resultType.getDimSize(resultDim) != 1;",
        "bool broadcast = size == 1 && resultType.getDimSize(resultDim) > 2;",
        ["test/python/test_op_set.py"], "a size-1 dimension broadcast to 2 read as if it had 2 elements"),
    Bug("avg-count-first-kernel-dim", "lib/Conversion/FlashToLinalg/Convolution.cpp",
        "      if (op.getCountIncludePad())\n        return kernel[dim];",
        "      if (op.getCountIncludePad())\n        return kernel[0];",
        ["test/python/test_op_set.py"], "avg pooling divides by KH for both dimensions"),
    Bug("attention-without-exponent", "lib/Analysis/OpCost.cpp",
        "if (!scores || !one || !exponent)", "if (!scores || !one)",
        ["test/python/test_simulator.py", "-k", "attention"],
        "any product fed by another through elementwise ops priced as fused attention"),
    Bug("cache-distance-without-own-bytes", "python/flashcompile/sim/memory.py",
        "                    seen = seen or other == t\n                    if seen:\n"
        "                        distance += nbytes",
        "                    if seen:\n                        distance += nbytes\n"
        "                    seen = seen or other == t",
        ["test/python/test_simulator.py", "-k", "l2"],
        "a tensor's reuse distance leaves out its own bytes: one larger than L2 still hits"),
    Bug("implicit-gemm-reads-overwritten-input", "lib/Codegen/MatmulToUkernel.cpp",
        "        return root == rootOf(c) || (epi && root == rootOf(epi->out));",
        "        return false;",
        ["test/python/test_matmul_ukernel.py", "-k", "overwrites"],
        "the implicit GEMM reads an input the call's own epilogue overwrites in place"),
    Bug("im2col-pack-ignores-padding", "lib/Runtime/Ukernels/Im2colPack.cpp",
        "        if (iy >= 0 && iy < s.h) {",
        "        if (true) {",
        ["test/python/test_matmul_ukernel.py", "-k", "implicit_gemm_conv"],
        "padded rows read the image's first row instead of zeros"),
]


def run(cmd, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd or COPY, env=env, capture_output=True, text=True)


def fresh_copy():
    """The working tree's sources (not its build) in COPY."""
    os.makedirs(COPY, exist_ok=True)
    for part in ("CMakeLists.txt", "cmake", "include", "lib", "python", "test", "tools",
                 "benchmarks"):
        src, dst = os.path.join(ROOT, part), os.path.join(COPY, part)
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)


def build_copy() -> str | None:
    """Builds COPY/build (configured once); None, or the error."""
    build = os.path.join(COPY, "build")
    env = dict(os.environ, CCACHE_BASEDIR=COPY, CCACHE_NOHASHDIR="true")
    if not os.path.exists(os.path.join(build, "build.ninja")):
        r = run(["cmake", "-G", "Ninja", "-S", COPY, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                 "-DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir", f"-DPython_EXECUTABLE={sys.executable}",
                 "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"], env=env)
        if r.returncode:
            return r.stderr[-2000:]
    r = run(["ninja", "-C", build, "-j2"], env=env)
    return r.stdout[-2000:] + r.stderr[-2000:] if r.returncode else None


def tests_see(bug: Bug) -> tuple:
    """(caught, what ran): lit for a C++ bug, then the bug's pytest files."""
    env = dict(os.environ, PYTHONPATH=os.path.join(COPY, "build", "python_packages"))
    if bug.native:
        lit = run(["/usr/lib/llvm-22/bin/lit", "-q", os.path.join(COPY, "build", "test")], env=env)
        if lit.returncode:
            return True, "lit failed"
    r = run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *bug.tests],
            env=env)
    last = (r.stdout.strip().splitlines() or ["?"])[-1]
    return r.returncode != 0, f"pytest: {last}"


def apply(bug: Bug, mutate: bool):
    path = os.path.join(COPY, bug.file)
    text = open(os.path.join(ROOT, bug.file)).read()
    if text.count(bug.old) != 1:
        raise SystemExit(f"{bug.name}: the text to mutate occurs {text.count(bug.old)} times "
                         f"in {bug.file} (the source moved: update the bug)")
    open(path, "w").write(text.replace(bug.old, bug.new) if mutate else text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    bugs = [b for b in BUGS if not args.names or b.name in args.names]
    if args.list:
        for b in bugs:
            print(f"{b.name:<28} {b.file}: {b.why}")
        return
    fresh_copy()
    if why := build_copy():
        raise SystemExit(f"the unmutated copy does not build:\n{why}")
    survivors = []
    for bug in bugs:
        start = time.time()
        apply(bug, True)
        try:
            why = build_copy() if bug.native else None
            caught, what = (True, "build failed: " + why[-200:]) if why else tests_see(bug)
        finally:
            apply(bug, False)
        print(f"{'caught  ' if caught else 'SURVIVED'} {bug.name:<28} {what} "
              f"({time.time() - start:.0f} s)", flush=True)
        if not caught:
            survivors.append(bug.name)
    if any(b.native for b in bugs):
        build_copy()  # leave the copy's build unmutated
    print(f"{len(bugs) - len(survivors)} of {len(bugs)} seeded bugs caught"
          + (f"; survivors: {', '.join(survivors)}" if survivors else ""))
    sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()
