"""Import-to-ready per zoo model: the seconds from the import call to the
first result, each in a fresh process as a user's script meets it (torch's
exporters load their own modules on first use), with an empty compile
cache ("cold") and again in another fresh process with that cache filled
("cached"); through fc.from_pytorch, and through fc.from_onnx of the file
torch.onnx.export wrote (the export timed apart); beside ONNX Runtime's
session creation and first run on the same file. Every first result is
checked against torch eager's. The Python modules a path loads on first
use (torch.export's, onnx) are loaded and timed before the call, and
torch.export's own share of fc.from_pytorch is recorded: both are the
libraries' time, not the compiler's.

    python3 benchmarks/bench_import.py --out benchmarks/results/import.json
    python3 benchmarks/bench_import.py --models resnet18 hf_bert
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import RELATIVE_TOLERANCE, provenance, relative_error, write_result  # noqa: E402
import zoo  # noqa: E402

PATHS = ("from_pytorch", "from_onnx", "onnxruntime", "export")


def child(path: str, name: str, size: int, onnx_file: str) -> dict:
    """One measurement in this (fresh) process: seconds and the error of
    the first result against torch eager's."""
    warnings.simplefilter("ignore")
    import numpy as np
    import torch
    model, x = zoo.build(name, size, 1)
    with torch.no_grad():
        expected = model(x).numpy()
    xn = x.numpy()
    if path == "export":
        import torch.onnx  # noqa: F401 - its modules load inside the timing otherwise
        t0 = time.perf_counter()
        torch.onnx.export(model, (x,), dynamo=True, verbose=False).save(onnx_file)
        return {"seconds": time.perf_counter() - t0}
    if path == "onnxruntime":
        import onnxruntime as ort
        t0 = time.perf_counter()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(onnx_file, options, providers=["CPUExecutionProvider"])
        y = session.run(None, {session.get_inputs()[0].name: xn})[0]
    else:
        import flashcompile as fc
        # The libraries the path loads on first use, timed apart: Python
        # modules of torch.export or onnx, not work on this model.
        t0 = time.perf_counter()
        if path == "from_pytorch":
            import torch._functorch.aot_autograd  # noqa: F401
            import torch.export._trace  # noqa: F401
        else:
            import onnx  # noqa: F401
        libraries = time.perf_counter() - t0
        exported = [0.0]
        if path == "from_pytorch":  # torch.export's share of the call
            export = torch.export.export

            def timed_export(*a, **k):
                t = time.perf_counter()
                try:
                    return export(*a, **k)
                finally:
                    exported[0] += time.perf_counter() - t
            torch.export.export = timed_export
        t0 = time.perf_counter()
        if path == "from_pytorch":
            m = fc.from_pytorch(model, (x,))
        else:
            m = fc.from_onnx(onnx_file)
        y = m(xn)
        y = y[0] if isinstance(y, (list, tuple)) else y
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "libraries_s": libraries, "torch_export_s": exported[0],
                "error": relative_error(np.asarray(y), expected)}
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "error": relative_error(np.asarray(y), expected)}


def run_child(path, name, size, onnx_file, cache) -> dict:
    env = dict(os.environ, FLASH_CACHE_DIR=cache, FLASH_TUNING_DB="off",
               FLASH_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, __file__, "--child", path, "--models", name,
                           "--size", str(size), "--onnx-file", onnx_file],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1][:300] if done.stderr else
                f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=zoo.NAMES)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--out")
    parser.add_argument("--child", choices=PATHS)
    parser.add_argument("--onnx-file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.models[0], args.size, args.onnx_file)))
        return
    rows = []
    for name in args.models:
        work = tempfile.mkdtemp(prefix="flash-bench-import-")
        onnx_file = os.path.join(work, f"{name}.onnx")
        row = {"name": name, "export_s": run_child("export", name, args.size, onnx_file, work)}
        for path in ("from_pytorch", "from_onnx"):
            if path == "from_onnx" and not os.path.exists(onnx_file):
                row[path] = {"failed": "no ONNX file (export failed)"}
                continue
            cache = os.path.join(work, f"cache-{path}")
            row[path] = {"cold": run_child(path, name, args.size, onnx_file, cache),
                         "cached": run_child(path, name, args.size, onnx_file, cache)}
        if os.path.exists(onnx_file):
            row["onnxruntime"] = run_child("onnxruntime", name, args.size, onnx_file, work)
        shutil.rmtree(work, ignore_errors=True)
        rows.append(row)

        def s(d):
            return f"{d['seconds']:.2f}" if "seconds" in d else "failed"
        fp, fo = row["from_pytorch"], row.get("from_onnx", {})
        print(f"{name:20s} from_pytorch {s(fp['cold'])} s (cached {s(fp['cached'])})  "
              f"from_onnx {s(fo.get('cold', {}))} (cached {s(fo.get('cached', {}))})  "
              f"export {s(row['export_s'])}  onnxruntime {s(row.get('onnxruntime', {}))}",
              flush=True)
    result = {"provenance": provenance(), "image_size": args.size, "threads": 1,
              "check": f"first result against torch eager's, max |out - ref| / max |ref| "
                       f"<= {RELATIVE_TOLERANCE:g}",
              "note": "seconds from the import call to the first result, each in a fresh "
                      "process; cold: empty compile cache, cached: the cache the cold run "
                      "filled; export: torch.onnx.export alone",
              "rows": rows}
    if args.out:
        write_result(args.out, result)


if __name__ == "__main__":
    main()
