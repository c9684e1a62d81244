"""The Python package's structure (docs/architecture.md): its modules import
each other in one direction only, IR is never read back as text with
regular expressions, and each host fact has one home.

The import graph is built with the standard library's `ast` from every
`import` in the package, the ones inside functions included (a local
import that closes a circle is still a circle, only a deferred one).
"""
import ast
import os
import re

import pytest

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "..", "python", "flashcompile")
PACKAGE = os.path.normpath(PACKAGE)


def _modules() -> dict:
    """{dotted module name: path} of every .py file in the package."""
    out = {}
    for folder, _, files in os.walk(PACKAGE):
        for f in files:
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, f), os.path.dirname(PACKAGE))
            parts = rel[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = os.path.join(folder, f)
    out["flashcompile._flashcompile"] = "<native>"  # the C++ module: imports nothing
    return out


def _is_package(name: str, path: str) -> bool:
    return path.endswith("__init__.py")


def import_graph() -> dict:
    """{module: set of package modules it imports}. Importing a.b.c from
    outside package a.b also runs a.b's __init__ (an edge to it), but never
    the root's: every module runs inside the root package, which is the
    public facade importing everything, and no module may import it."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        if path == "<native>":
            continue
        package = name if _is_package(name, path) else name.rsplit(".", 1)[0]
        tree = ast.parse(open(path).read(), path)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.append(sub if sub in modules else source)
            for target in targets:
                if target not in modules or target == name:
                    continue
                graph[name].add(target)
                # The packages the import runs on the way (not the importer's own).
                parts = target.split(".")
                for i in range(2, len(parts)):
                    parent = ".".join(parts[:i])
                    if parent in modules and not name.startswith(parent + ".") and parent != name:
                        graph[name].add(parent)
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 30 and graph["flashcompile.ops"]  # the graph was read
    found = cycles(graph)
    assert not found, "import cycles (who imports whom: docs/architecture.md):\n" + \
        "\n".join(" <-> ".join(c) for c in found)


def test_the_cycle_check_can_fail():
    """The check itself sees a circle, a deferred one and one through a
    package's __init__."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_the_package_facade():
    """`from .. import compile_mlir` runs flashcompile/__init__.py, which
    imports every module: the circle the layering forbids."""
    graph = import_graph()
    offenders = sorted(m for m, deps in graph.items() if "flashcompile" in deps
                       and m not in ("flashcompile.__main__",))
    assert not offenders


# The layers, bottom up (docs/architecture.md): a module may import its own
# layer's modules and those below, never above.
LAYERS = [
    ["_flashcompile", "_version"],
    ["host", "sgemm", "logs", "progress", "gpu"],
    ["tuned", "aot", "compiled"],
    ["tracing", "eager", "ops"],
    ["jit", "nn", "sim", "importers", "analysis", "tuning", "multidevice", "check"],
    ["__main__", ""],  # "" is the package facade, flashcompile/__init__.py
]


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def test_modules_import_downwards_only():
    upward = [(m, d) for m, deps in import_graph().items() for d in deps
              if _layer(d) > _layer(m)]
    assert not upward, f"imports of a higher layer: {upward}"


def test_the_simulator_is_layered_one_way():
    """device <- calibrate <- registry <- memory <- model <- simulate <- placement."""
    order = ["device", "calibrate", "registry", "memory", "model", "simulate", "placement"]
    graph = import_graph()
    for i, low in enumerate(order):
        for high in order[i + 1:]:
            assert f"flashcompile.sim.{high}" not in graph[f"flashcompile.sim.{low}"], \
                f"sim.{low} imports sim.{high}"


def _sources() -> dict:
    return {name: open(path).read() for name, path in _modules().items() if path != "<native>"}


def test_no_regular_expressions_over_ir_text():
    """Tunable ops, their shapes and parameters come from the native module
    as data; the only regular expressions left read LLVM tools' reports
    (llc, llvm-objdump, llvm-mca, ptxas, llvm-readelf) and device names."""
    users = sorted(name for name, text in _sources().items()
                   if re.search(r"^\s*import re$|^\s*from re import", text, re.M))
    assert users == ["flashcompile.analysis.report", "flashcompile.gpu.kernels",
                     "flashcompile.sim.registry"]
    for name in users:
        for pattern in re.findall(r're\.\w+\(r?"([^"]*)"', _sources()[name]):
            assert "flash\\." not in pattern and "tensor<" not in pattern and \
                "array<" not in pattern, f"{name} reads IR with {pattern!r}"


@pytest.mark.parametrize("fact,home", [
    ("/proc/cpuinfo", "flashcompile.host"),
    ("/usr/lib/llvm-22", "flashcompile.host"),
    # The rule is the native CompileCache::folder(); host.py only names it.
    ("FLASH_CACHE_DIR", "flashcompile.host"),
    ("XDG_CACHE_HOME", "flashcompile.host"),
    ("hashlib.sha256(head", None),   # the compiler's id is the native build id
])
def test_each_host_fact_has_one_home(fact, home):
    holders = sorted(name for name, text in _sources().items() if fact in text)
    assert holders == ([home] if home else []), f"{fact!r} appears in {holders}"


def test_models_read_the_runtime_rules():
    """The tuner's and the simulator's models take the work split, the
    packing rule and the pipeline's thresholds from the runtime, and do not
    restate the split's stripe arithmetic."""
    sources = _sources()
    for name in ("flashcompile.tuning.cost_model", "flashcompile.sim.model",
                 "flashcompile.tuning.space"):
        assert "sgemm.split(" in sources[name], name
        assert "math.ceil(n / tasks)" not in sources[name]
        assert "split_columns" not in sources[name]
    assert "65536" not in sources["flashcompile.sim.model"]
