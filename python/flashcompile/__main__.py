"""Command line: python -m flashcompile {stages,ir,dump,aot} FILE.mlir ...

  stages FILE            the stage names, in pipeline order
  ir FILE STAGE          the IR after STAGE (also llvm-ir, asm)
  dump FILE DIR          every stage to DIR/NN-<stage>.<ext>
  aot FILE DIR [--name]  lib<name>.so + <name>.h (see flashcompile.aot)

--options passes pipeline options (flash-opt syntax, e.g. ukernels=false).
"""
from __future__ import annotations

import argparse
import sys

from .aot import export_library
from .compiled import compile_mlir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashcompile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["stages", "ir", "dump", "aot"])
    parser.add_argument("file")
    parser.add_argument("target", nargs="?", help="stage (ir) or folder (dump, aot)")
    parser.add_argument("--entry", default=None)
    parser.add_argument("--name", default=None, help="library name (aot)")
    parser.add_argument("--options", default="")
    args = parser.parse_args(argv)
    try:
        source = open(args.file).read()
    except OSError as e:
        print(f"flashcompile: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        compiled = compile_mlir(source, args.entry, args.file, args.options)
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
    except (ValueError, RuntimeError) as e:
        print(f"flashcompile: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
