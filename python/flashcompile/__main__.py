"""Command line: python -m flashcompile COMMAND ...

  stages FILE            the stage names, in pipeline order
  ir FILE STAGE          the IR after STAGE (also llvm-ir, asm)
  dump FILE DIR          every stage to DIR/NN-<stage>.<ext>
  aot FILE DIR [--name]  lib<name>.so + <name>.h (see flashcompile.aot)
  devices                the device database
  simulate FILE [--device D] [--dtype T] [--plot PNG] [--roofline PNG] [--json]
                         predicted time per kernel on device D (default: host)
  compare FILE [--devices D1,D2,...] [--dtype T] [--plot PNG]
                         every device (or the listed ones), fastest first
  place FILE --devices D1,D2,... [--link A:B:GBPS ...]
                         the fastest assignment of kernels to devices
  calibrate              measure this machine again (peak, bandwidth, caches)
  analyze FILE [--json] [--roofline PNG]
                         instruction mix, loops (llvm-mca), roofline, findings
  tune FILE [--budget S] [--db PATH] [--workers N] [--ray ADDRESS|local] [--json]
                         tune every matmul/conv of FILE (.mlir or .onnx) into
                         the tuning database (default ~/.cache/flashcompile/tuning.db)
  tune --export OUT | --merge IN [--db PATH]
                         ship a tuning database as JSON lines, or merge one in

FILE is a .mlir file of Flash IR or an .onnx model (imported with
fc.from_onnx). --options passes pipeline options (flash-opt syntax, e.g.
ukernels=false).
"""
from __future__ import annotations

import argparse
import json
import sys

from .aot import export_library
from .compiled import compile_mlir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashcompile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["stages", "ir", "dump", "aot", "devices", "simulate",
                                            "compare", "place", "calibrate", "analyze", "tune"])
    parser.add_argument("file", nargs="?")
    parser.add_argument("target", nargs="?", help="stage (ir) or folder (dump, aot)")
    parser.add_argument("--entry", default=None)
    parser.add_argument("--name", default=None, help="library name (aot)")
    parser.add_argument("--options", default="")
    parser.add_argument("--device", default="host")
    parser.add_argument("--devices", default=None)
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--link", action="append", default=[])
    parser.add_argument("--plot", default=None)
    parser.add_argument("--roofline", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds (tune)")
    parser.add_argument("--db", default=None, help="tuning database path (tune)")
    parser.add_argument("--workers", type=int, default=None, help="measurement processes (tune)")
    parser.add_argument("--ray", default=None, help="Ray address, or 'local' (tune)")
    parser.add_argument("--top-k", type=int, default=24, help="candidates per op (tune)")
    parser.add_argument("--export", default=None, help="write the database as JSON lines (tune)")
    parser.add_argument("--merge", default=None, help="merge a database or export (tune)")
    args = parser.parse_args(argv)
    if args.command in ("devices", "calibrate"):
        return _devices(args)
    if args.command == "tune" and (args.export or args.merge):
        return _tune_db(args)
    if args.file is None:
        parser.error(f"{args.command} needs a FILE")
    try:
        source = open(args.file, "rb").read().decode("utf-8", "replace") \
            if not args.file.endswith(".onnx") else None
    except OSError as e:
        print(f"flashcompile: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        if args.command == "tune":
            return _tune(args, source)
        compiled = _compiled(args, source)
        if args.command in ("simulate", "compare", "place"):
            return _simulate(args, compiled)
        if args.command == "analyze":
            from .analysis import analyze
            report = analyze(compiled, roofline_png=args.roofline)
            print(report.to_json() if args.json else report)
            return 0
        if args.command == "stages":
            print("\n".join(compiled.stages))
        elif args.target is None:
            parser.error(f"{args.command} needs a {'stage' if args.command == 'ir' else 'folder'}")
        elif args.command == "ir":
            sys.stdout.write(compiled.ir(args.target))
        elif args.command == "dump":
            print("\n".join(compiled.dump(args.target)))
        else:
            for kind, path in export_library(compiled, args.target, args.name).items():
                print(f"{kind}: {path}")
    except (ValueError, RuntimeError, KeyError) as e:
        print(f"flashcompile: {e}", file=sys.stderr)
        return 1
    return 0


def _compiled(args, source):
    """FILE compiled: an .onnx model through fc.from_onnx, else Flash IR."""
    if args.file.endswith(".onnx"):
        from .importers.onnx import from_onnx
        return from_onnx(args.file, options=args.options).compiled
    return compile_mlir(source, args.entry, args.file, args.options)


def _tune(args, source) -> int:
    from .tuning import tune
    report = tune(_compiled(args, source), budget=args.budget, db=args.db, workers=args.workers,
                  cluster=args.ray, top_k=args.top_k, progress=not args.json)
    print(json.dumps(report.to_json(), indent=1) if args.json else report.table())
    return 0


def _tune_db(args) -> int:
    from .tuning import TuningDatabase
    db = TuningDatabase(args.db)
    if args.export:
        print(f"exported {db.export(args.export)} entries to {args.export}")
    if args.merge:
        print(f"merged {db.merge(args.merge)} entries from {args.merge} into {db.path}")
    return 0


def _devices(args) -> int:
    from .sim import devices
    if args.command == "calibrate":
        host = devices.host(recalibrate=True)
        print(json.dumps(host.measured, indent=1))
        return 0
    print(f"{'name':<20} {'kind':<4} {'fp32':>7} {'bf16':>7} {'int8':>7} {'GB/s':>7} {'GB':>5}  display")
    for d in devices:
        p = d.peak_tflops
        cell = lambda v: f"{v:>7.1f}" if v else f"{'-':>7}"  # noqa: E731
        print(f"{d.name:<20} {d.kind:<4} {cell(p.get('fp32'))} {cell(p.get('bf16'))} "
              f"{cell(p.get('int8'))} {d.memory_gbs:>7.0f} {d.memory_gb:>5.0f}  {d.display}")
    return 0


def _simulate(args, compiled) -> int:
    from .sim import Link, compare_devices, comparison_table, place, plot_comparison, \
        plot_roofline, simulate
    if args.command == "simulate":
        result = simulate(compiled, args.device, args.dtype)
        print(json.dumps(result.to_dict(), indent=1) if args.json else result.table())
        if args.roofline:
            print(f"roofline: {plot_roofline(result, args.roofline)}")
        if args.plot:
            print(f"plot: {plot_comparison([result], args.plot)}")
        return 0
    names = args.devices.split(",") if args.devices else None
    if args.command == "compare":
        results = compare_devices(compiled, names, args.dtype)
        print(json.dumps([r.to_dict() for r in results], indent=1) if args.json
              else comparison_table(results))
        if args.plot:
            print(f"plot: {plot_comparison(results, args.plot)}")
        return 0
    if not names:
        raise ValueError("place needs --devices D1,D2,...")
    links = []
    for spec in args.link:
        a, b, gbs = spec.rsplit(":", 2)
        links.append(Link(a, b, float(gbs)))
    print(place(compiled, names, links, args.dtype).table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
