"""The numbers in README.md and docs/ against the committed result files
(benchmarks/gen_docs.py): a figure that differs from what its file gives,
or a performance figure written by hand, fails here."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import gen_docs  # noqa: E402

MEASURED_HERE = ["bench-1t", "bench-2t", "peak", "imported-1t", "imported-2t", "tuning",
                 "overhead", "ablation-zoo", "depthwise", "gpu", "multidevice",
                 "differential", "fuzz"] + \
    sorted(f"sim-validation-host/{f[:-5]}" for f in os.listdir(
        os.path.join(ROOT, "benchmarks", "results", "sim-validation-host")) if f.endswith(".json"))


@pytest.mark.parametrize("doc", gen_docs.DOCS)
def test_doc_matches_its_result_files(doc):
    text = open(os.path.join(ROOT, doc)).read()
    rendered = gen_docs.render(text)
    if rendered != text:
        old, new = text.splitlines(), rendered.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        pytest.fail(f"{doc}:{first + 1} differs from the result files "
                    f"(run python3 benchmarks/gen_docs.py --write):\n"
                    f"  doc:     {old[first] if first < len(old) else '<end>'}\n"
                    f"  results: {new[first] if first < len(new) else '<end>'}")


@pytest.mark.parametrize("doc", gen_docs.DOCS)
def test_no_hand_written_performance_figures(doc):
    found = gen_docs.unmarked_numbers(open(os.path.join(ROOT, doc)).read())
    assert not found, (f"{doc}: figures outside a <!-- gen --> marker or a labelled "
                       f"<!-- history --> block:\n" + "\n".join(f"  {i}: {l}" for i, l in found))


def test_the_check_sees_a_changed_figure():
    """The check itself can fail: a figure edited by hand is caught."""
    doc = open(os.path.join(ROOT, "docs", "performance.md")).read()
    start = doc.index("<!-- gen: peak_line() -->") + len("<!-- gen: peak_line() -->")
    tampered = doc[:start] + "9" + doc[start:]
    assert gen_docs.render(tampered) != tampered
    assert gen_docs.unmarked_numbers("matmul runs at 1.5x NumPy here") != []
    assert gen_docs.unmarked_numbers("<!-- history -->was 1.5x<!-- /history -->, a 6x16 tile") == []


@pytest.mark.parametrize("name", MEASURED_HERE)
def test_result_files_say_where_and_when(name):
    """Each result measured on this machine kind records its commit, date
    and machine, and the commit is one of this repository's."""
    p = gen_docs.result(name).get("provenance")
    assert p, f"benchmarks/results/{name}.json has no provenance: re-run its benchmark"
    assert p["date"] and p["machine"]["cpu"] and p["machine"]["cores"]
    known = subprocess.run(["git", "-C", ROOT, "cat-file", "-e", p["commit"] + "^{commit}"],
                           capture_output=True)
    if subprocess.run(["git", "-C", ROOT, "rev-parse"], capture_output=True).returncode == 0:
        assert known.returncode == 0, f"{name}: commit {p['commit']} is not in this repository"
