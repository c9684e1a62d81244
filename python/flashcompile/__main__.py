"""flashcompile: FlashCompile's command line (also `python -m flashcompile`).

  flashcompile stages FILE            the stage names, in pipeline order
  flashcompile ir FILE STAGE          the IR after STAGE (also llvm-ir, asm)
  flashcompile dump FILE DIR          every stage to DIR/NN-<stage>.<ext>
  flashcompile aot FILE DIR [--name]  lib<name>.so + <name>.h (flashcompile.aot)
  flashcompile compile FILE --target T --out DIR
                                      compile for a target (host, vulkan, nvidia-sm80,
                                      nvidia-sm90, amd-gfx90a, amd-gfx942): the kernel
                                      table, and the device code, listings, host code
                                      and a launcher in DIR (docs/gpu.md)
  flashcompile export FILE --format stablehlo|onnx --out PATH
                                      the traced graph of an .onnx FILE as StableHLO (for
                                      XLA/IREE: CPU, GPU, TPU) or ONNX (docs/multi-device.md)
  flashcompile targets                the targets
  flashcompile devices                the device database
  flashcompile simulate FILE [--device D] [--dtype T] [--plot PNG] [--roofline PNG] [--json]
  flashcompile compare FILE [--devices D1,D2,...] [--dtype T] [--plot PNG]
  flashcompile place FILE --devices D1,D2,... [--link A:B:GBPS ...]
  flashcompile calibrate              measure this machine again (peak, bandwidth, caches)
  flashcompile cache [--stats|--clear]
                                      the on-disk compile cache: folder, entries, size and
                                      limit (FLASH_CACHE_MAX_SIZE), or remove its entries
  flashcompile analyze FILE [--json] [--roofline PNG]
  flashcompile tune FILE [--budget S] [--db PATH] [--workers N] [--ray ADDRESS|local]
  flashcompile tune --export OUT | --merge IN [--db PATH]

FILE is a .mlir file of Flash IR or an .onnx model (imported with
fc.from_onnx). `flashcompile COMMAND --help` describes each command. Exit
status: 0 on success, 1 when the input is refused (the message names the
op, the shapes or the file), 2 for a wrong command line.
"""
from __future__ import annotations

import argparse
import json
import sys

from ._version import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flashcompile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"flashcompile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help, file=True, file_needed=True):
        p = sub.add_parser(name, help=help, description=help)
        if file:
            p.add_argument("file", metavar="FILE", nargs=None if file_needed else "?",
                           help="Flash IR (.mlir) or an ONNX model (.onnx)")
            p.add_argument("--entry", default=None, help="the function to compile (.mlir)")
            p.add_argument("--options", default="",
                           help="pipeline options, flash-opt syntax (e.g. ukernels=false)")
            p.add_argument("--target", dest="device_target", default="host",
                           help="what to compile for (see `flashcompile targets`)")
        return p

    command("stages", "print the stage names, in pipeline order")
    command("ir", "print the IR after one stage").add_argument(
        "target", metavar="STAGE", help="a stage name (see `stages`), llvm-ir or asm")
    command("dump", "write every stage's IR to a folder").add_argument(
        "target", metavar="DIR", help="the folder (DIR/NN-<stage>.<ext>)")
    aot = command("aot", "export a C-callable shared library and its header")
    aot.add_argument("target", metavar="DIR", help="the folder for lib<name>.so and <name>.h")
    aot.add_argument("--name", default=None, help="the library's name")
    compile_ = command("compile", "compile for a target; print its kernel table and "
                                  "write its code to --out")
    compile_.add_argument("--out", default=None, help="the folder for the exported code")
    compile_.add_argument("--name", default=None, help="the files' base name")
    export = command("export", "write the traced graph of an .onnx FILE as StableHLO "
                               "(XLA, IREE) or ONNX")
    export.add_argument("--format", choices=("stablehlo", "onnx"), default="stablehlo")
    export.add_argument("--out", required=True, help="the file to write (.mlir or .onnx)")
    command("targets", "list the targets", file=False)
    command("devices", "list the device database", file=False)
    command("calibrate", "measure this machine again (peak, bandwidth, caches)", file=False)
    cache = command("cache", "the on-disk compile cache: its folder, entries and size limit",
                    file=False)
    cache.add_argument("--stats", action="store_true", help="show it (the default)")
    cache.add_argument("--clear", action="store_true", help="remove every entry")
    for name, help in (("simulate", "predicted time per kernel on one device"),
                       ("compare", "predicted time on every device (or the listed ones)"),
                       ("place", "the fastest assignment of kernels to devices")):
        p = command(name, help)
        p.add_argument("--device", default="host", help="a device name (simulate)")
        p.add_argument("--devices", default=None, help="D1,D2,... (compare, place)")
        p.add_argument("--dtype", default="fp32")
        p.add_argument("--link", action="append", default=[],
                       help="A:B:GBPS, a link between two devices (place)")
        p.add_argument("--plot", default=None, help="a PNG of the comparison")
        p.add_argument("--roofline", default=None, help="a PNG roofline (simulate)")
        p.add_argument("--json", action="store_true")
    analyze = command("analyze", "instruction mix, loops (llvm-mca), roofline, findings")
    analyze.add_argument("--roofline", default=None, help="a PNG roofline")
    analyze.add_argument("--json", action="store_true")
    tune = command("tune", "tune every matmul/conv of FILE into the tuning database, "
                           "or export/merge a database", file_needed=False)
    tune.add_argument("--budget", type=float, default=60.0, help="seconds")
    tune.add_argument("--db", default=None,
                      help="tuning database (default ~/.cache/flashcompile/tuning.db)")
    tune.add_argument("--workers", type=int, default=None, help="measurement processes")
    tune.add_argument("--ray", default=None, help="Ray address, or 'local'")
    tune.add_argument("--top-k", type=int, default=24, help="candidates per op")
    tune.add_argument("--json", action="store_true")
    tune.add_argument("--export", default=None, help="write the database as JSON lines")
    tune.add_argument("--merge", default=None, help="merge a database or an export in")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in ("devices", "calibrate"):
        return _devices(args)
    if args.command == "cache":
        return _cache(args)
    if args.command == "targets":
        from .compiled import targets
        for t in targets():
            runs = "runs here" if t["runs_here"] else "build and inspect"
            print(f"{t['name']:<12} {t['kind']:<7} {runs:<17} {t['description']}")
        return 0
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
        elif args.command == "stages":
            print("\n".join(compiled.stages))
        elif args.command == "ir":
            sys.stdout.write(compiled.ir(args.target))
        elif args.command == "dump":
            print("\n".join(compiled.dump(args.target)))
        elif args.command == "compile":
            return _compile(args, compiled)
        elif args.command == "export":
            return _export(args, compiled)
        else:
            from .aot import export_library
            for kind, path in export_library(compiled, args.target, args.name).items():
                print(f"{kind}: {path}")
    except (ValueError, RuntimeError, KeyError) as e:
        print(f"flashcompile: {e}", file=sys.stderr)
        return 1
    return 0


def _cache(args) -> int:
    """`cache`: the compile cache's state, or clear it."""
    from . import _flashcompile as native
    if args.clear:
        print(f"removed {native.clear_compile_cache()} entries")
    info = native.compile_cache_info()
    state = "enabled" if info["enabled"] else f"disabled ({info['why_disabled'] or 'off'})"
    print(f"folder:  {info['folder']}\nstate:   {state}\nentries: {info['entries']}\n"
          f"size:    {info['bytes'] / 2**20:.1f} MiB of {info['max_bytes'] / 2**20:.0f} MiB "
          f"(FLASH_CACHE_MAX_SIZE)")
    return 0


def _compiled(args, source):
    """FILE compiled: an .onnx model through fc.from_onnx, else Flash IR."""
    if args.file.endswith(".onnx"):
        from .importers.onnx import from_onnx
        return from_onnx(args.file, options=args.options, target=args.device_target).compiled
    if args.command == "export":
        raise ValueError(f"export: {args.file} is Flash IR; export writes a traced graph, so "
                         f"FILE must be an .onnx model (from Python: fc.export_stablehlo "
                         f"on an fc.compile / fc.from_pytorch result)")
    from .compiled import compile_mlir
    return compile_mlir(source, args.entry, args.file, args.options,
                        target=args.device_target)


def _compile(args, compiled) -> int:
    """`compile`: the kernel table (GPU targets), then the export."""
    if compiled.target != "host":
        from .gpu import format_table
        print(f"{compiled.entry} for {compiled.target}: {len(compiled.kernels)} kernel launches")
        print(format_table(compiled.kernels))
    if args.out:
        for kind, path in compiled.export_library(args.out, args.name).items():
            print(f"{kind}: {path}")
    return 0


def _export(args, compiled) -> int:
    """`export`: the traced graph as StableHLO or ONNX."""
    if args.format == "stablehlo":
        from .importers.stablehlo_export import export_stablehlo
        export_stablehlo(compiled, args.out)
    else:
        from .importers.onnx_export import export_onnx
        export_onnx(compiled, args.out)
    print(f"{args.format}: {args.out}")
    return 0


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
    from .multidevice import place
    from .sim import Link, compare_devices, comparison_table, plot_comparison, \
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
